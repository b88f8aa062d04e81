@testable import SiftONNX
import SiftCore
import SparseIFT

/// Builds small ONNX graphs by hand, in the forms other exporters write, for the import
/// tests.
struct TestGraph {
    var nodes: [NodeProto] = []
    var initializers: [TensorProto] = []
    var opset: Int64 = 17
    var input: ValueInfoProto
    var output = ""
    private var counter = 0

    init(input name: String = "x", shape: [Int], type: ONNXDataType = .float, batch: Int? = nil) {
        input = GraphEmitter.valueInfo(name, sampleShape: shape, elementType: type)
        if let batch { input.shape?[0] = TensorShapeDimension(value: Int64(batch), parameter: nil) }
    }

    var inputName: String { input.name }

    @discardableResult
    mutating func floats(_ name: String, _ shape: [Int], _ values: [Float]) -> String {
        var tensor = TensorProto()
        tensor.name = name
        tensor.dims = shape.map(Int64.init)
        tensor.dataType = ONNXDataType.float.rawValue
        tensor.payload = .floats(values)
        initializers.append(tensor)
        return name
    }

    @discardableResult
    mutating func ints(_ name: String, _ values: [Int64], shape: [Int]? = nil) -> String {
        var tensor = TensorProto()
        tensor.name = name
        tensor.dims = (shape ?? [values.count]).map(Int64.init)
        tensor.dataType = ONNXDataType.int64.rawValue
        tensor.payload = .int64s(values)
        initializers.append(tensor)
        return name
    }

    /// Appends a node; its output is `output` (or a fresh name) and becomes the graph output.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], _ output: String? = nil, name: String? = nil,
                       _ attributes: [AttributeProto] = []) -> String {
        counter += 1
        let value = output ?? "\(op.lowercased())_\(counter)"
        var node = NodeProto()
        node.name = name ?? value
        node.opType = op
        node.inputs = inputs
        node.outputs = [value]
        node.attributes = attributes
        nodes.append(node)
        self.output = value
        return value
    }

    func model() -> ModelProto {
        var graph = GraphProto()
        graph.name = "test"
        graph.nodes = nodes
        graph.initializers = initializers
        graph.inputs = [input]
        var out = ValueInfoProto()
        out.name = output
        out.elementType = ONNXDataType.float.rawValue
        graph.outputs = [out]
        var model = ModelProto()
        model.irVersion = 8
        model.opsetImports = [OperatorSetID(domain: "", version: opset)]
        model.graph = graph
        return model
    }

    func load() throws -> (network: Network, parameters: ParameterStore) {
        try ONNXModel.load(bytes: try model().serialized())
    }
}

/// A deterministic float sequence for weights and inputs.
func ramp(_ count: Int, scale: Float = 0.1, offset: Float = -0.3) -> [Float] {
    (0..<count).map { Float(($0 * 7) % 11) * scale + offset + Float($0) * 0.01 }
}

/// Runs an imported model on `values` (per-sample shape from the network).
func run(_ imported: (network: Network, parameters: ParameterStore), batch: Int, values: [Float]) throws -> [Float] {
    let input = try Tensor(shape: [batch] + imported.network.input.shape, values: values)
    return try ReferenceExecution.run(imported.network, parameters: imported.parameters, input: input).values
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// The error an import throws, as text (empty when it does not throw).
func importError(_ graph: TestGraph) -> String {
    do {
        _ = try graph.load()
        return ""
    } catch {
        return "\(error)"
    }
}
