import Foundation
import Testing
@testable import SiftONNX
import SiftCore
import SparseIFT

/// The common equivalent forms other exporters write import as the same IR operations,
/// with the same outputs; what the IR cannot represent is refused by node and operator.
@Suite struct ImportFormsTests {
    static let weight: [Float] = ramp(12)          // [3 out, 4 in]
    static let bias: [Float] = [0.5, -0.25, 0.125]
    static let x: [Float] = ramp(8, scale: 0.3, offset: -1) // batch 2 of [4]

    static func transposed(_ w: [Float], rows: Int, columns: Int) -> [Float] {
        (0..<(rows * columns)).map { index in w[(index % rows) * columns + index / rows] }
    }

    /// y = W x + b by hand, in Double like the reference.
    static var expectedLinear: [Float] {
        var result: [Float] = []
        for sample in 0..<2 {
            for o in 0..<3 {
                var sum = Double(bias[o])
                for i in 0..<4 { sum += Double(weight[o * 4 + i]) * Double(x[sample * 4 + i]) }
                result.append(Float(sum))
            }
        }
        return result
    }

    func linearForm(_ build: (inout TestGraph) -> Void) throws -> (network: Network, parameters: ParameterStore) {
        var graph = TestGraph(shape: [4])
        build(&graph)
        return try graph.load()
    }

    @Test func gemmAndMatMulPlusAddAreTheSameLinearLayer() throws {
        let w = Self.weight, b = Self.bias
        let wT = Self.transposed(w, rows: 3, columns: 4)
        let forms: [(String, (inout TestGraph) -> Void)] = [
            ("Gemm transB=1", { g in g.node("Gemm", [g.inputName, g.floats("w", [3, 4], w), g.floats("b", [3], b)], "y", [.int("transB", 1)]) }),
            ("Gemm transB=0, alpha 2", { g in
                g.node("Gemm", [g.inputName, g.floats("w", [4, 3], wT.map { $0 / 2 }), g.floats("b", [1, 3], b)], "y", [.float("alpha", 2)])
            }),
            ("MatMul + Add", { g in
                let product = g.node("MatMul", [g.inputName, g.floats("w", [4, 3], wT)], "p")
                g.node("Add", [g.floats("b", [3], b), product], "y")
            }),
            ("MatMul of a transposed initializer + Add", { g in
                let t = g.node("Transpose", [g.floats("w", [3, 4], w)], "wt", [.ints("perm", [1, 0])])
                let product = g.node("MatMul", [g.inputName, t], "p")
                g.node("Add", [product, g.floats("b", [3], b)], "y")
            }),
        ]
        for (label, build) in forms {
            let imported = try linearForm(build)
            #expect(imported.network.nodes.map(\.op.kind) == ["input", "linear"], "\(label)")
            #expect(imported.network.output.name == "y", "\(label)")
            let y = try run(imported, batch: 2, values: Self.x)
            #expect(maxDifference(y, Self.expectedLinear) <= 1e-6, "\(label): \(y) vs \(Self.expectedLinear)")
        }
    }

    @Test func clipIsReLU6OrReLUWhateverTheOpset() throws {
        var withInputs = TestGraph(shape: [4])
        withInputs.node("Clip", [withInputs.inputName, withInputs.floats("lo", [], [0]), withInputs.floats("hi", [], [6])], "y")
        #expect(try withInputs.load().network.output.op == .relu6)

        var withAttributes = TestGraph(shape: [4])
        withAttributes.opset = 9
        withAttributes.node("Clip", [withAttributes.inputName], "y", [.float("min", 0), .float("max", 6)])
        #expect(try withAttributes.load().network.output.op == .relu6)

        var lowerOnly = TestGraph(shape: [4])
        lowerOnly.node("Clip", [lowerOnly.inputName, lowerOnly.floats("lo", [], [0])], "y")
        #expect(try lowerOnly.load().network.output.op == .relu)

        var other = TestGraph(shape: [4])
        other.node("Clip", [other.inputName, other.floats("lo", [], [-1]), other.floats("hi", [], [1])], "y", name: "clamp")
        let message = importError(other)
        #expect(message.contains("clamp") && message.contains("Clip"), "\(message)")
    }

