import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files and directories of outputs being written, so an interrupted run
/// leaves none behind. Their names end in `.sift-partial` and carry the process id, so
/// even one left by SIGKILL says what it is and never looks like data.
public enum PartialOutputs {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: Set<String> = []
    nonisolated(unsafe) private static var counter = 0
    nonisolated(unsafe) private static var signalSources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var terminating = false
    /// Held while one file is written or renamed, and taken for good by the signal
    /// handler before it deletes: the handler then never races a file being created in a
    /// directory it is removing, and the writer stops at its next file.
    private static let writeLock = NSLock()

    /// `<path>.<pid>-<n>.sift-partial`: beside the target, so the final rename stays in one
    /// file system, and unique within the process.
    static func temporaryName(for path: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        counter += 1
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return "\(trimmed).\(getpid())-\(counter).sift-partial"
    }

    static func register(_ path: String) {
        lock.lock()
        paths.insert(path)
        lock.unlock()
    }

    static func unregister(_ path: String) {
        lock.lock()
        paths.remove(path)
        lock.unlock()
    }

    /// Removes every registered partial output (files, or directories with their content).
    static func removeAll() {
        lock.lock()
        let pending = paths
        paths.removeAll()
        lock.unlock()
        for path in pending { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Makes SIGINT, SIGTERM and SIGHUP remove the partial outputs, then end the process
    /// with the shell's status for that signal (128 + the signal number: 130, 143, 129).
    /// Call once, early in `main`.
    public static func removeOnTermination() {
        lock.lock()
        defer { lock.unlock() }
        guard signalSources.isEmpty else { return }
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                lock.lock()
                terminating = true
                lock.unlock()
                writeLock.lock()
                removeAll()
                // Not a re-raise: on Linux the dispatch source owns the signal's handler.
                _exit(128 + signalNumber)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Runs one step of writing an output (creating a file, a rename) so that a termination
    /// signal waits for it, then removes everything; after the signal the caller blocks
    /// until the handler ends the process.
    static func writing<T>(_ body: () throws(SiftCoreError) -> T) throws(SiftCoreError) -> T {
        writeLock.lock()
        defer { writeLock.unlock() }
        return try body()
    }

    /// Called on a command's error path: while a termination signal is being handled, the
    /// handler deletes the partial outputs under the writer's feet, so the write fails; the
    /// process must then end with the signal's status, not report that failure as an error.
    /// Blocks forever in that case (the handler's `_exit` ends the process).
    public static func yieldToTermination() {
        lock.lock()
        let dying = terminating
        lock.unlock()
        guard dying else { return }
        while true { pause() }
    }
}
