import Foundation
import SiftCore

/// The `manifest.json` of a weights directory: what the weights were made for, the seed,
/// and every tensor with its shape and checksum. `sift weights` writes it; readers check
/// it, so weights made for one network never run silently under another.
public struct WeightsManifest: Codable, Equatable, Sendable {
    public static let formatVersion = 1

    /// What a network is, as the command line names it. Fields that do not apply to the
    /// transform (the Parallel variant of a Sparse Wide network, say) are nil, so they
    /// cannot cause a false mismatch.
    public struct Identity: Codable, Equatable, Sendable {
        public var model: String
        /// GPT models only.
        public var sequence_length: Int?
        /// `mlp` only.
        public var mlp_widths: [Int]?
        /// GPT models only, when the block count is not the model's own (`--layers`).
        public var layers: Int?
        public var transform: String
        /// The sparsity asked for.
        public var sparsity: Double
        /// The body layers' sparsity (after Sparse Wide's search).
        public var body_sparsity: Double
        public var pattern: String
        public var distribution: String
        /// Sparse Parallel only: the activation placement used.
        public var parallel_activation: String?
        /// Sparse Parallel, Factorized and Doped only.
        public var transform_shortcuts: Bool?
        /// Sparse Doped only.
        public var doped_lowrank: String?
        /// Sparse Wide only.
        public var flop_search: Bool?

        public init(model: String, zooOptions: ModelZoo.Options, transformed: TransformedNetwork) {
            let family = transformed.dense.metadata.family
            let kind = transformed.kind
            let options = transformed.options
            self.model = model
            self.sequence_length = family == .gpt ? zooOptions.sequenceLength : nil
            self.mlp_widths = family == .mlp ? zooOptions.mlpWidths : nil
            self.layers = family == .gpt ? zooOptions.layers : nil
            self.transform = kind.rawValue
            self.sparsity = transformed.requestedSparsity
            self.body_sparsity = transformed.sparsity
            self.pattern = options.pattern.description
            self.distribution = options.distribution.rawValue
            self.parallel_activation = kind == .parallel
                ? (options.parallelActivation ?? transformed.dense.metadata.parallelActivation).rawValue : nil
            self.transform_shortcuts = [.parallel, .factorized, .doped].contains(kind) ? options.transformShortcuts : nil
            self.doped_lowrank = kind == .doped ? options.dopedLowRank.rawValue : nil
            self.flop_search = kind == .wide ? options.matchDenseFLOPs : nil
        }

        /// "sparsity: 0.5 (weights) vs 0.9 (this command)" for every field that differs.
        public func differences(from other: Identity) -> [String] {
            func describe<T>(_ value: T?) -> String { value.map { "\($0)" } ?? "none" }
            var result: [String] = []
            func compare<T: Equatable>(_ name: String, _ mine: T?, _ theirs: T?) {
                if mine != theirs { result.append("\(name): \(describe(mine)) (weights) vs \(describe(theirs)) (this command)") }
            }
            compare("model", model, other.model)
            compare("sequence", sequence_length, other.sequence_length)
            compare("mlp widths", mlp_widths, other.mlp_widths)
            compare("layers", layers, other.layers)
            compare("transform", transform, other.transform)
            compare("sparsity", sparsity, other.sparsity)
            compare("pattern", pattern, other.pattern)
            compare("distribution", distribution, other.distribution)
            compare("parallel activation", parallel_activation, other.parallel_activation)
            compare("transform shortcuts", transform_shortcuts, other.transform_shortcuts)
            compare("doped low rank", doped_lowrank, other.doped_lowrank)
            compare("FLOP search", flop_search, other.flop_search)
            // Same inputs give the same searched sparsity; a difference means another sift.
            if result.isEmpty { compare("body sparsity", body_sparsity, other.body_sparsity) }
            return result
        }
    }

    public struct TensorEntry: Codable, Equatable, Sendable {
        public var name: String
        public var file: String
        public var shape: [Int]
        /// `Checksum.fnv1a64` of the file's bytes.
        public var checksum: String
    }

    public var tool: String
    public var kind: String
    public var format_version: Int
    public var network: String
    public var identity: Identity?
    public var seed: UInt64?
    public var tensors: [TensorEntry]

    public init(network: String, identity: Identity?, seed: UInt64?, tensors: [TensorEntry]) {
        self.tool = SafeDirectory.tool
        self.kind = "weights"
        self.format_version = Self.formatVersion
        self.network = network
        self.identity = identity
        self.seed = seed
        self.tensors = tensors
    }

    func encoded() throws(SiftCoreError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return Array(try encoder.encode(self)) + [10]
        } catch {
            throw .invalidArgument("the weights manifest cannot be written as JSON: \(error)")
        }
    }

    /// Reads `<directory>/manifest.json`, refusing anything that is not a sift weights
    /// directory with a clear reason.
    public static func read(from directory: String) throws -> WeightsManifest {
        let kind = try fromCore { () throws(SiftCoreError) in try SafeFile.kindOfExisting(directory, followingLinks: true) }
        guard let kind else { throw SparseIFTError.io("cannot read the weights directory \(directory): it does not exist") }
        guard kind == .directory else {
            throw SparseIFTError.io("cannot read the weights directory \(directory): it is \(kind.phrase), a directory from `sift weights` is expected")
        }
        let path = "\(directory)/\(SafeDirectory.manifestName)"
        let manifestKind = try fromCore { () throws(SiftCoreError) in try SafeFile.kindOfExisting(path, followingLinks: true) }
        guard manifestKind != nil else {
            throw SparseIFTError.parameterMismatch("\(directory) has no \(SafeDirectory.manifestName): it is not a complete `sift weights` output (interrupted, or written by hand or by an older sift)")
        }
        let bytes = try fromCore { () throws(SiftCoreError) in try SafeFile.read(path) }
        let manifest: WeightsManifest
        do {
            manifest = try JSONDecoder().decode(WeightsManifest.self, from: Data(bytes))
        } catch {
            throw SparseIFTError.malformedFile("\(path) is not a sift weights manifest: \(error)")
        }
        guard manifest.tool == SafeDirectory.tool, manifest.kind == "weights" else {
            throw SparseIFTError.malformedFile("\(path) is a \(manifest.tool) \(manifest.kind) manifest, not sift weights")
        }
        guard manifest.format_version == formatVersion else {
            throw SparseIFTError.malformedFile("\(path) has manifest format \(manifest.format_version); this sift reads \(formatVersion)")
        }
        return manifest
    }
}
