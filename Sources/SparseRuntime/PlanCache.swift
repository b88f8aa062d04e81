import Foundation
import SparseKernels
import SiftCore

/// Kernel decisions kept between runs, like FFTW's wisdom: for each (machine, layer
/// shape, weight structure) the format chosen and the seconds each candidate took.
/// A later plan of a layer with the same key skips the timing.
///
/// The file (JSON) carries a format tag, a version and an FNV-1a checksum of its
/// entries. Anything unexpected (unreadable, not JSON, another format or version, a
/// checksum mismatch, an entry naming an unknown format or a non-positive time) makes
/// the whole file untrusted: a warning is recorded, no entry is used, and the next save
/// replaces it. Even a valid entry is only used when its format is among the layer's
/// candidates (the selector checks).
public final class PlanCache: @unchecked Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        /// The chosen format and kernel (`KernelCandidate.description`).
        public var choice: String
        /// Seconds per kernel call of every candidate timed, by candidate.
        public var seconds: [String: Double]
    }

    private struct File: Codable {
        var format: String
        var version: Int
        var entries: [String: Entry]
        var checksum: String
    }

    static let formatTag = "sift-plan-cache"
    static let version = 2

    /// Where the cache lives (nil: in memory only, nothing is read or written).
    public let path: String?
    /// Problems met while reading the file, for the caller to print.
    public private(set) var warnings: [String] = []
    private var entries: [String: Entry] = [:]
    private var changed = false
    private let lock = NSLock()

    /// Opens the cache at `path`, or an in-memory cache when `path` is nil.
    public init(path: String?) {
        self.path = path
        guard let path else { return }
        switch Self.read(path) {
        case .success(let loaded): entries = loaded
        case .failure(let reason):
            warnings.append("plan cache \(path) is not trusted (\(reason)); ignoring it, it will be rebuilt")
            changed = true
        }
    }

    /// `plans.json` in sift's cache directory (`CacheDirectory`, shared with the kernel tuning file).
    public static var defaultPath: String? {
        CacheDirectory.path(environment: ProcessInfo.processInfo.environment).map { $0 + "/plans.json" }
    }

    public var count: Int { lock.withLock { entries.count } }

    func lookup(_ key: String) -> Entry? { lock.withLock { entries[key] } }

    func record(_ key: String, _ entry: Entry) {
        lock.withLock {
            entries[key] = entry
            changed = true
        }
    }

    /// Writes the cache (complete or not at all) if anything changed, merged with the
    /// entries another process may have saved meanwhile (when that file is valid).
    public func save() throws {
        guard let path else { return }
        let snapshot: [String: Entry]? = lock.withLock {
            guard changed else { return nil }
            return entries
        }
        guard var merged = snapshot else { return }
        if case .success(let current) = Self.read(path) {
            merged = current.merging(merged) { _, new in new }
        }
        let file = File(format: Self.formatTag, version: Self.version, entries: merged, checksum: Self.checksum(merged))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data: Data
        do {
            data = try encoder.encode(file)
        } catch {
            throw RuntimeError.io("cannot encode the plan cache: \(error.localizedDescription)")
        }
        do {
            try SafeFile.makeDirectories(URL(fileURLWithPath: path).deletingLastPathComponent().path)
            try SafeFile.write(Array(data), to: path)
        } catch {
            throw RuntimeError.io(error.message)
        }
        lock.withLock { changed = false }
    }

    private enum ReadFailure: Error, CustomStringConvertible {
        case reason(String)
        var description: String {
            switch self { case .reason(let text): text }
        }
    }

    private static func read(_ path: String) -> Result<[String: Entry], ReadFailure> {
        let bytes: [UInt8]
        do {
            guard try SafeFile.kindOfExisting(path, followingLinks: true) != nil else { return .success([:]) }
            bytes = try SafeFile.read(path)
        } catch {
            return .failure(.reason(error.message))
        }
        let data = Data(bytes)
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            return .failure(.reason("not a plan cache file: \(error.localizedDescription)"))
        }
        guard file.format == formatTag, file.version == version else {
            return .failure(.reason("format \(file.format) version \(file.version), expected \(formatTag) version \(version)"))
        }
        guard file.checksum == checksum(file.entries) else { return .failure(.reason("checksum mismatch")) }
        for (key, entry) in file.entries {
            guard KernelCandidate(parsing: entry.choice) != nil, entry.seconds[entry.choice] != nil else {
                return .failure(.reason("entry \(key) names an unknown or untimed kernel \(entry.choice)"))
            }
            for (candidate, seconds) in entry.seconds where KernelCandidate(parsing: candidate) == nil || !(seconds > 0 && seconds.isFinite) {
                return .failure(.reason("entry \(key) has an invalid time \(seconds) for \(candidate)"))
            }
        }
        return .success(file.entries)
    }

    /// FNV-1a (64-bit) over a canonical text of the entries.
    static func checksum(_ entries: [String: Entry]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for key in entries.keys.sorted() {
            let entry = entries[key]!
            let times = entry.seconds.keys.sorted().map { "\($0)=\(entry.seconds[$0]!)" }.joined(separator: ",")
            for byte in "\(key)\t\(entry.choice)\t\(times)\n".utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }
}
