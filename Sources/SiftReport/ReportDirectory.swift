import Foundation
import SiftCore

/// A report folder, written all or nothing through SiftCore's `SafeDirectory` (BOARD
/// item 5): files are collected in memory as the report is made (a report is a few
/// megabytes at most) and written in one go by `commit`, into a temporary directory that
/// is renamed into place. The destination is checked when the folder is created, before
/// any long work: it must not exist, or be an empty directory, or a folder sift wrote
/// (which is replaced); anything else is refused.
public final class ReportDirectory {
    public let destination: String
    private var files: [String: [UInt8]] = [:]
    private var committed = false

    public init(destination path: String) throws(ReportError) {
        do { try SafeDirectory.checkOutput(path) } catch { throw .io(error.message) }
        destination = path
    }

    /// Adds one file (a plain name, no directories).
    public func write(_ name: String, _ text: String) throws(ReportError) {
        guard !committed else { throw .io("\(destination) is already written") }
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", name != SafeDirectory.manifestName else {
            throw .invalidArgument("'\(name)' is not a plain file name for a report")
        }
        files[name] = Array(text.utf8)
    }

    public func contains(_ name: String) -> Bool { files[name] != nil }

    /// Writes the folder with `manifest` as its manifest.json; returns its URL.
    @discardableResult
    public func commit(manifest: String) throws(ReportError) -> URL {
        do { try SafeDirectory.write(files, manifest: Array(manifest.utf8), to: destination) } catch { throw .io(error.message) }
        committed = true
        return URL(fileURLWithPath: destination).standardizedFileURL
    }
}