    @Test func globalAveragePoolingForms() throws {
        let values = ramp(2 * 2 * 3 * 3, scale: 0.2)
        let forms: [(String, Int64, (inout TestGraph) -> String)] = [
            ("GlobalAveragePool + Flatten", 17, { g in g.node("Flatten", [g.node("GlobalAveragePool", [g.inputName])], "y", [.int("axis", 1)]) }),
            ("GlobalAveragePool + Reshape", 17, { g in g.node("Reshape", [g.node("GlobalAveragePool", [g.inputName]), g.ints("s", [0, -1])], "y") }),
            ("GlobalAveragePool + Squeeze", 17, { g in g.node("Squeeze", [g.node("GlobalAveragePool", [g.inputName]), g.ints("axes", [3, 2])], "y") }),
            ("ReduceMean keepdims 0", 17, { g in g.node("ReduceMean", [g.inputName], "y", [.ints("axes", [2, 3]), .int("keepdims", 0)]) }),
            ("ReduceMean (axes input) + Flatten", 18, { g in
                g.node("Flatten", [g.node("ReduceMean", [g.inputName, g.ints("axes", [-1, -2])])], "y")
            }),
        ]
        for (label, opset, build) in forms {
            var graph = TestGraph(shape: [2, 3, 3])
            graph.opset = opset
            _ = build(&graph)
            let imported = try graph.load()
            #expect(imported.network.nodes.map(\.op.kind) == ["input", "global_avgpool"], "\(label)")
            let y = try run(imported, batch: 2, values: values)
            let expected = (0..<4).map { plane in values[(plane * 9)..<(plane * 9 + 9)].reduce(0, +) / 9 }
            #expect(maxDifference(y, expected) <= 1e-6, "\(label)")
        }
        // Pooled and kept [C, 1, 1]: an average pool over the whole plane.
        var kept = TestGraph(shape: [2, 3, 3])
        kept.node("GlobalAveragePool", [kept.inputName], "y")
        let imported = try kept.load()
        #expect(imported.network.output.op == .avgPool(PoolSpec(kernel: 3, stride: 3)))
        #expect(imported.network.output.shape == [2, 1, 1])
    }

    static func gelu(_ v: Float) -> Float {
        let x = Double(v)
        let inner: Double = (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)
        return Float(0.5 * x * (1 + tanh(inner)))
    }

    @Test func geluAsAnOperatorOrAsItsTanhExpansion() throws {
        let values = ramp(8, scale: 0.7, offset: -3)
        var op = TestGraph(shape: [8])
        op.opset = 20
        op.node("Gelu", [op.inputName], "y", [.string("approximate", "tanh")])

        // PyTorch's spelling: x * 0.5 * (1 + tanh(0.7978845608 * (x + 0.044715 * x^3))).
        var pytorch = TestGraph(shape: [8])
        let x = pytorch.inputName
        let cube = pytorch.node("Pow", [x, pytorch.floats("three", [], [3])])
        let term = pytorch.node("Mul", [pytorch.floats("c", [], [0.044715]), cube])
        let inner = pytorch.node("Add", [x, term])
        let scaled = pytorch.node("Mul", [inner, pytorch.floats("k", [], [0.7978845608])])
        let t = pytorch.node("Tanh", [scaled])
        let onePlus = pytorch.node("Add", [pytorch.floats("one", [], [1]), t])
        let half = pytorch.node("Mul", [x, pytorch.floats("half", [], [0.5])])
        pytorch.node("Mul", [half, onePlus], "y")

        for graph in [op, pytorch] {
            let imported = try graph.load()
            #expect(imported.network.nodes.map(\.op.kind) == ["input", "gelu"])
            #expect(maxDifference(try run(imported, batch: 1, values: values), values.map(Self.gelu)) <= 1e-6)
        }
    }

