/// The one lowering of a network to matrix products: for every node, the products it
/// computes per sample, in the toolkit's single M/N/K convention
///
///     Y (M×N) = W (M×K) · X (K×N),  `groups` independent products.
///
/// - M = weight rows = output channels per group (convolution) / out features (linear);
/// - K = reduction = `in_channels / groups · kh · kw` / in features;
/// - N = positions = output pixels `H_out · W_out` / tokens (1 for a vector input).
/// Attention products have no weight: scores per head `M = T, K = d_head, N = T`; context
/// per head `M = T, K = T, N = d_head`; `groups = heads`.
///
/// Everything that needs a product's shape derives from here: the accounting, the
/// workload traces, the benchmark's default shapes, the CPU runtime and the simulator.
public struct GEMMLowering: Sendable {
    /// Every product of the network, in node order.
    public let products: [MatrixProduct]
    /// Index into `products` of each node's first product, by node id.
    private let firstProduct: [Int: Int]

    /// Lowers every node of `network`; nodes without a matrix product get none.
    public init(_ network: Network) {
        let consumers = network.consumers
        var products: [MatrixProduct] = []
        var firstProduct: [Int: Int] = [:]
        for node in network.nodes {
            guard let product = Self.product(of: node, in: network, consumers: consumers) else { continue }
            firstProduct[node.id] = products.count
            products.append(product)
        }
        self.products = products
        self.firstProduct = firstProduct
    }

    /// The products of one node (empty for nodes that compute none).
    public func products(ofNode id: Int) -> [MatrixProduct] {
        guard let index = firstProduct[id] else { return [] }
        return products[index...].prefix { $0.nodeID == id }.map { $0 }
    }

    /// Multiply-adds per sample with every weight present.
    public var macs: Int { products.reduce(0) { $0 + $1.macs } }
    /// Multiply-adds per sample when zero weights are skipped.
    public var effectiveMACs: Int { products.reduce(0) { $0 + $1.effectiveMACs } }

    /// The product of a node without its epilogue, which needs the network's consumers
    /// (the FLOP counts do not depend on it).
    static func product(of node: Node, in network: Network, consumers: [[Int]]?) -> MatrixProduct? {
        let inputShapes = node.inputs.map { network.nodes[$0].shape }
        switch node.op {
        case .conv2d(let c):
            let input = inputShapes[0]
            let geometry = ConvolutionGeometry(
                inChannels: c.inChannels, inHeight: input[1], inWidth: input[2], kernelHeight: c.kernelHeight,
                kernelWidth: c.kernelWidth, stride: c.stride, padding: c.padding, outHeight: node.shape[1],
                outWidth: node.shape[2], groups: c.groups, depthwise: c.isDepthwise)
            return MatrixProduct(
                nodeID: node.id, name: node.name, kind: .weight,
                M: c.outChannels / c.groups, K: c.reduction, N: node.shape[1] * node.shape[2], groups: c.groups,
                weight: WeightMatrixState(c.weight, rows: c.outChannels, reduction: c.reduction, tiedTo: nil),
                convolution: geometry,
                epilogue: consumers.map { epilogue(of: node, bias: c.bias, in: network, consumers: $0) } ?? FusableEpilogue())
        case .linear(let l):
            return MatrixProduct(
                nodeID: node.id, name: node.name, kind: .weight,
                M: l.outFeatures, K: l.inFeatures, N: node.shape.dropLast().reduce(1, *), groups: 1,
                weight: WeightMatrixState(l.weight, rows: l.outFeatures, reduction: l.inFeatures, tiedTo: l.tiedTo),
                convolution: nil,
                epilogue: consumers.map { epilogue(of: node, bias: l.bias, in: network, consumers: $0) } ?? FusableEpilogue())
        case .attentionScores(let heads, _):
            // q is [T, D]: per head, Q_h (T × d_head) · K_hᵀ (d_head × T).
            let (tokens, width) = (inputShapes[0][0], inputShapes[0][1])
            return MatrixProduct(nodeID: node.id, name: node.name, kind: .attentionScores,
                                 M: tokens, K: width / heads, N: tokens, groups: heads,
                                 weight: nil, convolution: nil, epilogue: FusableEpilogue())
        case .attentionContext(let heads):
            // v is [T, D]: per head, P_h (T × T) · V_h (T × d_head).
            let (tokens, width) = (inputShapes[1][0], inputShapes[1][1])
            return MatrixProduct(nodeID: node.id, name: node.name, kind: .attentionContext,
                                 M: tokens, K: tokens, N: width / heads, groups: heads,
                                 weight: nil, convolution: nil, epilogue: FusableEpilogue())
        default:
            return nil
        }
    }

