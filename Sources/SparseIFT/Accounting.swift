/// The GEMM view of a matrix-product node, per sample: `groups` independent products of an
/// `M×K` activation matrix with a `K×N` matrix (SCALE-Sim's convention: M = output pixels
/// or tokens, N = output channels per group, K = reduction length).
public struct GEMMView: Hashable, Sendable {
    public let M: Int
    public let N: Int
    public let K: Int
    public let groups: Int
    /// Rows of the weight matrix over all groups (= output channels), for pattern checks.
    public let weightRows: Int

    /// Views a conv, linear or attention-product node; other nodes get an empty view.
    public init(_ node: Node) {
        switch node.op {
        case .conv2d(let c):
            self.init(M: node.shape[1] * node.shape[2], N: c.outChannels / c.groups, K: c.reduction, groups: c.groups, weightRows: c.outChannels)
        case .linear(let l):
            let tokens = node.shape.dropLast().reduce(1, *)
            self.init(M: tokens, N: l.outFeatures, K: l.inFeatures, groups: 1, weightRows: l.outFeatures)
        case .attentionScores(let heads, _):
            // The output [heads, T, T] does not hold K = d_model / heads: this view leaves K
            // at 0 and `Accounting` completes it from the node's input shape.
            self.init(M: node.shape[1], N: node.shape[2], K: 0, groups: heads, weightRows: 0)
        case .attentionContext(let heads):
            self.init(M: node.shape[0], N: node.shape[1] / heads, K: node.shape[0], groups: heads, weightRows: 0)
        default:
            self.init(M: 0, N: 0, K: 0, groups: 0, weightRows: 0)
        }
    }

    init(M: Int, N: Int, K: Int, groups: Int, weightRows: Int) {
        self.M = M
        self.N = N
        self.K = K
        self.groups = groups
        self.weightRows = weightRows
    }

    public var macs: Int { M * N * K * groups }
}

/// FLOP, parameter and search-space accounting of one node, per sample.
public struct LayerAccount: Hashable, Sendable {
    public let name: String
    public let kind: String
    /// The node of the dense network this one derives from.
    public let origin: String
    public let role: WeightRole?
    /// Weight shape in memory order (`[out, in/groups, kh, kw]` or `[out, in]`), if any.
    public let weightShape: [Int]?
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let gemm: GEMMView?
    public let sparsity: Double
    public let pattern: SparsityPattern?
    /// Weights, biases, norm scales and shifts, embedding tables (a tied weight counts 0).
    public let params: Int
    public let nonzeroParams: Int
    /// Weights of the layer (0 when tied), and how many are non-zero.
    public let weights: Int
    public let nonzeroWeights: Int
    /// Multiply-adds with every weight present (the structure's dense cost).
    public let macs: Int
    /// Multiply-adds that remain when zero weights are skipped.
    public let effectiveMACs: Int
    /// Mask positions a sparse-training method may choose from (the paper's Table 1):
    /// the weight count of body layers, 0 for the layers that always stay dense.
    public let searchSpace: Int
    /// Elements of the output (the size of the work of non-GEMM ops).
    public let outputElements: Int

    public var inChannels: Int? {
        switch kind {
        case "conv2d", "conv2d_dw", "linear", "batchnorm", "layernorm": inputShape.count == 3 ? inputShape[0] : inputShape.last
        default: nil
        }
    }

    public var outChannels: Int? {
        switch kind {
        case "conv2d", "conv2d_dw", "linear", "batchnorm", "layernorm": outputShape.count == 3 ? outputShape[0] : outputShape.last
        default: nil
        }
    }
}

/// Totals of a whole network.
public struct NetworkAccount: Sendable {
    public let layers: [LayerAccount]
    public let params: Int
    public let nonzeroParams: Int
    public let macs: Int
    public let effectiveMACs: Int
    public let searchSpace: Int

    /// Forward FLOPs: 2 per multiply-add of the convs, linear layers and attention products
    /// (norms, activations and pooling are not counted, as in the sparse-training literature).
    public var forwardFLOPs: Int { 2 * effectiveMACs }
    /// Forward FLOPs with every weight present.
    public var denseStructureForwardFLOPs: Int { 2 * macs }
    /// Training FLOPs per sample for dense or static-sparse training: forward, input
    /// gradient and weight gradient, 3× the forward.
    public var trainingFLOPs: Int { 3 * forwardFLOPs }

    /// RigL training FLOPs per sample and step, averaged over an update interval `ΔT`:
    /// `(3·f_S·ΔT + 2·f_S + f_D) / (ΔT + 1)`, since the update step needs a dense gradient.
    public func rigLTrainingFLOPs(updateInterval: Int) -> Double {
        let fS = Double(forwardFLOPs)
        let fD = Double(denseStructureForwardFLOPs)
        let deltaT = Double(updateInterval)
        return (3 * fS * deltaT + 2 * fS + fD) / (deltaT + 1)
    }
}

public enum Accounting {
    /// Accounts every node of a network, per sample.
    public static func account(_ network: Network) -> NetworkAccount {
        let layers = network.nodes.map { account(node: $0, in: network) }
        return NetworkAccount(
            layers: layers,
            params: layers.reduce(0) { $0 + $1.params },
            nonzeroParams: layers.reduce(0) { $0 + $1.nonzeroParams },
            macs: layers.reduce(0) { $0 + $1.macs },
            effectiveMACs: layers.reduce(0) { $0 + $1.effectiveMACs },
            searchSpace: layers.reduce(0) { $0 + $1.searchSpace })
    }

