import Foundation
internal import CSparseKernels
import SiftCore

/// Blocking and kernel choices measured on one machine for one ISA and thread count (the
/// tuner's result, `KernelTuner`), in the spirit of FFTW's wisdom: searched once, kept in
/// a file, read by later runs.
public struct KernelTuning: Codable, Equatable, Sendable {
    /// What one record applies to: the CPU (its cpuid brand string), ISA, thread count.
    public struct Key: Codable, Hashable, Sendable, CustomStringConvertible {
        public var cpuModel: String
        public var isa: ISA
        public var threads: Int

        public init(cpuModel: String, isa: ISA, threads: Int) {
            self.cpuModel = cpuModel
            self.isa = isa
            self.threads = threads
        }

        /// This machine's key for these options.
        public init(_ options: ExecutionOptions) {
            self.init(cpuModel: Machine.cpuModel, isa: options.isa, threads: options.threads)
        }

        public var description: String { "\(cpuModel), \(isa), \(threads) thread(s)" }

        enum CodingKeys: String, CodingKey { case cpuModel = "cpu_model", isa, threads }
    }

    /// One kernel's tuned blocking and rank. The dispatch orders the kernels that can run a
    /// call by N range, then rank (higher first), then ISA and table order; nil blocking
    /// fields keep the kernel's default.
    public struct Kernel: Codable, Equatable, Sendable {
        public var name: String
        public var kBlock: Int?
        public var mBlock: Int?
        public var nBlock: Int?
        public var auxiliary: Int?
        public var prefetch: Int?
        public var rank: Int

        public init(name: String, blocking: KernelBlocking = .defaults, rank: Int = 0) {
            self.name = name
            kBlock = blocking.kBlock
            mBlock = blocking.mBlock
            nBlock = blocking.nBlock
            auxiliary = blocking.auxiliary
            prefetch = blocking.prefetch
            self.rank = rank
        }

        public var blocking: KernelBlocking {
            KernelBlocking(kBlock: kBlock, mBlock: mBlock, nBlock: nBlock, auxiliary: auxiliary, prefetch: prefetch)
        }

        enum CodingKeys: String, CodingKey {
            case name, rank, prefetch, kBlock = "k_block", mBlock = "m_block", nBlock = "n_block", auxiliary
        }
    }

    /// The CSR layout's K block by density (CSR fixes it when the matrix is prepared):
    /// `dense` for density >= `threshold`, `sparse` below.
    public struct CSRBlocks: Codable, Equatable, Sendable {
        public var threshold: Double
        public var dense: Int
        public var sparse: Int

        public init(threshold: Double, dense: Int, sparse: Int) {
            self.threshold = threshold
            self.dense = dense
            self.sparse = sparse
        }

        public func kBlock(density: Double) -> Int { density >= threshold ? dense : sparse }
    }

    public var key: Key
    /// When the search ran (ISO 8601) and how long it took.
    public var createdAt: String
    public var searchSeconds: Double
    public var kernels: [Kernel]
    public var csr: CSRBlocks?

    public init(key: Key, createdAt: String = ISO8601DateFormatter().string(from: Date()), searchSeconds: Double = 0,
                kernels: [Kernel] = [], csr: CSRBlocks? = nil) {
        self.key = key
        self.createdAt = createdAt
        self.searchSeconds = searchSeconds
        self.kernels = kernels
        self.csr = csr
    }

    enum CodingKeys: String, CodingKey { case key, createdAt = "created_at", searchSeconds = "search_seconds", kernels, csr }

    /// The tuned entry of a kernel, if any.
    public func tuned(_ kernel: KernelInfo) -> Kernel? { kernels.first { $0.name == kernel.name } }

