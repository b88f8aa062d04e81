import SparseIFT
import SparseKernels

/// A weight layer the kernels run as matrix products: a convolution (lowered to GEMM)
/// or a linear layer, with the epilogue the passes fuse into it. Its shape comes from the
/// toolkit's one lowering (`GEMMLowering`): M per group, K, N per sample, groups and the
/// im2col geometry.
struct GemmLayer {
    enum Form {
        case linear
        case conv(ConvolutionGeometry)
    }
    var form: Form
    let product: MatrixProduct
    /// Output channels / features (all groups): M · groups.
    var outputs: Int { product.M * product.groups }
    /// Reduction length of one group: K.
    var reduction: Int { product.K }
    var groups: Int { product.groups }
    /// `outputs x reduction`, row-major, masked; BatchNorm folding rescales rows.
    var weights: [Float]
    var bias: [Float]?
    /// When true, `inputs[1]` of the node is added in the epilogue (a fused residual).
    var hasResidual = false
    var activation: Activation = .none
    /// The sparsity the network declares (the detected structure decides the kernels).
    var declared: WeightSparsity
}

/// A depthwise convolution (groups == channels), run by its own operator.
struct DepthwiseLayer {
    var spec: Conv2dSpec
    /// `channels x (kh·kw)`.
    var weights: [Float]
    var bias: [Float]?
    var activation: Activation = .none
}

/// The operations of the compiler's graph: the IR's, with parameters attached and the
/// fused forms the passes create.
enum GraphOp {
    case input
    case gemm(GemmLayer)
    case depthwise(DepthwiseLayer)
    /// Per-channel `act(x·scale + shift)`: a BatchNorm that could not be folded.
    case affine(scale: [Float], shift: [Float], activation: Activation)
    case activation(Activation)
    case add(Activation)
    case layerNorm(gamma: [Float], beta: [Float])
    case attentionScores(heads: Int, causal: Bool)
    case softmax
    case attentionContext(heads: Int)
    /// scores → softmax → context fused; inputs q, k, v.
    case attention(heads: Int, causal: Bool)
    case maxPool(PoolSpec)
    case avgPool(PoolSpec)
    case globalAvgPool
    case flatten
    case embedding(table: [Float], vocabulary: Int, dim: Int)
    case positionEmbedding(table: [Float])

    /// Short name for plans and profiles.
    var kind: String {
        switch self {
        case .input: "input"
        case .gemm(let g):
            if case .conv = g.form { "conv2d" } else { "linear" }
        case .depthwise: "conv2d_dw"
        case .affine: "affine"
        case .activation(let a): a.rawValue
        case .add: "add"
        case .layerNorm: "layernorm"
        case .attentionScores: "attention_scores"
        case .softmax: "softmax"
        case .attentionContext: "attention_context"
        case .attention: "attention"
        case .maxPool: "maxpool"
        case .avgPool: "avgpool"
        case .globalAvgPool: "global_avgpool"
        case .flatten: "flatten"
        case .embedding: "embedding"
        case .positionEmbedding: "position_embedding"
        }
    }
}

struct GraphNode {
    let id: Int
    var name: String
    var op: GraphOp
    var inputs: [Int]
    /// Per-sample IR shape of the node's value.
    let shape: [Int]
    /// Names of the IR nodes fused into this one (BatchNorm, activation, add...).
    var fused: [String] = []
    var removed = false
}

/// The compiler's working graph: built from a network and its parameters, rewritten in
/// place by the passes; nodes keep their ids, removed ones are flagged.
struct Graph {
    var nodes: [GraphNode]
    var output: Int
    /// Token-id input (an embedding reads it): the input is `[1, batch·T]`, not `[D, batch]`.
    let tokenInput: Bool

    static let normEpsilon = 1e-5

