/// The network graph: a list of nodes in topological order, each with its operation, the
/// nodes it reads and its inferred output shape.
///
/// Shapes are per sample (the batch is a separate parameter of accounting and execution):
/// images are `[C, H, W]`, vectors `[D]`, token sequences `[T, D]`, token ids `[T]`,
/// attention scores `[heads, T, T]`. The token / sequence dimension is explicit, so a
/// linear layer on `[T, D]` costs `T · D_in · D_out` multiply-adds.

/// A 2-D convolution, weight shape `[out, in / groups, kh, kw]`.
public struct Conv2dSpec: Hashable, Sendable {
    public var inChannels: Int
    public var outChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var padding: Int
    public var groups: Int
    public var bias: Bool
    public var weight: WeightSparsity

    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, bias: Bool = false, role: WeightRole = .body) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelHeight = kernel
        self.kernelWidth = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
        self.bias = bias
        self.weight = WeightSparsity(role: groups > 1 && role == .body ? .grouped : role)
    }

    public var isDepthwise: Bool { groups > 1 && groups == inChannels && groups == outChannels }
    /// The weight in memory order.
    public var weightShape: [Int] { [outChannels, inChannels / groups, kernelHeight, kernelWidth] }
    /// GEMM view of the weight: `outChannels` rows (all groups) by `K` columns.
    public var reduction: Int { inChannels / groups * kernelHeight * kernelWidth }
}

/// A fully connected layer on the last axis, weight shape `[out, in]` (PyTorch order).
public struct LinearSpec: Hashable, Sendable {
    public var inFeatures: Int
    public var outFeatures: Int
    public var bias: Bool
    public var weight: WeightSparsity
    /// Name of the node whose weight this layer reuses (GPT's LM head shares the token
    /// embedding): its parameters are counted once, at the owner.
    public var tiedTo: String?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, role: WeightRole = .body, tiedTo: String? = nil) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.bias = bias
        self.weight = WeightSparsity(role: role)
        self.tiedTo = tiedTo
    }

    public var weightShape: [Int] { [outFeatures, inFeatures] }
}

/// Pooling window (square).
public struct PoolSpec: Hashable, Sendable {
    public var kernel: Int
    public var stride: Int
    public var padding: Int
    public init(kernel: Int, stride: Int, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }
}

public enum Operation: Hashable, Sendable {
    /// The network input, per-sample shape. Token ids are a `[T]` input.
    case input(shape: [Int])
    case conv2d(Conv2dSpec)
    case linear(LinearSpec)
    /// Per-channel affine normalisation of `[C, H, W]` (inference: running statistics).
    case batchNorm
    /// Normalisation over the last axis with a learned scale and shift.
    case layerNorm
    case relu
    case relu6
    /// GELU, tanh approximation (GPT-2/GPT-3).
    case gelu
    /// Element-wise sum of two or more inputs of the same shape (residuals, branch sums).
    case add
    case maxPool(PoolSpec)
    case avgPool(PoolSpec)
    /// Mean over H and W: `[C, H, W] -> [C]`.
    case globalAvgPool
    /// `[C, H, W] -> [C·H·W]`.
    case flatten
    /// Token ids `[T]` -> `[T, dim]`, table `[vocabulary, dim]`.
    case embedding(vocabulary: Int, dim: Int)
    /// Adds a learned position table `[length, dim]` to `[T, dim]` (T ≤ length).
    case positionEmbedding(length: Int)
    /// Inputs `q, k` of shape `[T, D]`: `softmax`-ready scores `[heads, T, T]`,
    /// `q_h · k_hᵀ / sqrt(D / heads)`, with future positions masked to -inf if causal.
    case attentionScores(heads: Int, causal: Bool)
    /// Softmax over the last axis.
    case softmax
    /// Inputs `probabilities [heads, T, T]` and `v [T, D]`: per head `P_h · v_h`, heads
    /// concatenated back to `[T, D]`.
    case attentionContext(heads: Int)
}

extension Operation {
    /// Short name used in tables and traces.
    public var kind: String {
        switch self {
        case .input: "input"
        case .conv2d(let c): c.isDepthwise ? "conv2d_dw" : "conv2d"
        case .linear: "linear"
        case .batchNorm: "batchnorm"
        case .layerNorm: "layernorm"
        case .relu: "relu"
        case .relu6: "relu6"
        case .gelu: "gelu"
        case .add: "add"
        case .maxPool: "maxpool"
        case .avgPool: "avgpool"
        case .globalAvgPool: "global_avgpool"
        case .flatten: "flatten"
        case .embedding: "embedding"
        case .positionEmbedding: "position_embedding"
        case .attentionScores: "attention_scores"
        case .softmax: "softmax"
        case .attentionContext: "attention_context"
        }
    }

