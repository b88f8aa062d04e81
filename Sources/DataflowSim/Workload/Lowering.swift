import SparseIFT

/// A network as the simulator sees it: its matrix products (per sample, in the project's
/// convention `Y (M×N) = W (M×K) · X (K×N)`: M = weight rows / output channels per group,
/// K = reduction, N = positions) and the rest of its work, in topological order.
///
/// This file is the one adapter between the Sparse-IFT IR and the simulator: the shapes
/// come from `GEMMLowering` (the toolkit's one lowering), the rest (which zeros a product
/// can skip, which products need an input gradient) from the graph.
public struct LoweredProduct: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case linear, conv
        case attentionScores = "attention_scores"
        case attentionContext = "attention_context"
    }

    public let node: String
    public let kind: Kind
    /// Weight rows (output channels) per group.
    public let M: Int
    /// Reduction length.
    public let K: Int
    /// Positions per sample (output pixels or tokens).
    public let N: Int
    /// Independent products (convolution groups, attention heads).
    public let groups: Int
    /// The weight's sparsity; nil for the attention products, which have no weight.
    public let weight: WeightSparsity?
    /// Rows of the whole weight (all groups): the mask's rows.
    public let weightRows: Int
    /// The product's input comes straight from a ReLU (its zeros can be skipped).
    public let inputFromReLU: Bool
    /// The product's output goes straight into a ReLU (its gradient has the same zeros).
    public let outputToReLU: Bool
    /// False for a layer that reads the network's input: no input gradient is needed.
    public let needsInputGradient: Bool
    /// The node whose output this product reads (nil for the attention products, which read two).
    public let inputNode: Int?
    /// A convolution's im2col lowering (nil for linear layers and attention products).
    public let convolution: ConvolutionGeometry?
    /// The layers' products stacked along M into this one by `Lowering.fuseSharedInputs`
    /// (empty for one layer's product).
    public let members: [LoweredProduct]

    public init(node: String, kind: Kind, M: Int, K: Int, N: Int, groups: Int, weight: WeightSparsity?, weightRows: Int,
                inputFromReLU: Bool, outputToReLU: Bool, needsInputGradient: Bool, inputNode: Int? = nil,
                convolution: ConvolutionGeometry? = nil, members: [LoweredProduct] = []) {
        self.node = node
        self.kind = kind
        self.M = M
        self.K = K
        self.N = N
        self.groups = groups
        self.weight = weight
        self.weightRows = weightRows
        self.inputFromReLU = inputFromReLU
        self.outputToReLU = outputToReLU
        self.needsInputGradient = needsInputGradient
        self.inputNode = inputNode
        self.convolution = convolution
        self.members = members
    }

    /// The layers this product computes: its members when fused, else its own node.
    public var layers: [String] { members.isEmpty ? [node] : members.map(\.node) }

    public var isSparse: Bool { (weight?.sparsity ?? 0) > 0 }
    /// Multiply-adds per sample with every weight present.
    public var denseMACs: Int { M * K * N * groups }
}

/// Work that is not a matrix product, per sample.
public struct LoweredOperation: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case elementwise, gelu, norm, softmax, pool, embedding, free
    }

    public let node: String
    public let kind: Kind
    /// Elements of work per sample (output elements; window elements for pooling).
    public let elements: Int
    /// The operation needs a reduction across cores (norms, softmax).
    public let reducesAcrossCores: Bool
}

public struct LoweredNetwork: Sendable {
    public enum Step: Sendable, Hashable {
        case product(Int)
        case operation(Int)
    }

    public let name: String
    public let products: [LoweredProduct]
    public let operations: [LoweredOperation]
    /// Every step in topological order.
    public let steps: [Step]
}

public enum Lowering {
    public static func lower(_ network: Network) -> LoweredNetwork {
        let lowering = GEMMLowering(network)
        let consumers = network.consumers
        var products: [LoweredProduct] = []
        var operations: [LoweredOperation] = []
        var steps: [LoweredNetwork.Step] = []
        func isReLU(_ id: Int) -> Bool {
            switch network.nodes[id].op {
            case .relu, .relu6: true
            default: false
            }
        }
        for node in network.nodes {
            let lowered = lowering.products(ofNode: node.id)
            guard !lowered.isEmpty else {
                let (kind, work, reduces) = operationCost(node, in: network, elements: node.shape.reduce(1, *))
                steps.append(.operation(operations.count))
                operations.append(LoweredOperation(node: node.name, kind: kind, elements: work, reducesAcrossCores: reduces))
                continue
            }
            let inputFromReLU = node.inputs.first.map(isReLU) ?? false
            let outputToReLU = consumers[node.id].count == 1 && isReLU(consumers[node.id][0])
            for product in lowered {
                let kind: LoweredProduct.Kind
                switch product.kind {
                case .weight: kind = product.convolution == nil ? .linear : .conv
                case .attentionScores: kind = .attentionScores
                case .attentionContext: kind = .attentionContext
                }
                steps.append(.product(products.count))
                products.append(LoweredProduct(
                    node: node.name, kind: kind, M: product.M, K: product.K, N: product.N, groups: product.groups,
                    weight: node.op.weight, weightRows: product.weight?.rows ?? 0, inputFromReLU: inputFromReLU,
                    outputToReLU: outputToReLU, needsInputGradient: !node.inputs.contains(0),
                    inputNode: product.kind == .weight ? node.inputs.first : nil, convolution: product.convolution))
            }
        }
        return LoweredNetwork(name: network.name, products: products, operations: operations, steps: steps)
    }

