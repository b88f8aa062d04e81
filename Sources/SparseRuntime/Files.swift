import Foundation

/// Complete-or-absent file writes: the data goes to a temporary file in the target's
/// directory, which is then renamed over the target. An existing target that is not a
/// regular file (a symlink, directory, device or FIFO) is refused.
/// (The shared writer of SiftCore replaces this once it lands.)
enum AtomicFile {
    static func write(_ data: Data, to path: String, createDirectory: Bool = false) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        if createDirectory {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw RuntimeError.io("cannot create the directory \(directory): \(error.localizedDescription)")
            }
        }
        try refuseNonRegular(path)
        let temporary = "\(directory)/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw RuntimeError.io("cannot write \(temporary) (next to \(path))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw RuntimeError.io("cannot rename \(temporary) to \(path): \(reason)")
        }
    }

    /// Refuses an existing path that is not a regular file (lstat: symlinks are not followed).
    static func refuseNonRegular(_ path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }  // absent: fine
        let type = status.st_mode & S_IFMT
        guard type == S_IFREG else {
            let what = type == S_IFLNK ? "a symbolic link" : type == S_IFDIR ? "a directory" : type == S_IFIFO ? "a FIFO" : "not a regular file"
            throw RuntimeError.io("\(path) is \(what); refusing to replace it")
        }
    }
}

/// The CLI's view of `AtomicFile` (until SiftCore's shared writer lands).
public enum AtomicOutput {
    public static func write(_ data: Data, to path: String) throws { try AtomicFile.write(data, to: path) }
    public static func refuseNonRegular(_ path: String) throws { try AtomicFile.refuseNonRegular(path) }
}
