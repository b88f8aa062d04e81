import Foundation
import SparseIFT

/// Writes a single output file completely or not at all: the bytes go to a temporary
/// file in the same directory, which is then renamed over the target. An existing target
/// that is not a regular file (a symlink, directory, FIFO or device) is refused, never
/// replaced. (Interim: `sift export` switches to SiftCore's shared writer when it lands.)
enum OutputFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            let kind: String? = switch info.st_mode & S_IFMT {
            case S_IFREG: nil
            case S_IFLNK: "a symbolic link"
            case S_IFDIR: "a directory"
            case S_IFIFO: "a FIFO"
            case S_IFCHR, S_IFBLK: "a device"
            default: "not a regular file"
            }
            if let kind { throw SparseIFTError.io("refusing to write \(path): it is \(kind)") }
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw SparseIFTError.io("cannot create a file next to \(path): \(String(cString: strerror(errno)))")
        }
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if failure == nil && rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw SparseIFTError.io("cannot write \(path): \(failure)")
        }
    }
}