    /// Horizontal fusion, a compilation step: the weight products that read the same
    /// activation through the same lowering (same K, N and im2col geometry, one group) are
    /// stacked along M into one product, which streams its stacked weights through one
    /// mapping, one setup and one pipeline fill: Sparse Parallel's branches, GPT's Q, K and V
    /// projections, Sparse Doped's sparse W and its low-rank U. The input gradient of the
    /// stack is the sum of the members' (its reduction runs over the stacked M), which is
    /// what the layers' input needs; each member's epilogue (a branch's BatchNorm, the sum
    /// of the branches) stays non-matmul work. The fused product takes the place of its
    /// first member in the step order.
    public static func fuseSharedInputs(_ lowered: LoweredNetwork) -> LoweredNetwork {
        struct Key: Hashable {
            let input: Int
            let kind: LoweredProduct.Kind
            let K: Int
            let N: Int
            let convolution: ConvolutionGeometry?
        }
        var members: [Key: [Int]] = [:]
        var order: [Key] = []
        for (index, product) in lowered.products.enumerated() where product.groups == 1 && product.weight != nil {
            guard let input = product.inputNode else { continue }
            let key = Key(input: input, kind: product.kind, K: product.K, N: product.N, convolution: product.convolution)
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(index)
        }
        var fused: [Int: LoweredProduct] = [:]
        var absorbed: Set<Int> = []
        for key in order {
            guard let indices = members[key], indices.count > 1 else { continue }
            fused[indices[0]] = stack(indices.map { lowered.products[$0] })
            absorbed.formUnion(indices.dropFirst())
        }
        guard !fused.isEmpty else { return lowered }
        var products: [LoweredProduct] = []
        var newIndex: [Int: Int] = [:]
        for (index, product) in lowered.products.enumerated() where !absorbed.contains(index) {
            newIndex[index] = products.count
            products.append(fused[index] ?? product)
        }
        let steps = lowered.steps.compactMap { step -> LoweredNetwork.Step? in
            switch step {
            case .product(let index): newIndex[index].map { .product($0) }
            case .operation: step
            }
        }
        return LoweredNetwork(name: lowered.name, products: products, operations: lowered.operations, steps: steps)
    }

    /// Products that read the same activation, stacked along M.
    static func stack(_ parts: [LoweredProduct]) -> LoweredProduct {
        let first = parts[0]
        let rows = parts.reduce(0) { $0 + $1.M }
        // The stack's sparsity: its members' zeros over its weights (the label reports use;
        // the masks give the exact non-zeros).
        let zeros = parts.reduce(0.0) { $0 + Double($1.M) * ($1.weight?.sparsity ?? 0) }
        let patterned = parts.first { $0.isSparse }?.weight ?? first.weight
        let weight = patterned.map { WeightSparsity(role: $0.role, sparsity: zeros / Double(rows), pattern: $0.pattern) }
        return LoweredProduct(
            node: fusedName(parts.map(\.node)), kind: first.kind, M: rows, K: first.K, N: first.N, groups: 1, weight: weight,
            weightRows: parts.reduce(0) { $0 + $1.weightRows }, inputFromReLU: first.inputFromReLU,
            outputToReLU: parts.allSatisfy(\.outputToReLU), needsInputGradient: first.needsInputGradient,
            inputNode: first.inputNode, convolution: first.convolution, members: parts.flatMap { $0.members.isEmpty ? [$0] : $0.members })
    }

    /// `h.0.attn.q_proj+k_proj+v_proj`: the first name whole, the others without the part
    /// they share with it (up to a dot).
    static func fusedName(_ names: [String]) -> String {
        guard let first = names.first else { return "" }
        let rest = names.dropFirst().map { name -> String in
            var shared = 0
            for (index, (a, b)) in zip(first, name).enumerated() {
                guard a == b else { break }
                if a == "." { shared = index + 1 }
            }
            return String(name.dropFirst(shared))
        }
        return ([first] + rest).joined(separator: "+")
    }

    static func operationCost(_ node: Node, in network: Network, elements: Int) -> (LoweredOperation.Kind, Int, Bool) {
        let inputElements = node.inputs.first.map { network.nodes[$0].shape.reduce(1, *) } ?? 0
        switch node.op {
        case .input, .flatten:
            return (.free, 0, false)
        case .relu, .relu6, .positionEmbedding:
            return (.elementwise, elements, false)
        case .add:
            return (.elementwise, elements * max(1, node.inputs.count - 1), false)
        case .gelu:
            return (.gelu, elements, false)
        case .batchNorm, .layerNorm:
            return (.norm, elements, true)
        case .softmax:
            return (.softmax, elements, true)
        case .maxPool(let pool), .avgPool(let pool):
            return (.pool, elements * pool.kernel * pool.kernel, false)
        case .globalAvgPool:
            return (.pool, inputElements, true)
        case .embedding:
            return (.embedding, elements, false)
        case .conv2d, .linear, .attentionScores, .attentionContext:
            return (.free, 0, false)
        }
    }
}