    /// Refuses a record that names kernels this build does not have, or values out of
    /// range: such a file comes from another build or was edited, and is not used.
    public func validate() throws(KernelError) {
        guard !key.cpuModel.isEmpty, (1...ExecutionOptions.maxThreads).contains(key.threads) else {
            throw .malformedFile("tuning record key \(key) is invalid")
        }
        guard searchSeconds.isFinite, searchSeconds >= 0 else { throw .malformedFile("search_seconds \(searchSeconds) is invalid") }
        var seen = Set<String>()
        for kernel in kernels {
            guard let info = KernelRegistry.named(kernel.name) else {
                throw .malformedFile("tuning names kernel '\(kernel.name)', which this build of sift does not have")
            }
            guard info.isa <= key.isa else { throw .malformedFile("kernel \(kernel.name) needs \(info.isa), the record is for \(key.isa)") }
            guard seen.insert(kernel.name).inserted else { throw .malformedFile("kernel \(kernel.name) is tuned twice") }
            guard (-1000...1000).contains(kernel.rank) else { throw .malformedFile("rank \(kernel.rank) of \(kernel.name) is out of range") }
            try kernel.blocking.validate()
        }
        if let csr {
            guard csr.threshold.isFinite, csr.threshold > 0, csr.threshold < 1 else {
                throw .malformedFile("CSR density threshold \(csr.threshold) must be in (0, 1)")
            }
            for value in [csr.dense, csr.sparse] where !(1...CSRWeights.maxKBlock).contains(value) {
                throw .malformedFile("CSR K block \(value) must be between 1 and \(CSRWeights.maxKBlock)")
            }
        }
    }
}

/// The tuning file: the records of every machine, ISA and thread count tuned so far, so a
/// shared home directory or a copied file keeps each machine's record.
public struct TuningFile: Codable, Equatable, Sendable {
    public static let formatName = "sift-kernel-tuning"
    public static let currentVersion = 1

    public var format: String
    public var version: Int
    public var records: [KernelTuning]

    public init(records: [KernelTuning] = []) {
        format = Self.formatName
        version = Self.currentVersion
        self.records = records
    }

    /// Where tuning is kept by default: `$XDG_CACHE_HOME/sift/kernel-tuning.json`, else
    /// `~/.cache/sift/kernel-tuning.json`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        // Without HOME, the account's home directory as Foundation finds it.
        let directory = CacheDirectory.path(environment: environment) ?? NSHomeDirectory() + "/.cache/sift"
        return directory + "/kernel-tuning.json"
    }

    /// What reading a tuning file for one key gave.
    public enum Lookup: Equatable, Sendable {
        /// A valid record for the key.
        case found(KernelTuning)
        /// No file, or a valid file without a record for this key (other machines' only).
        case absent
        /// The file cannot be used: the reason, for the warning.
        case unusable(String)
    }

    /// Parses a tuning file; a corrupt file, another format or version throws.
    public static func decode(_ bytes: [UInt8]) throws(KernelError) -> TuningFile {
        let file: TuningFile
        do {
            file = try JSONDecoder().decode(TuningFile.self, from: Data(bytes))
        } catch {
            throw .malformedFile("not a sift tuning file (\(Self.describe(error)))")
        }
        guard file.format == formatName else { throw .malformedFile("format '\(file.format)' is not \(formatName)") }
        guard file.version == currentVersion else {
            throw .malformedFile("version \(file.version) is not \(currentVersion) (written by another version of sift)")
        }
        return file
    }

    public func encoded() throws(KernelError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return Array(try encoder.encode(self)) + Array("\n".utf8)
        } catch {
            throw .malformedFile("cannot encode the tuning: \(error)")
        }
    }

    /// The record for `key` in the file at `path`, with every reason not to use it.
    public static func lookup(_ key: KernelTuning.Key, at path: String) -> Lookup {
        let bytes: [UInt8]
        do {
            guard try SafeFile.kindOfExisting(path, followingLinks: true) != nil else { return .absent }
            bytes = try SafeFile.read(path)
        } catch {
            return .unusable(error.message)
        }
        do {
            let file = try decode(bytes)
            guard let record = file.records.first(where: { $0.key == key }) else { return .absent }
            try record.validate()
            return .found(record)
        } catch {
            return .unusable(error.description)
        }
    }

    /// Stores `record` in the file at `path` (created with its directory if needed),
    /// replacing the record of the same key and keeping the others; a file that cannot be
    /// read as a tuning file is replaced. Written whole or not at all.
    public static func store(_ record: KernelTuning, at path: String) throws(KernelError) {
        var file = TuningFile()
        if let bytes = try? SafeFile.read(path), let existing = try? decode(bytes) { file = existing }
        file.records.removeAll { $0.key == record.key }
        file.records.append(record)
        let directory = (path as NSString).deletingLastPathComponent
        do {
            if !directory.isEmpty { try SafeFile.makeDirectories(directory) }
            try SafeFile.write(try file.encoded(), to: path)
        } catch let error as SiftCoreError {
            throw KernelError(error)
        } catch let error as KernelError {
            throw error
        } catch {
            throw .io("cannot write \(path): \(error)")
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): "corrupt JSON: \(context.debugDescription)"
        case DecodingError.keyNotFound(let key, _): "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context): "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.valueNotFound(_, let context): "missing value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }
}

