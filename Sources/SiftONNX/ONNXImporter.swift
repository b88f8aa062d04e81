import SparseIFT

/// One future IR node found in the ONNX graph: the value it produces (its IR name), the
/// values it reads, its tensors, and how to make its operation once the inputs' per-sample
/// shapes are known (a Reshape's meaning, a pool's output size and the attention head
/// count are only checkable then). `build` returning nil makes the layer an alias of its
/// first input (Identity, Dropout, a Flatten of something already flat).
/// The IR's operation type, named so files that import Foundation (which has its own
/// `Operation`) can refer to it.
typealias IROperation = Operation

struct PendingLayer {
    let name: String
    let inputs: [String]
    /// The ONNX node(s) it comes from, for error messages.
    let source: String
    /// Tensors by `ParameterStore` suffix (`weight`, `bias`, `running_mean`, ...).
    var tensors: [String: ConstantTensor] = [:]
    let build: ([[Int]]) throws -> Operation?
}

/// Reads an ONNX graph into the network IR in four passes:
/// 1. fold constants (initializers, `Constant`, shape arithmetic on constants);
/// 2. fuse the multi-node patterns that are one IR operation (attention scores and
///    context, decomposed layer normalisation, element-wise subgraphs that compute GELU
///    or ReLU6);
/// 3. translate every remaining node, fusing the short forward patterns on the way
///    (MatMul + bias Add, GlobalAveragePool + Flatten);
/// 4. order the layers from the input to the output and build the network with
///    `NetworkBuilder`, which checks every shape; then detect each weight's sparsity.
/// Anything else is refused with the node's name and operator.
struct ONNXImporter {
    var graph: ImportGraph
    /// Nodes already folded or fused into a layer.
    var absorbed: Set<Int> = []
    var layers: [PendingLayer] = []

    init(_ model: ModelProto) throws {
        graph = try ImportGraph(model)
    }

    static func load(_ model: ModelProto) throws -> (network: Network, parameters: ParameterStore) {
        var importer = try ONNXImporter(model)
        try importer.foldConstants()
        try importer.fuseAttention()
        try importer.fuseLayerNorms()
        try importer.fuseElementwiseRegions()
        try importer.translateRemainingNodes()
        return try importer.buildNetwork(name: model.graph?.name ?? "onnx")
    }

    func isDefaultDomain(_ node: NodeProto) -> Bool { node.domain.isEmpty || node.domain == "ai.onnx" }

    /// Pass 3: every node not folded or fused becomes a layer, or an error naming it.
    mutating func translateRemainingNodes() throws {
        for index in graph.nodes.indices where !absorbed.contains(index) {
            let node = graph.nodes[index]
            guard isDefaultDomain(node) else {
                throw ONNXError.unsupported("\(describe(node)): operators outside the default ONNX domain are not supported")
            }
            try node.checkPlainAttributes()
            absorbed.insert(index)
            try translate(node, index: index)
        }
    }

    /// The supported operators, for error messages.
    static let supportedOperators = [
        "Conv", "Gemm", "MatMul (+ Add)", "BatchNormalization", "LayerNormalization (or decomposed)", "Relu", "Clip (ReLU6)",
        "Gelu / its tanh expansion", "Add", "Sum", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean",
        "Flatten", "Reshape", "Softmax", "Gather (embedding)", "attention (Reshape/Transpose/MatMul)",
        "Identity", "Dropout", "Cast", "Constant",
    ].joined(separator: ", ")

