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
                    outputToReLU: outputToReLU, needsInputGradient: !node.inputs.contains(0)))
            }
        }
        return LoweredNetwork(name: network.name, products: products, operations: operations, steps: steps)
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