    @Test func exactGELUAndOtherApproximationsAreRefused() throws {
        var op = TestGraph(shape: [8])
        op.opset = 20
        op.node("Gelu", [op.inputName], "y", name: "act")
        #expect(importError(op).contains("erf"))

        var erf = TestGraph(shape: [8])
        let x = erf.inputName
        let divided = erf.node("Div", [x, erf.floats("sqrt2", [], [1.4142135])])
        let e = erf.node("Erf", [divided])
        let onePlus = erf.node("Add", [e, erf.floats("one", [], [1])])
        let product = erf.node("Mul", [x, onePlus])
        erf.node("Mul", [product, erf.floats("half", [], [0.5])], "y")
        let message = importError(erf)
        #expect(message.contains("exact (erf) GELU"), "\(message)")

        // x · sigmoid(1.702 x): close to GELU, but not the same function.
        var sigmoid = TestGraph(shape: [8])
        let s = sigmoid.node("Sigmoid", [sigmoid.node("Mul", [sigmoid.inputName, sigmoid.floats("k", [], [1.702])], "scaled")])
        sigmoid.node("Mul", [sigmoid.inputName, s], "y")
        let refusal = importError(sigmoid)
        #expect(refusal.contains("'scaled' (Mul)") || refusal.contains("(Sigmoid)") || refusal.contains("'y' (Mul)"), "\(refusal)")
    }

    @Test func anUnsupportedOperatorIsNamedWithItsNode() throws {
        var graph = TestGraph(shape: [4])
        graph.node("Sin", [graph.node("Relu", [graph.inputName])], "y", name: "mystery")
        let message = importError(graph)
        #expect(message.contains("mystery") && message.contains("Sin") && message.contains("not supported"), "\(message)")

        var custom = TestGraph(shape: [4])
        custom.node("Relu", [custom.inputName], "y")
        custom.nodes[0].domain = "com.microsoft"
        #expect(importError(custom).contains("com.microsoft::Relu"))
    }

    @Test func identityDropoutAndCastPassValuesThrough() throws {
        var graph = TestGraph(shape: [4])
        let relu = graph.node("Relu", [graph.inputName], "r")
        let identity = graph.node("Identity", [relu])
        let dropout = graph.node("Dropout", [identity])
        graph.node("Cast", [dropout], "y", [.int("to", 1)])
        let imported = try graph.load()
        #expect(imported.network.nodes.map(\.name) == ["x", "r"])
    }

    @Test func batchNormEpsilonIsFoldedIntoTheVariance() throws {
        var graph = TestGraph(shape: [2, 1, 1])
        let inputs = [graph.inputName, graph.floats("g", [2], [1.5, 0.5]), graph.floats("b", [2], [0.1, -0.1]),
                      graph.floats("m", [2], [0.2, -0.3]), graph.floats("v", [2], [0.04, 2])]
        graph.node("BatchNormalization", inputs, "y", [.float("epsilon", 1e-3)])
        let imported = try graph.load()
        let y = try run(imported, batch: 1, values: [1, 2])
        let first: Double = (1 - 0.2) * 1.5 / (0.04 + 1e-3).squareRoot() + 0.1
        let second: Double = (2 + 0.3) * 0.5 / (2 + 1e-3).squareRoot() - 0.1
        let expected: [Float] = [Float(first), Float(second)]
        #expect(maxDifference(y, expected) <= 1e-5, "\(y) vs \(expected)")
    }

