#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing files so that nothing surprises: every output is complete or
/// absent, nothing but a regular file is ever replaced, and every refusal names its cause.
///
/// The rules (the README's "Files" section):
/// - An output file is written to a temporary `<name>.<pid>-<n>.sift-partial` in the
///   same directory, flushed to disk (`fsync`), then renamed over the target, so a reader
///   sees the old file or the new one, never a part. A failed write removes the
///   temporary; a run killed by SIGINT, SIGTERM or SIGHUP removes it too (see
///   `PartialOutputs`); only SIGKILL can leave one, and its name says what it is.
/// - An existing target must be a regular file (it is replaced). A symbolic link,
///   directory, FIFO, socket or device is refused: sift never writes through a link or
///   into a device, and never replaces one (`--out /dev/null` is an error, not a no-op).
/// - An input must be a regular file (a link to one is followed): a directory, FIFO,
///   socket or device is refused by name instead of blocking or failing obscurely.
public enum SafeFile {
    /// Largest file `read` loads (16 GiB: every float64 array the toolkit accepts).
    public static let maxReadBytes = SizeLimits.floats * 8 + (1 << 20)

    /// The whole content of a regular file of at most `maxBytes` bytes (checked before
    /// anything is read).
    public static func read(_ path: String, maxBytes: Int = maxReadBytes) throws(SiftCoreError) -> [UInt8] {
        guard !path.isEmpty else { throw .io("no file name given") }
        // O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot read \(path): \(systemError())") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .io("cannot read \(path): \(systemError())") }
        if let kind = FileKind(status.st_mode), kind != .regular {
            throw .io("cannot read \(path): it is \(kind.phrase), not a regular file")
        }
        let size = Int(status.st_size)
        guard size <= maxBytes else {
            throw .io("cannot read \(path): \(size) bytes is more than the \(maxBytes)-byte limit")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let count = bytes.withUnsafeMutableBytes { buffer in
                systemRead(fd, buffer.baseAddress! + offset, size - offset)
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .io("cannot read \(path): \(systemError())")
            }
            if count == 0 { throw .io("cannot read \(path): the file shrank while it was read") }
            offset += count
        }
        return bytes
    }

    /// Refuses `path` as an output file unless it does not exist yet (in an existing
    /// directory) or is a regular file. Commands call this before any long work, so a bad
    /// `--out` is refused before anything runs.
    public static func checkOutput(_ path: String) throws(SiftCoreError) {
        guard !path.isEmpty else { throw .io("no output file name given") }
        guard !path.hasSuffix("/") else { throw .io("cannot write \(path): it names a directory, a file is expected") }
        if let kind = try kindOfExisting(path) {
            guard kind == .regular else {
                throw .io("refusing to write \(path): it is \(kind.phrase); sift only replaces regular files (write to a regular path instead)")
            }
            return
        }
        let parent = parentDirectory(of: path)
        guard let parentKind = try kindOfExisting(parent, followingLinks: true) else {
            throw .io("cannot write \(path): the directory \(parent) does not exist")
        }
        guard parentKind == .directory else { throw .io("cannot write \(path): \(parent) is \(parentKind.phrase), not a directory") }
    }

    /// Writes `bytes` to `path` whole or not at all (see the type's rules).
    public static func write(_ bytes: [UInt8], to path: String) throws(SiftCoreError) {
        try checkOutput(path)
        let temporary = PartialOutputs.temporaryName(for: path)
        PartialOutputs.register(temporary)
        defer { PartialOutputs.unregister(temporary) }
        do throws(SiftCoreError) {
            try writeNew(bytes, to: temporary)
            try PartialOutputs.writing { () throws(SiftCoreError) in
                // Checked again just before the rename: the target may have changed meanwhile.
                try checkOutput(path)
                guard rename(temporary, path) == 0 else { throw .io("cannot write \(path): \(systemError())") }
            }
        } catch {
            unlink(temporary)
            throw error
        }
        syncDirectory(parentDirectory(of: path))
    }

    /// Writes `text` as UTF-8, whole or not at all.
    public static func write(_ text: String, to path: String) throws(SiftCoreError) {
        try write(Array(text.utf8), to: path)
    }

    /// Creates `path` (which must not exist), writes `bytes` and flushes them to disk.
    static func writeNew(_ bytes: [UInt8], to path: String) throws(SiftCoreError) {
        try PartialOutputs.writing { () throws(SiftCoreError) in try writeNewUnguarded(bytes, to: path) }
    }

    private static func writeNewUnguarded(_ bytes: [UInt8], to path: String) throws(SiftCoreError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw .io("cannot create \(path): \(systemError())") }
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                systemWrite(fd, buffer.baseAddress! + offset, bytes.count - offset)
            }
            if count < 0 {
                if errno == EINTR { continue }
                let message = systemError()
                close(fd)
                throw .io("cannot write \(path): \(message)")
            }
            offset += count
        }
        guard fsync(fd) == 0 else {
            let message = systemError()
            close(fd)
            throw .io("cannot write \(path): \(message)")
        }
        guard close(fd) == 0 else { throw .io("cannot write \(path): \(systemError())") }
    }

    /// What `path` is, or nil when nothing is there. Links are not followed unless asked.
    public static func kindOfExisting(_ path: String, followingLinks: Bool = false) throws(SiftCoreError) -> FileKind? {
        var status = stat()
        let result = followingLinks ? stat(path, &status) : lstat(path, &status)
        if result != 0 {
            if errno == ENOENT { return nil }
            throw .io("cannot inspect \(path): \(systemError())")
        }
        return FileKind(status.st_mode) ?? .other
    }

    /// Creates `path` and any missing parents (`mkdir -p`); an existing directory is fine,
    /// anything else in the way is refused by name.
    public static func makeDirectories(_ path: String) throws(SiftCoreError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/" + component
            if mkdir(prefix, 0o777) == 0 { continue }
            let failure = errno
            if let kind = try kindOfExisting(prefix, followingLinks: true) {
                guard kind == .directory else { throw .io("cannot create the directory \(path): \(prefix) is \(kind.phrase)") }
                continue
            }
            errno = failure
            throw .io("cannot create the directory \(prefix): \(systemError())")
        }
    }

    /// The directory part of a path ("." for a bare name).
    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    /// Flushes a directory's entries (the rename) to disk; best effort.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// The C library's text for the current `errno`.
    static func systemError() -> String {
        String(cString: strerror(errno))
    }
}

/// The kinds of file system entries the rules distinguish.
public enum FileKind: Equatable, Sendable {
    case regular, directory, symbolicLink, fifo, socket, characterDevice, blockDevice, other

    public init?(_ mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symbolicLink
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        default: return nil
        }
    }

    /// "a directory", "a FIFO (named pipe)": for messages.
    public var phrase: String {
        switch self {
        case .regular: "a regular file"
        case .directory: "a directory"
        case .symbolicLink: "a symbolic link"
        case .fifo: "a FIFO (named pipe)"
        case .socket: "a socket"
        case .characterDevice: "a character device"
        case .blockDevice: "a block device"
        case .other: "not a regular file"
        }
    }
}

// The C read and write, named apart from `SafeFile.read` / `SafeFile.write`.
#if canImport(Glibc)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { Glibc.read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, buffer, count) }
#elseif canImport(Darwin)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { Darwin.read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(fd, buffer, count) }
#endif
