import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multi-file outputs (weights, trace sets) written all or nothing: the files go into a
/// temporary directory `<dir>.<pid>-<n>.sift-partial` beside the target, each flushed to
/// disk, and the directory is renamed into place. A reader sees the old set or the new
/// one, never a mix of two runs.
///
/// Every such directory holds a `manifest.json` naming sift as its writer. An existing
/// target is replaced only if it is an empty directory or one sift wrote (it has that
/// manifest); anything else (a directory of other files, a symbolic link, a regular file,
/// a device) is refused, so `--out ~` can never wipe a home directory.
public enum SafeDirectory {
    public static let manifestName = "manifest.json"
    /// The `tool` value of every manifest sift writes.
    public static let tool = "sift"

    /// Refuses `directory` as a multi-file output unless it does not exist yet, or is an
    /// empty directory, or one sift wrote. Commands call this before any long work.
    public static func checkOutput(_ directory: String) throws(SiftCoreError) {
        let path = trimmed(directory)
        guard !path.isEmpty else { throw .io("no output directory given") }
        guard let kind = try SafeFile.kindOfExisting(path) else { return }
        guard kind == .directory else {
            throw .io("refusing to write into \(path): it is \(kind.phrase), and a directory is expected")
        }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            throw .io("cannot list the directory \(path): permission denied or unreadable")
        }
        if entries.isEmpty || wasWrittenBySift(path) { return }
        throw .io("refusing to replace \(path): it exists and was not written by sift (no sift \(manifestName)); remove it or choose a new directory")
    }

    /// True when `directory/manifest.json` is a JSON object whose `tool` is "sift".
    public static func wasWrittenBySift(_ directory: String) -> Bool {
        guard let bytes = try? SafeFile.read("\(trimmed(directory))/\(manifestName)"),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return false }
        return object["tool"] as? String == tool
    }

    /// Writes `files` (plain names, no directories) and `manifest` (a JSON object with
    /// `"tool": "sift"`, written as `manifest.json`) as the directory `directory`, whole
    /// or not at all, replacing an earlier sift output there. Missing parent directories
    /// are created.
    public static func write(_ files: [String: [UInt8]], manifest: [UInt8], to directory: String) throws(SiftCoreError) {
        let path = trimmed(directory)
        try checkOutput(path)
        for name in files.keys where name.isEmpty || name.contains("/") || name == "." || name == ".." || name == manifestName {
            throw .invalidArgument("cannot write a file named '\(name)' into an output directory")
        }
        let parent = SafeFile.parentDirectory(of: path)
        try SafeFile.makeDirectories(parent)
        let temporary = PartialOutputs.temporaryName(for: path)
        PartialOutputs.register(temporary)
        defer { PartialOutputs.unregister(temporary) }
        do throws(SiftCoreError) {
            guard mkdir(temporary, 0o777) == 0 else { throw .io("cannot create \(temporary): \(SafeFile.systemError())") }
            for (name, bytes) in files.sorted(by: { $0.key < $1.key }) {
                try SafeFile.writeNew(bytes, to: "\(temporary)/\(name)")
            }
            try SafeFile.writeNew(manifest, to: "\(temporary)/\(manifestName)")
            SafeFile.syncDirectory(temporary)
            try PartialOutputs.writing { () throws(SiftCoreError) in try moveIntoPlace(temporary, path) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        SafeFile.syncDirectory(parent)
    }

    /// Renames the finished directory over the target. An earlier sift output is moved
    /// aside first and removed after: a kill between the two renames leaves no target
    /// and two complete sets, never a mix.
    private static func moveIntoPlace(_ temporary: String, _ path: String) throws(SiftCoreError) {
        try checkOutput(path)
        guard try SafeFile.kindOfExisting(path) != nil else {
            guard rename(temporary, path) == 0 else { throw .io("cannot write \(path): \(SafeFile.systemError())") }
            return
        }
        let previous = PartialOutputs.temporaryName(for: path).replacingOccurrences(of: ".sift-partial", with: ".sift-replaced")
        guard rename(path, previous) == 0 else { throw .io("cannot replace \(path): \(SafeFile.systemError())") }
        guard rename(temporary, path) == 0 else {
            let message = SafeFile.systemError()
            rename(previous, path)
            throw .io("cannot replace \(path): \(message)")
        }
        try? FileManager.default.removeItem(atPath: previous)
    }

    private static func trimmed(_ path: String) -> String {
        var result = path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
