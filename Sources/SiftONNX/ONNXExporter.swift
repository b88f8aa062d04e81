import SparseIFT

/// Turns a network and its parameters into an ONNX model of standard operators (opset 17).
/// It walks the IR generically: each node is emitted by the function for its operation
/// family (`Export*.swift`), reading the per-sample shapes the IR inferred. Every IR
/// node's output value and ONNX node carry the IR node's name, and its tensors the
/// `ParameterStore` keys (`<node>.weight`, `.bias`, `.running_mean`, ...), so a user can
/// map the ONNX graph back to `sift transform` and `sift weights`.
struct ONNXExporter {
    let network: Network
    let parameters: ParameterStore
    let options: ONNXModel.ExportOptions
    var emitter: GraphEmitter

    init(network: Network, parameters: ParameterStore, options: ONNXModel.ExportOptions) {
        self.network = network
        self.parameters = parameters
        self.options = options
        self.emitter = GraphEmitter(reserving: network.nodes.map(\.name))
    }

    static func model(network: Network, parameters: ParameterStore, options: ONNXModel.ExportOptions) throws -> ModelProto {
        if let problem = ParameterCheck.problem(parameters, for: network) {
            throw ONNXError.invalidArgument("the weights do not fit \(network.name): \(problem)")
        }
        var exporter = ONNXExporter(network: network, parameters: parameters, options: options)
        let graph = try exporter.graph()
        var model = ModelProto()
        model.irVersion = ONNXModel.irVersion
        model.opsetImports = [OperatorSetID(domain: "", version: ONNXModel.opsetVersion)]
        model.producerName = "sift"
        model.producerVersion = options.producerVersion
        model.docString = "Exported by sift (Sparse Iso-FLOP Transformations toolkit). Sparse weights are stored densely with their zeros."
        model.graph = graph
        model.metadata = [("sift.network", network.name)]
        return model
    }

    mutating func graph() throws -> GraphProto {
        let consumers = network.consumers
        for node in network.nodes {
            switch node.op {
            case .input:
                continue
            default:
                let inputs = node.inputs.map { network.nodes[$0].name }
                let inputShapes = node.inputs.map { network.nodes[$0].shape }
                try emit(node, inputs: inputs, inputShapes: inputShapes)
                if node.id != network.output.id {
                    emitter.declare(node.name, sampleShape: node.shape)
                }
            }
        }
        var graph = GraphProto()
        graph.name = network.name
        graph.nodes = emitter.nodes
        graph.initializers = emitter.initializers
        graph.valueInfo = emitter.valueInfo
        graph.inputs = [GraphEmitter.valueInfo(network.input.name, sampleShape: network.input.shape,
                                               elementType: try inputElementType(consumers: consumers))]
        graph.outputs = [GraphEmitter.valueInfo(network.output.name, sampleShape: network.output.shape)]
        return graph
    }

    /// Token ids feed `Gather`, which needs integers: a network whose input feeds an
    /// embedding takes int64 ids; every other network takes float32.
    func inputElementType(consumers: [[Int]]) throws -> ONNXDataType {
        let readers = consumers[network.input.id].map { network.nodes[$0] }
        let embeddings = readers.filter { if case .embedding = $0.op { true } else { false } }
        if embeddings.isEmpty { return .float }
        guard embeddings.count == readers.count else {
            throw ONNXError.invalidArgument("the input \(network.input.name) feeds both an embedding and other nodes; ONNX needs one element type")
        }
        return .int64
    }

    mutating func emit(_ node: Node, inputs: [String], inputShapes: [[Int]]) throws {
        switch node.op {
        case .input:
            return
        case .conv2d(let spec):
            try emitConvolution(node, spec: spec, input: inputs[0])
        case .linear(let spec):
            try emitLinear(node, spec: spec, input: inputs[0], inputShape: inputShapes[0])
        case .batchNorm:
            try emitBatchNorm(node, input: inputs[0])
        case .layerNorm:
            try emitLayerNorm(node, input: inputs[0])
        case .relu:
            emitter.node("Relu", output: node.name, reserved: true, inputs: inputs)
        case .relu6:
            emitReLU6(node, input: inputs[0])
        case .gelu:
            emitGELU(node, input: inputs[0])
        case .add:
            emitSum(node, inputs: inputs)
        case .maxPool(let pool):
            emitPool(node, pool: pool, isMax: true, input: inputs[0])
        case .avgPool(let pool):
            emitPool(node, pool: pool, isMax: false, input: inputs[0])
        case .globalAvgPool:
            emitGlobalAveragePool(node, input: inputs[0])
        case .flatten:
            emitter.node("Flatten", output: node.name, reserved: true, inputs: inputs, attributes: [.int("axis", 1)])
        case .embedding:
            try emitEmbedding(node, input: inputs[0])
        case .positionEmbedding(let length):
            try emitPositionEmbedding(node, length: length, input: inputs[0], inputShape: inputShapes[0])
        case .attentionScores(let heads, let causal):
            emitAttentionScores(node, heads: heads, causal: causal, q: inputs[0], k: inputs[1], shape: inputShapes[0])
        case .softmax:
            emitter.node("Softmax", output: node.name, reserved: true, inputs: inputs, attributes: [.int("axis", -1)])
        case .attentionContext(let heads):
            emitAttentionContext(node, heads: heads, probabilities: inputs[0], v: inputs[1], vShape: inputShapes[1])
        }
    }

    /// A parameter tensor the validation above guarantees to exist.
    func tensor(_ key: String) throws -> [Float] {
        guard let tensor = parameters[key] else { throw ONNXError.invalidArgument("missing tensor \(key)") }
        return tensor.values
    }

    /// A layer's weight with its mask applied, so pruned entries are stored as zeros
    /// even when the weight file kept their values (the reference multiplies by the mask too).
    func maskedWeight(_ name: String) throws -> [Float] {
        var weight = try tensor("\(name).weight")
        if let mask = parameters["\(name).mask"]?.values {
            for index in weight.indices { weight[index] *= mask[index] }
        }
        return weight
    }

    /// A note for a weight initializer: its sparsity and pattern as the network declares them.
    static func sparsityNote(_ weight: WeightSparsity) -> String {
        guard weight.isSparse else { return "" }
        return "sparse: s = \(weight.sparsity), pattern \(weight.pattern); pruned weights stored as zeros"
    }
}