extension ISA: Codable {}

extension Machine {
    /// The CPU as the tuning records are keyed: its brand string, family and model (cpuid)
    /// and the per-core caches hwloc reports, e.g. "AMD EPYC (family 25, model 17), L1d 32
    /// KiB, L2 1024 KiB": a VM's vague brand alone would mix up CPU generations.
    public static var cpuModel: String {
        var buffer = [CChar](repeating: 0, count: 128)
        buffer.withUnsafeMutableBufferPointer { sk_cpu_model($0.baseAddress, $0.count) }
        let brand = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let t = topology
        return "\(brand), L1d \(t.l1dBytes / 1024) KiB, L2 \(t.l2Bytes / 1024) KiB"
    }
}

/// A kernel and the blocking it runs with: what the dispatch decided for one call.
public struct KernelPlan: Sendable, Equatable {
    public let kernel: KernelInfo
    public let blocking: KernelBlocking
}

extension KernelRegistry {
    /// The kernel and blocking a call runs with. First the library's own rule: among the
    /// kernels of the weights' family that compute N = `columns` with an ISA up to
    /// `options.isa` and whose preference test accepts the call, the narrowest N range, then
    /// the widest ISA, then table order (the C dispatch, `sk_kernel_select`). Then, with a
    /// tuning, the highest-ranked kernel of the chosen one's variant group that also fits
    /// (ties keep the first choice), with its tuned blocking.
    public static func plan(for weights: WeightMatrix, columns: Int, options: ExecutionOptions) -> KernelPlan? {
        guard columns >= 1 else { return nil }
        func fits(_ kernel: KernelInfo) -> Bool {
            kernel.family == weights.format.family && kernel.isa <= options.isa && kernel.accepts(columns: columns)
                && sk_kernel_suits(Int32(kernel.index), weights.cHandle, Int64(columns), Int32(options.threads)) != 0
        }
        var base: KernelInfo?
        for kernel in all where fits(kernel) {
            if let current = base {
                let a = kernel.maxColumns ?? Int.max, b = current.maxColumns ?? Int.max
                if a > b || (a == b && kernel.isa <= current.isa) { continue }
            }
            base = kernel
        }
        guard var chosen = base else { return nil }
        if let tuning = options.tuning {
            var bestRank = tuning.tuned(chosen)?.rank ?? 0
            for kernel in all where kernel.group == chosen.group && kernel != chosen && fits(kernel) {
                let rank = tuning.tuned(kernel)?.rank ?? 0
                if rank > bestRank {
                    bestRank = rank
                    chosen = kernel
                }
            }
        }
        return KernelPlan(kernel: chosen, blocking: options.tuning?.tuned(chosen)?.blocking ?? .defaults)
    }
}
