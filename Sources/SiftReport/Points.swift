import Foundation
import SiftSweep
import SparseIFT

/// One network configuration of a report sweep: a zoo model, transformed, at a batch.
/// The same points drive the CPU sweep (inference, measured) and the accelerator sweep
/// (training steps, simulated); each is reported relative to its dense network at the
/// same batch and sequence length.
public struct NetworkPoint: SweepPoint, Hashable, Codable {
    public var model: String
    /// `dense`, `wide`, `parallel`, `factorized` or `doped`.
    public var transform: String
    /// The requested sparsity (Sparse Wide searches the body sparsity from it).
    public var sparsity: Double
    /// `unstructured`, `N:M` or `RxC`; `dense` for the dense baseline.
    public var pattern: String
    public var batch: Int
    /// Tokens per sequence for the GPT models; nil for the others.
    public var sequence: Int?

    public init(model: String, transform: String, sparsity: Double, pattern: String, batch: Int, sequence: Int? = nil) {
        self.model = model
        self.transform = transform
        self.sparsity = sparsity
        self.pattern = pattern
        self.batch = batch
        self.sequence = sequence
    }

    /// The dense network at the same batch and sequence.
    public static func dense(model: String, batch: Int, sequence: Int? = nil) -> NetworkPoint {
        NetworkPoint(model: model, transform: "dense", sparsity: 0, pattern: "dense", batch: batch, sequence: sequence)
    }

    public var isBaseline: Bool { transform == "dense" && sparsity == 0 }

    public var key: String {
        "\(model)|\(transform)|\(sparsity)|\(pattern)|b\(batch)" + (sequence.map { "|t\($0)" } ?? "")
    }

    public var baselineKey: String? {
        isBaseline ? nil : Self.dense(model: model, batch: batch, sequence: sequence).key
    }

    /// "mlp, batch 64" / "gpt3-small, batch 4, sequence 256".
    public var modelLabel: String {
        "\(model), batch \(batch)" + (sequence.map { ", sequence \($0)" } ?? "")
    }

    /// Builds the dense network and applies the transform (the same code path as
    /// `sift transform`).
    public func build() throws -> TransformedNetwork {
        var options = ModelZoo.Options()
        if let sequence { options.sequenceLength = sequence }
        let dense = try ModelZoo.build(model, options: options)
        let kind = try TransformKind(parsing: transform)
        let parsedPattern = pattern == "dense" ? SparsityPattern.unstructured : try SparsityPattern(parsing: pattern)
        return try SparseIFT.transform(dense, kind: kind, sparsity: sparsity, options: TransformOptions(pattern: parsedPattern))
    }

    /// The series a point belongs to in the plots: the transform, and the pattern when
    /// it is not unstructured ("Sparse Wide, 16x16 blocks").
    public var seriesName: String {
        Self.seriesName(transform: transform, pattern: pattern)
    }

    static func seriesName(transform: String, pattern: String) -> String {
        let name: String
        switch transform {
        case "wide": name = "Sparse Wide"
        case "parallel": name = "Sparse Parallel"
        case "factorized": name = "Sparse Factorized"
        case "doped": name = "Sparse Doped"
        case "dense": name = "sparse dense (fewer FLOPs)"
        default: name = transform
        }
        switch pattern {
        case "unstructured", "dense": return name
        default:
            return pattern.contains("x") ? "\(name), \(pattern) blocks" : "\(name), \(pattern)"
        }
    }
}

/// One single matrix product of the speedup-vs-sparsity sweep: `Y (M×N) = W (M×K) · X (K×N)`
/// with W in `pattern` at `sparsity`, against the dense product of the same shape.
public struct ProductPoint: SweepPoint, Hashable, Codable {
    public var shape: String
    public var m: Int, k: Int, n: Int
    /// `dense`, `unstructured`, `N:M` or `RxC`.
    public var pattern: String
    public var sparsity: Double

    public init(shape: String, m: Int, k: Int, n: Int, pattern: String, sparsity: Double) {
        self.shape = shape
        self.m = m
        self.k = k
        self.n = n
        self.pattern = pattern
        self.sparsity = sparsity
    }

    public var isBaseline: Bool { pattern == "dense" }

    public var key: String { "\(m)x\(k)x\(n)|\(pattern)|\(sparsity)" }

    public var baselineKey: String? {
        isBaseline ? nil : ProductPoint(shape: shape, m: m, k: k, n: n, pattern: "dense", sparsity: 0).key
    }

    /// The ideal speedup of a product that skips every zero: 1/(1-s).
    public var idealSpeedup: Double { 1 / (1 - sparsity) }

    /// Which family the pattern belongs to, for the plot's series.
    public var family: String {
        if pattern == "unstructured" { return "unstructured" }
        if pattern.contains(":") { return "N:M" }
        if pattern.contains("x") { return "\(pattern) blocks" }
        return pattern
    }
}
