import SparseIFT

/// Activations, sums and normalisations that act on each value (or each row) alone.
extension ONNXExporter {
    /// ReLU6 is Clip with min and max given as inputs (opset 11 onwards).
    mutating func emitReLU6(_ node: Node, input: String) {
        let low = emitter.sharedScalar("relu6/min", 0)
        let high = emitter.sharedScalar("relu6/max", 6)
        emitter.node("Clip", output: node.name, reserved: true, inputs: [input, low, high])
    }

    /// GELU with the tanh approximation the reference uses (GPT-2/GPT-3):
    /// `0.5 · x · (1 + tanh(sqrt(2/π) · (x + 0.044715 · x³)))`. The Gelu operator only
    /// exists from opset 20, which DeepSparse 1.8 (onnx < 1.15) cannot read, so it is
    /// written out with Mul, Add and Tanh, the form PyTorch exports below opset 20.
    mutating func emitGELU(_ node: Node, input x: String) {
        let n = node.name
        let square = emitter.node("Mul", output: "\(n)/square", inputs: [x, x])
        let cube = emitter.node("Mul", output: "\(n)/cube", inputs: [square, x])
        let cubic = emitter.node("Mul", output: "\(n)/cubic_term", inputs: [cube, emitter.sharedScalar("gelu/coefficient", 0.044715)])
        let inner = emitter.node("Add", output: "\(n)/inner", inputs: [x, cubic])
        let scaled = emitter.node("Mul", output: "\(n)/scaled", inputs: [inner, emitter.sharedScalar("gelu/sqrt_2_over_pi", Float((2 / Double.pi).squareRoot()))])
        let tanh = emitter.node("Tanh", output: "\(n)/tanh", inputs: [scaled])
        let onePlus = emitter.node("Add", output: "\(n)/one_plus_tanh", inputs: [tanh, emitter.sharedScalar("gelu/one", 1)])
        let product = emitter.node("Mul", output: "\(n)/x_times", inputs: [x, onePlus])
        emitter.node("Mul", output: n, reserved: true, inputs: [product, emitter.sharedScalar("gelu/half", 0.5)],
                     doc: "GELU, tanh approximation")
    }

    /// The IR's add takes two or more inputs (Sparse Parallel sums its branches): two are an
    /// Add, more a Sum (variadic), so the import gives back the same single n-ary add.
    mutating func emitSum(_ node: Node, inputs: [String]) {
        emitter.node(inputs.count == 2 ? "Add" : "Sum", output: node.name, reserved: true, inputs: inputs)
    }

    /// Layer normalisation over the last axis with the reference's epsilon, as the
    /// LayerNormalization operator or decomposed (see `ExportOptions.LayerNormForm`):
    /// `(x - mean) / sqrt(mean((x - mean)²) + eps) · scale + shift`.
    mutating func emitLayerNorm(_ node: Node, input x: String) throws {
        let scale = try tensor("\(node.name).weight")
        let shift = try tensor("\(node.name).bias")
        let scaleName = emitter.parameter("\(node.name).weight", shape: [scale.count], values: scale)
        let shiftName = emitter.parameter("\(node.name).bias", shape: [shift.count], values: shift)
        let epsilon = Float(ONNXModel.normEpsilon)
        guard options.layerNorm == .decomposed else {
            emitter.node("LayerNormalization", output: node.name, reserved: true, inputs: [x, scaleName, shiftName],
                         attributes: [.int("axis", -1), .float("epsilon", epsilon)])
            return
        }
        let n = node.name
        // ReduceMean takes its axes as an attribute up to opset 17.
        let lastAxis: [AttributeProto] = [.ints("axes", [-1]), .int("keepdims", 1)]
        let mean = emitter.node("ReduceMean", output: "\(n)/mean", inputs: [x], attributes: lastAxis)
        let centred = emitter.node("Sub", output: "\(n)/centred", inputs: [x, mean])
        let squared = emitter.node("Pow", output: "\(n)/squared", inputs: [centred, emitter.sharedScalar("layernorm/two", 2)])
        let variance = emitter.node("ReduceMean", output: "\(n)/variance", inputs: [squared], attributes: lastAxis)
        let shifted = emitter.node("Add", output: "\(n)/variance_eps", inputs: [variance, emitter.sharedScalar("layernorm/epsilon", epsilon)])
        let deviation = emitter.node("Sqrt", output: "\(n)/std", inputs: [shifted])
        let normalised = emitter.node("Div", output: "\(n)/normalised", inputs: [centred, deviation])
        let scaled = emitter.node("Mul", output: "\(n)/scaled", inputs: [normalised, scaleName])
        emitter.node("Add", output: n, reserved: true, inputs: [scaled, shiftName], doc: "LayerNorm over the last axis, epsilon 1e-5")
    }
}