    /// PyTorch's decomposition below opset 17, with d·d for the square and the axes as an
    /// input (opset 18), against the LayerNormalization operator on the same weights.
    @Test func decomposedLayerNormIsTheLayerNorm() throws {
        let scale: [Float] = [1.5, 0.5, -1, 2], shift: [Float] = [0.1, 0.2, 0.3, -0.4]
        let values = ramp(12, scale: 0.4, offset: -1)
        var op = TestGraph(shape: [3, 4])
        op.node("LayerNormalization", [op.inputName, op.floats("s", [4], scale), op.floats("b", [4], shift)], "y", [.float("epsilon", 1e-5)])
        var decomposed = TestGraph(shape: [3, 4])
        decomposed.opset = 18
        let x = decomposed.inputName
        let axes = decomposed.ints("axes", [-1])
        let mean = decomposed.node("ReduceMean", [x, axes])
        let centred = decomposed.node("Sub", [x, mean])
        let variance = decomposed.node("ReduceMean", [decomposed.node("Mul", [centred, centred]), axes])
        let deviation = decomposed.node("Sqrt", [decomposed.node("Add", [decomposed.floats("eps", [], [1e-5]), variance])])
        let normalised = decomposed.node("Div", [centred, deviation])
        let scaled = decomposed.node("Mul", [decomposed.floats("s", [4], scale), normalised])
        decomposed.node("Add", [scaled, decomposed.floats("b", [4], shift)], "y")
        let a = try op.load(), b = try decomposed.load()
        #expect(b.network.nodes.map(\.op.kind) == ["input", "layernorm"])
        #expect(try run(a, batch: 1, values: values) == run(b, batch: 1, values: values))
    }

    @Test func layerNormWithAnotherEpsilonIsRefused() throws {
        var graph = TestGraph(shape: [3, 4])
        graph.node("LayerNormalization", [graph.inputName, graph.floats("s", [4], [1, 1, 1, 1])], "y", name: "ln", [.float("epsilon", 1e-12)])
        let message = importError(graph)
        #expect(message.contains("ln") && message.contains("epsilon"), "\(message)")
    }

    @Test func convolutionWithSamePaddingAndNoBias() throws {
        var graph = TestGraph(shape: [1, 4, 4])
        graph.node("Conv", [graph.inputName, graph.floats("w", [2, 1, 3, 3], ramp(18))], "y", [.string("auto_pad", "SAME_UPPER")])
        let imported = try graph.load()
        guard case .conv2d(let spec) = imported.network.output.op else {
            Issue.record("not a convolution")
            return
        }
        #expect(spec.padding == 1 && spec.stride == 1 && !spec.bias && spec.outChannels == 2)
        #expect(imported.network.output.shape == [2, 4, 4])
    }

    @Test func shapeProblemsAreRefusedClearly() throws {
        var symbolic = TestGraph(shape: [4])
        symbolic.input.shape?[1] = TensorShapeDimension(value: nil, parameter: "features")
        symbolic.node("Relu", [symbolic.inputName], "y")
        #expect(importError(symbolic).contains("only the batch axis may be symbolic"))

        var twoInputs = TestGraph(shape: [4])
        twoInputs.node("Add", [twoInputs.inputName, "other"], "y")
        var model = twoInputs.model()
        model.graph?.inputs.append(GraphEmitter.valueInfo("other", sampleShape: [4]))
        #expect(throws: ONNXError.self) { try ONNXModel.load(bytes: try model.serialized()) }

        var cycle = TestGraph(shape: [4])
        cycle.node("Add", [cycle.inputName, "b"], "a")
        cycle.node("Relu", ["a"], "b")
        #expect(importError(cycle).contains("cycle"))

        var missing = TestGraph(shape: [4])
        missing.node("Add", [missing.inputName, "nowhere"], "y")
        #expect(importError(missing).contains("nowhere"))
    }

    @Test func nodesOutOfOrderAreSortedFirst() throws {
        var graph = TestGraph(shape: [4])
        graph.node("Relu", [graph.inputName], "a")
        graph.node("Softmax", ["a"], "y")
        graph.nodes.reverse()
        let imported = try graph.load()
        #expect(imported.network.nodes.map(\.name) == ["x", "a", "y"])
    }
}