    /// Effective forward multiply-adds per sample, without building the per-layer table
    /// (the Sparse Wide search calls this many times).
    public static func effectiveMACs(_ network: Network) -> Int {
        network.nodes.reduce(0) { $0 + account(node: $1, in: network).effectiveMACs }
    }

    static func account(node: Node, in network: Network) -> LayerAccount {
        let inputShape = node.inputs.first.map { network.nodes[$0].shape } ?? []
        let elements = node.shape.reduce(1, *)
        var weightShape: [Int]?
        var gemm: GEMMView?
        var sparsity = 0.0
        var pattern: SparsityPattern?
        var weights = 0
        var nonzeroWeights = 0
        var otherParams = 0
        var macs = 0
        var effective = 0
        var searchSpace = 0
        switch node.op {
        case .conv2d(let c):
            let view = GEMMView(node)
            gemm = view
            weightShape = c.weightShape
            weights = c.weightShape.reduce(1, *)
            nonzeroWeights = c.weight.pattern.nonzeroCount(rows: c.outChannels, reduction: c.reduction, sparsity: c.weight.sparsity)
            otherParams = c.bias ? c.outChannels : 0
            macs = view.macs
            effective = view.M * nonzeroWeights
            sparsity = c.weight.sparsity
            pattern = c.weight.pattern
            searchSpace = c.weight.role == .body ? weights : 0
        case .linear(let l):
            let view = GEMMView(node)
            gemm = view
            weightShape = l.weightShape
            let count = l.inFeatures * l.outFeatures
            let nonzero = l.weight.pattern.nonzeroCount(rows: l.outFeatures, reduction: l.inFeatures, sparsity: l.weight.sparsity)
            weights = l.tiedTo == nil ? count : 0
            nonzeroWeights = l.tiedTo == nil ? nonzero : 0
            otherParams = l.bias ? l.outFeatures : 0
            macs = view.macs
            effective = view.M * nonzero
            sparsity = l.weight.sparsity
            pattern = l.weight.pattern
            searchSpace = l.weight.role == .body ? count : 0
        case .batchNorm:
            otherParams = 2 * node.shape[0]
        case .layerNorm:
            otherParams = 2 * (node.shape.last ?? 0)
        case .embedding(let vocabulary, let dim):
            weights = vocabulary * dim
            nonzeroWeights = weights
            weightShape = [vocabulary, dim]
        case .positionEmbedding(let length):
            let dim = node.shape.last ?? 0
            weights = length * dim
            nonzeroWeights = weights
            weightShape = [length, dim]
        case .attentionScores(let heads, _):
            let view = GEMMView(node)
            let headDim = (inputShape.last ?? 0) / heads
            let full = GEMMView(M: view.M, N: view.N, K: headDim, groups: heads, weightRows: 0)
            gemm = full
            macs = full.macs
            effective = macs
        case .attentionContext:
            let view = GEMMView(node)
            gemm = view
            macs = view.macs
            effective = macs
        default:
            break
        }
        return LayerAccount(
            name: node.name, kind: node.op.kind, origin: node.origin, role: node.op.weight?.role,
            weightShape: weightShape, inputShape: inputShape, outputShape: node.shape, gemm: gemm,
            sparsity: sparsity, pattern: pattern,
            params: weights + otherParams, nonzeroParams: nonzeroWeights + otherParams,
            weights: weights, nonzeroWeights: nonzeroWeights,
            macs: macs, effectiveMACs: effective, searchSpace: searchSpace, outputElements: elements)
    }

    /// One transformed layer against the dense layer it replaces.
    public struct OriginComparison: Hashable, Sendable {
        public let origin: String
        public let denseMACs: Int
        public let effectiveMACs: Int
        public var ratio: Double { Double(effectiveMACs) / Double(denseMACs) }
    }

    /// For each body layer of the dense network, the effective MACs of everything the
    /// transformation put in its place: the per-layer iso-FLOP check.
    public static func compareByOrigin(transformed: Network, dense: Network) -> [OriginComparison] {
        let transformedAccount = account(transformed)
        var effectiveByOrigin: [String: Int] = [:]
        for layer in transformedAccount.layers where layer.gemm != nil && layer.weightShape != nil {
            effectiveByOrigin[layer.origin, default: 0] += layer.effectiveMACs
        }
        return account(dense).layers.compactMap { layer in
            guard layer.role == .body else { return nil }
            return OriginComparison(origin: layer.name, denseMACs: layer.macs, effectiveMACs: effectiveByOrigin[layer.name] ?? 0)
        }
    }

    /// Search-space cardinality of one `D_in × D_out` layer under each member, the
    /// continuous formulas of the paper's Table 1 (`k_sw = sqrt(1/(1-s))`, `k_sp = 1/(1-s)`).
    public static func table1SearchSpace(_ kind: TransformKind, dIn: Int, dOut: Int, sparsity: Double) -> Double {
        let product = Double(dIn) * Double(dOut)
        switch kind {
        case .dense, .doped: return product
        case .wide: return product / (1 - sparsity)
        case .parallel: return product / (1 - sparsity)
        case .factorized:
            // Summed in Double: public inputs, so `dIn + dOut` must not overflow `Int`.
            let sum = Double(dIn) + Double(dOut)
            let rank = product / (sum * (1 - sparsity))
            return rank * sum
        }
    }
}