    /// Attaches the (masked) parameters to every node. Parameters were validated.
    init(_ network: Network, parameters: ParameterStore) throws {
        func tensor(_ key: String) throws -> [Float] {
            guard let t = parameters[key] else { throw RuntimeError.invalidInput("missing tensor \(key)") }
            return t.values
        }
        func masked(_ name: String, owner: String? = nil) throws -> [Float] {
            var weight = try tensor("\(owner ?? name).weight")
            if owner == nil, let mask = parameters["\(name).mask"] {
                for index in weight.indices { weight[index] *= mask.values[index] }
            }
            return weight
        }
        let lowering = GEMMLowering(network)
        func product(_ node: Node) throws -> MatrixProduct {
            guard let product = lowering.products(ofNode: node.id).first, product.kind == .weight else {
                throw RuntimeError.unsupported("\(node.name): the GEMM lowering has no weight product for it")
            }
            return product
        }
        var nodes: [GraphNode] = []
        for node in network.nodes {
            let op: GraphOp
            switch node.op {
            case .input:
                op = .input
            case .conv2d(let c):
                let bias = c.bias ? try tensor("\(node.name).bias") : nil
                if c.isDepthwise {
                    op = .depthwise(DepthwiseLayer(spec: c, weights: try masked(node.name), bias: bias))
                } else {
                    let p = try product(node)
                    guard let geometry = p.convolution else { throw RuntimeError.unsupported("\(node.name): a convolution without geometry") }
                    op = .gemm(GemmLayer(form: .conv(geometry), product: p, weights: try masked(node.name), bias: bias, declared: c.weight))
                }
            case .linear(let l):
                op = .gemm(GemmLayer(form: .linear, product: try product(node), weights: try masked(node.name, owner: l.tiedTo),
                                     bias: l.bias ? try tensor("\(node.name).bias") : nil, declared: l.weight))
            case .batchNorm:
                let gamma = try tensor("\(node.name).weight"), beta = try tensor("\(node.name).bias")
                let mean = try tensor("\(node.name).running_mean"), variance = try tensor("\(node.name).running_var")
                var scale = [Float](repeating: 0, count: gamma.count), shift = scale
                for c in gamma.indices {
                    guard variance[c] >= 0 else {
                        throw RuntimeError.invalidInput("\(node.name).running_var has the negative value \(variance[c]) at channel \(c)")
                    }
                    let s = Double(gamma[c]) / (Double(variance[c]) + Self.normEpsilon).squareRoot()
                    scale[c] = Float(s)
                    shift[c] = Float(Double(beta[c]) - Double(mean[c]) * s)
                    guard scale[c].isFinite, shift[c].isFinite else {
                        throw RuntimeError.invalidInput("\(node.name): BatchNorm scale or shift overflows float at channel \(c)")
                    }
                }
                op = .affine(scale: scale, shift: shift, activation: .none)
            case .layerNorm:
                op = .layerNorm(gamma: try tensor("\(node.name).weight"), beta: try tensor("\(node.name).bias"))
            case .relu: op = .activation(.relu)
            case .relu6: op = .activation(.relu6)
            case .gelu: op = .activation(.gelu)
            case .add: op = .add(.none)
            case .maxPool(let p): op = .maxPool(p)
            case .avgPool(let p): op = .avgPool(p)
            case .globalAvgPool: op = .globalAvgPool
            case .flatten: op = .flatten
            case .embedding(let vocabulary, let dim):
                op = .embedding(table: try tensor("\(node.name).weight"), vocabulary: vocabulary, dim: dim)
            case .positionEmbedding:
                op = .positionEmbedding(table: try tensor("\(node.name).weight"))
            case .attentionScores(let heads, let causal): op = .attentionScores(heads: heads, causal: causal)
            case .softmax: op = .softmax
            case .attentionContext(let heads): op = .attentionContext(heads: heads)
            }
            nodes.append(GraphNode(id: node.id, name: node.name, op: op, inputs: node.inputs, shape: node.shape))
        }
        self.nodes = nodes
        self.output = network.nodes.count - 1
        self.tokenInput = network.nodes.contains { node in
            if case .embedding = node.op { return node.inputs == [0] }
            return false
        }
    }

    /// The live nodes that read each node (one entry per read, so a node read twice by
    /// the same consumer appears twice).
    func consumers() -> [[Int]] {
        var result = [[Int]](repeating: [], count: nodes.count)
        for node in nodes where !node.removed {
            for input in node.inputs { result[input].append(node.id) }
        }
        return result
    }

    /// Makes every reader of `old` (and the output, if it was `old`) read `new` instead.
    mutating func replaceUses(of old: Int, with new: Int) {
        for index in nodes.indices where !nodes[index].removed {
            nodes[index].inputs = nodes[index].inputs.map { $0 == old ? new : $0 }
        }
        if output == old { output = new }
    }

    /// Removes `id`, whose value is now computed by `replacement`, and records the fusion.
    mutating func fuse(_ id: Int, into replacement: Int) {
        replaceUses(of: id, with: replacement)
        nodes[replacement].fused.append(nodes[id].name)
        nodes[replacement].fused += nodes[id].fused
        nodes[id].removed = true
    }
}
