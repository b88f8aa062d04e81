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
    /// The node's matrix product (from `GEMMLowering`), if it computes one.
    public let product: MatrixProduct?
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
    /// the weight count of the layers that take the sparsity (body and shortcut layers,
    /// and Doped's U and V when masked), 0 for the layers that stay dense.
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
    /// Accounts every node of a network, per sample. The multiply-adds come from the
    /// network's `GEMMLowering`, the one source of every product's shape.
    public static func account(_ network: Network) -> NetworkAccount {
        let lowering = GEMMLowering(network)
        let layers = network.nodes.map { account(node: $0, in: network, product: lowering.products(ofNode: $0.id).first) }
        return NetworkAccount(
            layers: layers,
            params: layers.reduce(0) { $0 + $1.params },
            nonzeroParams: layers.reduce(0) { $0 + $1.nonzeroParams },
            macs: layers.reduce(0) { $0 + $1.macs },
            effectiveMACs: layers.reduce(0) { $0 + $1.effectiveMACs },
            searchSpace: layers.reduce(0) { $0 + $1.searchSpace })
    }

    /// Effective forward multiply-adds per sample, without the per-layer table or the
    /// epilogues (the Sparse Wide search calls this many times).
    public static func effectiveMACs(_ network: Network) -> Int {
        network.nodes.reduce(0) { $0 + (GEMMLowering.product(of: $1, in: network, consumers: nil)?.effectiveMACs ?? 0) }
    }

    static func account(node: Node, in network: Network, product: MatrixProduct?) -> LayerAccount {
        let inputShape = node.inputs.first.map { network.nodes[$0].shape } ?? []
        var weightShape: [Int]?
        var weights = 0
        var nonzeroWeights = 0
        var otherParams = 0
        var searchSpace = 0
        switch node.op {
        case .conv2d(let c):
            weightShape = c.weightShape
            weights = product?.weight?.count ?? 0
            nonzeroWeights = product?.weight?.nonzeros ?? 0
            otherParams = c.bias ? c.outChannels : 0
            searchSpace = c.weight.role.takesNetworkSparsity || c.weight.isSparse ? weights : 0
        case .linear(let l):
            weightShape = l.weightShape
            // A tied weight (GPT's LM head) is a parameter of its owner: counted there once.
            let count = product?.weight?.count ?? 0
            weights = l.tiedTo == nil ? count : 0
            nonzeroWeights = l.tiedTo == nil ? product?.weight?.nonzeros ?? 0 : 0
            otherParams = l.bias ? l.outFeatures : 0
            searchSpace = l.weight.role.takesNetworkSparsity || l.weight.isSparse ? count : 0
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
        default:
            break
        }
        return LayerAccount(
            name: node.name, kind: node.op.kind, origin: node.origin, role: node.op.weight?.role,
            weightShape: weightShape, inputShape: inputShape, outputShape: node.shape, product: product,
            sparsity: product?.weight?.sparsity ?? 0, pattern: product?.weight?.pattern,
            params: weights + otherParams, nonzeroParams: nonzeroWeights + otherParams,
            weights: weights, nonzeroWeights: nonzeroWeights,
            macs: product?.macs ?? 0, effectiveMACs: product?.effectiveMACs ?? 0, searchSpace: searchSpace,
            outputElements: node.shape.reduce(1, *))
    }

    /// One transformed layer against the dense layer it replaces.
    public struct OriginComparison: Hashable, Sendable {
        public let origin: String
        public let denseMACs: Int
        public let effectiveMACs: Int
        public var ratio: Double { Double(effectiveMACs) / Double(denseMACs) }
    }

    /// For each body or shortcut layer of the dense network, the effective MACs of everything the
    /// transformation put in its place: the per-layer iso-FLOP check.
    public static func compareByOrigin(transformed: Network, dense: Network) -> [OriginComparison] {
        let transformedAccount = account(transformed)
        var effectiveByOrigin: [String: Int] = [:]
        for layer in transformedAccount.layers where layer.product?.kind == .weight {
            effectiveByOrigin[layer.origin, default: 0] += layer.effectiveMACs
        }
        return account(dense).layers.compactMap { layer in
            guard layer.role?.takesNetworkSparsity == true else { return nil }
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
