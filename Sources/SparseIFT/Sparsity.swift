import SiftCore

extension SparsityPattern {
    /// Refuses a pattern whose parameters are invalid, or a layer of negative size. Any
    /// shape takes any pattern (the edges are ragged, see `RaggedEdges`).
    public func validate(layer: String, rows: Int, reduction: Int) throws {
        try fromCore { () throws(SiftCoreError) in try validateParameters() }
        guard rows >= 0, reduction >= 0 else {
            throw SparseIFTError.invalidArgument("layer \(layer) has a negative size: rows = \(rows), K = \(reduction)")
        }
    }
}

/// Why a weight layer is (or is not) sparse. The roles encode the authors' convention:
/// `body` and `shortcut` layers take the network's sparsity; every other role stays dense
/// (Sparse Doped's `lowRank` factors only when asked to follow the released code).
public enum WeightRole: String, Hashable, Sendable, CaseIterable {
    /// A conv or linear layer inside the network: sparse at the network's sparsity and
    /// the target of the transformations (including attention projections).
    case body
    /// A ResNet 1x1 projection shortcut (`downsample.0`): sparse at the network's sparsity
    /// like a body layer, widened by Sparse Wide, but left a single sparse conv by Sparse
    /// Parallel, Factorized and Doped, as in the authors' ResNets (unless
    /// `TransformOptions.transformShortcuts`).
    case shortcut
    /// The first convolution (on the image): dense, widened by Sparse Wide.
    case stem
    /// The classifier or language-model head: dense, widened on its input side.
    case classifier
    /// Token or position embeddings: dense.
    case embedding
    /// The low-rank factors U, V that Sparse Doped adds: dense (the paper), or masked at
    /// the network's sparsity (the authors' released code, `DopedLowRank.sparse`).
    case lowRank
    /// A grouped or depthwise convolution: it mixes no channels, so it has no D_in × D_out
    /// matrix to transform; it stays dense and Sparse Wide widens it with its channels.
    case grouped

    /// The roles sparse at the network's sparsity in every network: body and shortcut.
    public var takesNetworkSparsity: Bool { self == .body || self == .shortcut }
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