    /// What a kernel can apply to a weight product's accumulators before storing them, in
    /// this order: bias, the BatchNorm that directly and solely follows (foldable into the
    /// weight and bias), the residual add, the activation. Each step is taken only when the
    /// previous node of the chain has that node as its sole consumer.
    ///
    /// A two-input add is fused into the product whose chain reaches it last in node order,
    /// so its other operand (the residual) is already computed when the product runs (in a
    /// ResNet block with a projection shortcut that is the shortcut; with an identity
    /// shortcut, the block's second convolution). Adds of more operands (Sparse Parallel's
    /// branch sums) are not fused.
    static func epilogue(of node: Node, bias: Bool, in network: Network, consumers: [[Int]]) -> FusableEpilogue {
        var epilogue = FusableEpilogue(bias: bias)
        var tail = node
        func soleConsumer(of node: Node) -> Node? {
            consumers[node.id].count == 1 ? network.nodes[consumers[node.id][0]] : nil
        }
        if let next = soleConsumer(of: tail), case .batchNorm = next.op {
            epilogue.batchNorm = FusedNode(next)
            tail = next
        }
        if let next = soleConsumer(of: tail), case .add = next.op, next.inputs.count == 2 {
            let other = next.inputs[0] == tail.id ? next.inputs[1] : next.inputs[0]
            // The residual must already exist: fuse only into the operand computed last.
            if other < tail.id {
                epilogue.residualAdd = FusedNode(next)
                epilogue.residual = FusedNode(network.nodes[other])
                tail = next
            }
        }
        if let next = soleConsumer(of: tail), let activation = EpilogueActivation(next.op) {
            epilogue.activation = activation
            epilogue.activationNode = FusedNode(next)
        }
        return epilogue
    }
}

/// One matrix product of a node, per sample: `groups` independent products
/// `Y (M×N) = W (M×K) · X (K×N)` (see `GEMMLowering` for the convention).
public struct MatrixProduct: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// A convolution or linear layer: W is the layer's weight.
        case weight
        /// Attention scores per head: `Q_h · K_hᵀ` (no weight).
        case attentionScores = "attention_scores"
        /// Attention context per head: `P_h · V_h` (no weight).
        case attentionContext = "attention_context"
    }

    /// The node that computes this product, by id and name.
    public let nodeID: Int
    public let name: String
    public let kind: Kind
    /// Rows of W and Y: output channels per group, out features, or T.
    public let M: Int
    /// The reduction length: columns of W, rows of X.
    public let K: Int
    /// Positions: output pixels or tokens per sample (the batch multiplies it).
    public let N: Int
    /// Independent products (convolution groups, attention heads).
    public let groups: Int
    /// The weight's sparsity state and counts; nil for attention products.
    public let weight: WeightMatrixState?
    /// The im2col geometry of a convolution; nil otherwise.
    public let convolution: ConvolutionGeometry?
    /// What a kernel can fuse after the product.
    public let epilogue: FusableEpilogue

    /// Multiply-adds per sample with every weight present: `M·K·N·groups`.
    public var macs: Int { M * K * N * groups }

    /// Multiply-adds per sample when zero weights are skipped: every non-zero weight meets
    /// the N positions once. Attention products have no zeros to skip.
    public var effectiveMACs: Int { weight.map { $0.nonzeros * N } ?? macs }

    /// The columns of X and Y for a batch: weight products share W across the batch, so
    /// the batch multiplies N. (Attention products have per-sample operands: a batch is
    /// `batch` times as many products, `groups · batch`, each of the same M, K, N.)
    public func columns(batch: Int) -> Int { kind == .weight ? N * batch : N }
}