    /// The sparsity state of the op's weight, if it has a weight matrix.
    public var weight: WeightSparsity? {
        switch self {
        case .conv2d(let c): c.weight
        case .linear(let l): l.weight
        default: nil
        }
    }

    /// The weight as a matrix, all groups stacked: `rows` = output channels / out
    /// features, `reduction` = K. This is the view patterns and masks are laid on.
    public var weightMatrix: (rows: Int, reduction: Int)? {
        switch self {
        case .conv2d(let c): (c.outChannels, c.reduction)
        case .linear(let l): (l.outFeatures, l.inFeatures)
        default: nil
        }
    }

    public var isActivation: Bool {
        switch self {
        case .relu, .relu6, .gelu: true
        default: false
        }
    }

    /// The same op with its weight's sparsity replaced (no-op for weightless ops).
    func withWeight(_ weight: WeightSparsity) -> Operation {
        switch self {
        case .conv2d(var c):
            c.weight = weight
            return .conv2d(c)
        case .linear(var l):
            l.weight = weight
            return .linear(l)
        default:
            return self
        }
    }
}

public struct Node: Hashable, Sendable {
    /// Index in `Network.nodes`.
    public let id: Int
    /// Unique name (PyTorch-like module path, e.g. `layer1.0.conv1`).
    public let name: String
    public internal(set) var op: Operation
    public let inputs: [Int]
    /// Inferred per-sample output shape.
    public let shape: [Int]
    /// Name of the node of the dense network this node derives from (itself if untouched):
    /// groups a transformed layer's replacement for the per-layer iso-FLOP check.
    public let origin: String
}

/// How Sparse Parallel places the nonlinearity of a `conv → BN → σ` unit.
public enum ParallelActivation: String, Hashable, Sendable, CaseIterable {
    /// `σ(Σ_j BN_j(W_j x))`: the authors' CIFAR ResNet.
    case afterSum = "after-sum"
    /// `σ(Σ_j σ(BN_j(W_j x)))`: the authors' ImageNet ResNet.
    case perBranch = "per-branch"
}

/// The model families of the zoo, for the rules and notes that depend on the family.
public enum ModelFamily: String, Hashable, Sendable {
    case resnetCIFAR = "resnet-cifar"
    case resnetImageNet = "resnet-imagenet"
    case mobileNetV2 = "mobilenetv2"
    case gpt
    case mlp
    /// A network built by hand: the generic rules, no family-specific notes.
    case custom
}

/// What the transforms need to know about the family a network comes from.
public struct NetworkMetadata: Hashable, Sendable {
    /// Set for transformers: Sparse Wide then scales `d_model` by `sqrt(base)` rounded up
    /// to a multiple of the head count, with `d_ff = 4·d_model`, and does not search `s`.
    public var transformer: TransformerShape?
    /// The default Sparse Parallel variant for this family.
    public var parallelActivation: ParallelActivation
    public var family: ModelFamily
    /// ResNets: the first stage's width (64). Sparse Wide then follows the authors' rule:
    /// the first stage's width is computed once, `int(64·sqrt(base))`, and every other
    /// width scales with it (doubled per stage), stem and classifier input included.
    public var firstStageWidth: Int?

    public init(transformer: TransformerShape? = nil, parallelActivation: ParallelActivation = .perBranch,
                family: ModelFamily = .custom, firstStageWidth: Int? = nil) {
        self.transformer = transformer
        self.parallelActivation = parallelActivation
        self.family = family
        self.firstStageWidth = firstStageWidth
    }
}

public struct TransformerShape: Hashable, Sendable {
    public var dModel: Int
    public var heads: Int
    public init(dModel: Int, heads: Int) {
        self.dModel = dModel
        self.heads = heads
    }
}

public struct Network: Hashable, Sendable {
    public var name: String
    public internal(set) var nodes: [Node]
    public var metadata: NetworkMetadata

    /// The node whose value is the network's output (the last one).
    public var output: Node { nodes[nodes.count - 1] }
    public var input: Node { nodes[0] }

    public func node(named name: String) -> Node? { nodes.first { $0.name == name } }

    /// Nodes that read each node, by id.
    public var consumers: [[Int]] {
        var result = [[Int]](repeating: [], count: nodes.count)
        for node in nodes {
            for input in node.inputs { result[input].append(node.id) }
        }
        return result
    }

    /// The weight layers (conv and linear nodes).
    public var weightLayers: [Node] { nodes.filter { $0.op.weight != nil } }
}
