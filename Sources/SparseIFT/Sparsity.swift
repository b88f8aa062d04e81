import SiftCore

extension SparsityPattern {
    /// Refuses a layer whose matrix view the pattern does not tile.
    public func validate(layer: String, rows: Int, reduction: Int) throws {
        try fromCore { () throws(SiftCoreError) in try validateParameters() }
        guard rows >= 0, reduction >= 0 else {
            throw SparseIFTError.invalidArgument("layer \(layer) has a negative size: rows = \(rows), K = \(reduction)")
        }
        if let problem = tilingProblem(rows: rows, reduction: reduction) {
            throw SparseIFTError.patternNotApplicable("layer \(layer): \(problem)")
        }
    }
}

/// Why a weight layer is (or is not) sparse. The roles encode the authors' convention:
/// only `body` layers take the network's sparsity; every other role stays dense.
public enum WeightRole: String, Hashable, Sendable, CaseIterable {
    /// A conv or linear layer inside the network: sparse at the network's sparsity and
    /// the target of the transformations (including 1x1 shortcuts and attention projections).
    case body
    /// The first convolution (on the image): dense, widened by Sparse Wide.
    case stem
    /// The classifier or language-model head: dense, widened on its input side.
    case classifier
    /// Token or position embeddings: dense.
    case embedding
    /// The dense low-rank factors U, V that Sparse Doped adds.
    case lowRank
    /// A grouped or depthwise convolution: it mixes no channels, so it has no D_in × D_out
    /// matrix to transform; it stays dense and Sparse Wide widens it with its channels.
    case grouped
}

/// The sparsity state of one weight tensor.
public struct WeightSparsity: Hashable, Sendable {
    public var role: WeightRole
    /// Fraction of zero weights, in [0, 1). Zero for every role but `body`.
    public var sparsity: Double
    public var pattern: SparsityPattern

    public init(role: WeightRole, sparsity: Double = 0, pattern: SparsityPattern = .unstructured) {
        self.role = role
        self.sparsity = sparsity
        self.pattern = pattern
    }

    public var isSparse: Bool { sparsity > 0 }
}
