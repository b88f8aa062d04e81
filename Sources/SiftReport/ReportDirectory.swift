import Foundation

/// A multi-file output written all-or-nothing (BOARD item 5): files go into a hidden
/// staging directory beside the destination, which is renamed into place by `commit()`.
/// Until then the destination does not exist (or is the empty directory it was), so an
/// interrupted or failed report leaves no half-written folder. Ctrl-C removes the
/// staging directory too.
public final class ReportDirectory {
    public let destination: URL
    public let staging: URL
    private var committed = false

    /// Checks the destination and creates the staging directory. An existing destination
    /// is accepted only as an empty real directory; a symlink, a file, a device or a
    /// non-empty directory is refused. The parent must exist unless `createParent`.
    public init(destination path: String, createParent: Bool = false) throws(ReportError) {
        guard !path.isEmpty else { throw .invalidArgument("the output directory path is empty") }
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let manager = FileManager.default
        if let attributes = try? manager.attributesOfItem(atPath: url.path) {
            let type = attributes[.type] as? FileAttributeType
            guard type != .typeSymbolicLink else { throw .invalidArgument("\(url.path) is a symbolic link; refusing to write through it") }
            guard type == .typeDirectory else { throw .invalidArgument("\(url.path) exists and is not a directory") }
            let contents = (try? manager.contentsOfDirectory(atPath: url.path)) ?? ["?"]
            guard contents.isEmpty else {
                throw .invalidArgument("\(url.path) exists and is not empty; choose another --out or remove it")
            }
        }
        let parent = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        if !manager.fileExists(atPath: parent.path, isDirectory: &isDirectory) {
            guard createParent else { throw .invalidArgument("the parent directory \(parent.path) does not exist") }
            do { try manager.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
                throw .io("cannot create \(parent.path): \(error.localizedDescription)")
            }
        } else if !isDirectory.boolValue {
            throw .invalidArgument("\(parent.path) is not a directory")
        }
        destination = url
        staging = parent.appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        do { try manager.createDirectory(at: staging, withIntermediateDirectories: false) } catch {
            throw .io("cannot create a staging directory in \(parent.path): \(error.localizedDescription)")
        }
        StagingCleanup.shared.register(staging)
    }

    deinit {
        if !committed { discard() }
    }

    /// Writes one file (a plain name, no directories) into the staging directory.
    public func write(_ name: String, _ text: String) throws(ReportError) {
        try write(name, data: Data(text.utf8))
    }

    public func write(_ name: String, data: Data) throws(ReportError) {
        guard !committed else { throw .io("\(destination.path) is already committed") }
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw .invalidArgument("'\(name)' is not a plain file name")
        }
        do { try data.write(to: staging.appendingPathComponent(name)) } catch {
            throw .io("cannot write \(name) into \(staging.path): \(error.localizedDescription)")
        }
    }

    /// True when a file of that name has been written.
    public func contains(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: staging.appendingPathComponent(name).path)
    }

    /// Renames the staging directory into place. rename(2) replaces an empty directory
    /// atomically and refuses a non-empty one, so a destination that filled up meanwhile
    /// is not clobbered.
    @discardableResult
    public func commit() throws(ReportError) -> URL {
        guard !committed else { return destination }
        if rename(staging.path, destination.path) != 0 {
            let reason = String(cString: strerror(errno))
            throw .io("cannot move the report into \(destination.path): \(reason)")
        }
        committed = true
        StagingCleanup.shared.unregister(staging)
        return destination
    }

    /// Removes the staging directory and everything in it.
    public func discard() {
        try? FileManager.default.removeItem(at: staging)
        StagingCleanup.shared.unregister(staging)
    }
}

/// Removes registered staging directories when the process is interrupted (SIGINT,
/// SIGTERM), then exits with the conventional status 128 + signal.
final class StagingCleanup: @unchecked Sendable {
    static let shared = StagingCleanup()
    private let lock = NSLock()
    private var directories: Set<URL> = []
    private var sources: [DispatchSourceSignal] = []

    private init() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [unowned self] in
                lock.lock()
                let pending = directories
                lock.unlock()
                for directory in pending { try? FileManager.default.removeItem(at: directory) }
                FileHandle.standardError.write(Data("\ninterrupted: no report written\n".utf8))
                exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }

    func register(_ url: URL) {
        lock.lock()
        directories.insert(url)
        lock.unlock()
    }

    func unregister(_ url: URL) {
        lock.lock()
        directories.remove(url)
        lock.unlock()
    }
}
