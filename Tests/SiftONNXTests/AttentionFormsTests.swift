import Testing
@testable import SiftONNX
import SiftCore
import SparseIFT

/// Attention written the other common ways (Div by sqrt(d), a Where mask, k transposed in
/// two steps, a fixed batch of 1 in the reshapes) imports as the same network; a mask
/// that is not causal or a wrong scale is refused.
@Suite struct AttentionFormsTests {
    let network: Network
    let parameters: ParameterStore
    let model: ModelProto

    init() throws {
        network = try Small.gpt(dModel: 16, heads: 4, layers: 1, vocabulary: 11, sequence: 5)
        parameters = try randomParameters(network, seed: 3)
        model = try ModelProto.decode(bytes: try ONNXModel.serialize(network, parameters: parameters))
    }

    func index(of name: String, in model: ModelProto) throws -> Int {
        try #require(model.graph?.nodes.firstIndex { $0.name == name }, "no node \(name)")
    }

    func scalar(_ name: String, _ value: Float) -> TensorProto {
        var tensor = TensorProto()
        tensor.name = name
        tensor.dataType = ONNXDataType.float.rawValue
        tensor.payload = .floats([value])
        return tensor
    }

    /// The edited model imports as the original network, with identical outputs.
    func expectOriginal(_ edited: ModelProto, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let imported = try ONNXModel.load(bytes: try edited.serialized())
        #expect(imported.network.nodes.map(\.name) == network.nodes.map(\.name), sourceLocation: sourceLocation)
        #expect(imported.network.nodes.map { structural($0.op) } == network.nodes.map { structural($0.op) }, sourceLocation: sourceLocation)
        let x = try Small.input(for: network, batch: 2)
        let same = sameTensor(try ReferenceExecution.run(network, parameters: parameters, input: x),
                              try ReferenceExecution.run(imported.network, parameters: imported.parameters, input: x))
        #expect(same, sourceLocation: sourceLocation)
    }

    @Test func theExportedFormImports() throws {
        try expectOriginal(model)
    }

    @Test func scaleAsDivisionBySqrtD() throws {
        var edited = model
        let i = try index(of: "h.0.attn.scores/scaled", in: edited)
        edited.graph?.initializers.append(scalar("sqrt_d", 2))  // d_head = 4
        edited.graph?.nodes[i].opType = "Div"
        edited.graph?.nodes[i].inputs[1] = "sqrt_d"
        try expectOriginal(edited)
    }

    @Test func maskAsWhere() throws {
        var edited = model
        let i = try index(of: "h.0.attn.scores", in: edited)
        var condition = TensorProto()
        condition.name = "keep"
        condition.dims = [5, 5]
        condition.dataType = ONNXDataType.bool.rawValue
        condition.payload = .raw(ArraySlice((0..<25).map { UInt8($0 % 5 <= $0 / 5 ? 1 : 0) }))
        edited.graph?.initializers += [condition, scalar("minus_inf", -.infinity)]
        let scaled = edited.graph?.nodes[i].inputs[0] ?? ""
        edited.graph?.nodes[i].opType = "Where"
        edited.graph?.nodes[i].inputs = ["keep", scaled, "minus_inf"]
        try expectOriginal(edited)
    }

    @Test func keyTransposedInTwoSteps() throws {
        var edited = model
        let i = try index(of: "h.0.attn.scores/k_t", in: edited)
        edited.graph?.nodes[i].attributes = [.ints("perm", [0, 2, 1, 3])]
        edited.graph?.nodes[i].outputs = ["k_heads_first"]
        var second = NodeProto()
        second.name = "k_second"
        second.opType = "Transpose"
        second.inputs = ["k_heads_first"]
        second.outputs = ["h.0.attn.scores/k_t"]
        second.attributes = [.ints("perm", [0, 1, 3, 2])]
        edited.graph?.nodes.insert(second, at: i + 1)
        try expectOriginal(edited)
    }

    @Test func aFixedBatchOfOneInTheReshapes() throws {
        var edited = model
        edited.graph?.inputs[0].shape?[0] = TensorShapeDimension(value: 1, parameter: nil)
        for index in edited.graph?.initializers.indices ?? 0..<0 where edited.graph?.initializers[index].name.hasPrefix("shape/") == true {
            guard case .int64s(var values) = edited.graph?.initializers[index].payload else { continue }
            values[0] = 1
            edited.graph?.initializers[index].payload = .int64s(values)
        }
        let imported = try ONNXModel.load(bytes: try edited.serialized())
        #expect(imported.network.nodes.map(\.name) == network.nodes.map(\.name))
    }

    @Test func aMaskThatIsNotCausalIsRefused() throws {
        var edited = model
        let i = try #require(edited.graph?.initializers.firstIndex { $0.name == "attention/causal_mask" })
        edited.graph?.initializers[i].payload = .floats([Float](repeating: 0, count: 25))
        let message = try #require(throwingMessage { try ONNXModel.load(bytes: try edited.serialized()) })
        #expect(message.contains("not causal"), "\(message)")
    }

    @Test func aWrongScaleIsRefused() throws {
        var edited = model
        let i = try #require(edited.graph?.initializers.firstIndex { $0.name.hasPrefix("attention/scale") })
        edited.graph?.initializers[i].payload = .floats([0.3])
        let message = try #require(throwingMessage { try ONNXModel.load(bytes: try edited.serialized()) })
        #expect(message.contains("1/sqrt(d_head)"), "\(message)")
    }
}

/// The description of the error `body` throws, or nil.
func throwingMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}