/// The weight matrix of a product, all groups stacked: `rows × reduction`, rows = output
/// channels over all groups, which is where patterns and masks are laid.
public struct WeightMatrixState: Hashable, Sendable {
    public let role: WeightRole
    public let sparsity: Double
    public let pattern: SparsityPattern
    /// Output channels (all groups) or out features.
    public let rows: Int
    /// K.
    public let reduction: Int
    /// Non-zero weights the product multiplies (`pattern.nonzeroCount`): what a kernel
    /// stores and runs. A tied weight (GPT's LM head) is counted here too, since it is read.
    public let nonzeros: Int
    /// The node whose weight this one reuses, if tied.
    public let tiedTo: String?

    init(_ weight: WeightSparsity, rows: Int, reduction: Int, tiedTo: String?) {
        self.role = weight.role
        self.sparsity = weight.sparsity
        self.pattern = weight.pattern
        self.rows = rows
        self.reduction = reduction
        self.nonzeros = weight.pattern.nonzeroCount(rows: rows, reduction: reduction, sparsity: weight.sparsity)
        self.tiedTo = tiedTo
    }

    /// Weights of the matrix (`rows · reduction`).
    public var count: Int { rows * reduction }
    public var isSparse: Bool { sparsity > 0 }
}

/// The im2col view of a convolution: X is `(C_in/groups · kh · kw) × (H_out · W_out)` per
/// group, gathered from the `C_in × H_in × W_in` input with this window, stride and padding.
public struct ConvolutionGeometry: Hashable, Sendable {
    public let inChannels: Int
    public let inHeight: Int
    public let inWidth: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    /// Square stride and zero padding.
    public let stride: Int
    public let padding: Int
    public let outHeight: Int
    public let outWidth: Int
    public let groups: Int
    /// One group per channel, one output channel per group (MobileNetV2's 3×3 convs):
    /// M = 1, K = kh·kw, which a depthwise kernel runs better than a GEMM.
    public let depthwise: Bool
}

/// A node a kernel epilogue absorbs, by id and name.
public struct FusedNode: Hashable, Sendable {
    public let id: Int
    public let name: String
    init(_ node: Node) {
        id = node.id
        name = node.name
    }
}

/// The activations a kernel epilogue can apply.
public enum EpilogueActivation: String, Hashable, Sendable {
    case relu, relu6, gelu

    init?(_ op: Operation) {
        switch op {
        case .relu: self = .relu
        case .relu6: self = .relu6
        case .gelu: self = .gelu
        default: return nil
        }
    }
}

/// The fusable epilogue of a weight product: `activation(BN(W·X + bias) + residual)`.
public struct FusableEpilogue: Hashable, Sendable {
    /// The layer has a bias (one value per output row).
    public var bias = false
    /// The BatchNorm that directly and solely follows (foldable into W and the bias).
    public var batchNorm: FusedNode?
    /// The two-input add that follows, and its other operand (the residual, already
    /// computed when this product runs).
    public var residualAdd: FusedNode?
    public var residual: FusedNode?
    /// The activation that follows, and its node.
    public var activation: EpilogueActivation?
    public var activationNode: FusedNode?

    public init(bias: Bool = false) { self.bias = bias }

    /// Ids of the nodes this epilogue absorbs, in order.
    public var absorbedNodes: [Int] { [batchNorm, residualAdd, activationNode].compactMap { $0?.id } }
}