    mutating func translate(_ node: NodeProto, index: Int) throws {
        switch node.opType {
        case "Conv": try translateConvolution(node)
        case "Gemm": try translateGemm(node)
        case "MatMul": try translateMatMul(node)
        case "BatchNormalization": try translateBatchNorm(node)
        case "LayerNormalization": try translateLayerNorm(node)
        case "Relu": try unary(node, op: .relu)
        case "Clip": try translateClip(node)
        case "Gelu": try translateGelu(node)
        case "Add", "Sum": try translateAdd(node)
        case "MaxPool", "AveragePool": try translatePool(node)
        case "GlobalAveragePool": try translateGlobalAveragePool(node)
        case "ReduceMean": try translateReduceMean(node)
        case "Flatten": try translateFlatten(node)
        case "Reshape": try translateReshape(node)
        case "Softmax": try translateSoftmax(node)
        case "Gather": try translateGather(node)
        case "Identity", "Dropout", "Cast": try translateAlias(node)
        case "Mul", "Div", "Sub", "Pow", "Tanh", "Erf", "Sqrt", "Neg", "Max", "Min", "Sigmoid", "Exp", "Abs":
            throw ONNXError.unsupported(
                "\(describe(node)): element-wise arithmetic is only imported as part of a GELU (tanh) or ReLU6 subgraph, or of an attention pattern; this one is not")
        default:
            throw ONNXError.unsupported("\(describe(node)): operator not supported; sift imports \(Self.supportedOperators)")
        }
    }

    // MARK: - Helpers for the translators

    /// The single non-constant data input of a node.
    func dataInput(_ node: NodeProto, _ index: Int = 0) throws -> String {
        guard let name = node.input(index) else { throw ONNXError.invalidModel("\(describe(node)) has no input \(index)") }
        guard !graph.isConstant(name) else {
            throw ONNXError.unsupported("\(describe(node)): input \(index) ('\(name)') is a constant; sift imports operators on the network's data only")
        }
        return name
    }

    /// A constant input (weight, bias, shape...).
    func constantInput(_ node: NodeProto, _ index: Int, _ what: String) throws -> ConstantTensor {
        guard let name = node.input(index) else { throw ONNXError.invalidModel("\(describe(node)) has no \(what) (input \(index))") }
        guard let value = graph.constant(name) else {
            throw ONNXError.unsupported("\(describe(node)): the \(what) ('\(name)') must be a constant (initializer), it is computed")
        }
        return value
    }

    func output(_ node: NodeProto) throws -> String {
        guard let name = node.outputs.first, !name.isEmpty else { throw ONNXError.invalidModel("\(describe(node)) has no output") }
        return name
    }

    /// Refuses a node whose optional extra outputs (BatchNorm statistics, MaxPool indices,
    /// LayerNorm mean...) are read: only the first output has an IR equivalent.
    func requireOnlyFirstOutputUsed(_ node: NodeProto) throws {
        for extra in node.outputs.dropFirst() where !extra.isEmpty && graph.readerCount(extra) > 0 {
            throw ONNXError.unsupported("\(describe(node)): its extra output '\(extra)' is used; only the first output can be imported")
        }
    }

    mutating func unary(_ node: NodeProto, op: Operation) throws {
        try requireOnlyFirstOutputUsed(node)
        layers.append(PendingLayer(name: try output(node), inputs: [try dataInput(node)], source: describe(node), build: { _ in op }))
    }

    mutating func translateAlias(_ node: NodeProto) throws {
        try requireOnlyFirstOutputUsed(node)
        if node.opType == "Dropout", graph.opset >= 12, let training = node.input(2) {
            guard let mode = graph.constant(training)?.scalar, mode == 0 else {
                throw ONNXError.unsupported("\(describe(node)): Dropout in training mode cannot be imported")
            }
        }
        if node.opType == "Cast" {
            // A cast keeps the value; only casts of the token ids (to integers, for Gather)
            // or of float data to float make sense in an inference graph.
            let to = Int32(truncatingIfNeeded: try node.intAttribute("to", default: 1))
            guard [ONNXDataType.float, .double, .int64, .int32].contains(where: { $0.rawValue == to }) else {
                throw ONNXError.unsupported("\(describe(node)): cast to \(ONNXDataType.name(to)) is not supported")
            }
        }
        layers.append(PendingLayer(name: try output(node), inputs: [try dataInput(node)], source: describe(node), build: { _ in nil }))
    }
}
