import SparseIFT

/// Translators for the operators with weights or parameters: Conv, Gemm, MatMul (+ bias
/// Add), BatchNormalization, LayerNormalization, Gather (embedding), and the adds.
extension ONNXImporter {
    mutating func translateConvolution(_ node: NodeProto) throws {
        let x = try dataInput(node)
        let weight = try constantInput(node, 1, "weight")
        guard weight.shape.count == 4, weight.isFloat, weight.shape.allSatisfy({ $0 > 0 }) else {
            throw ONNXError.unsupported("\(describe(node)): only 2-D convolutions with a float weight [out, in/group, kh, kw] are supported, the weight has shape \(weight.shape)")
        }
        let (out, inPerGroup, kernelHeight, kernelWidth) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let bias = try node.input(2).map { _ in try constantInput(node, 2, "bias") }
        if let bias, bias.count != out {
            throw ONNXError.invalidModel("\(describe(node)): the bias has \(bias.count) values for \(out) output channels")
        }
        let group = try node.intAttribute("group", default: 1)
        guard group >= 1, group <= Int64(out), out % Int(group) == 0 else {
            throw ONNXError.invalidModel("\(describe(node)): group \(group) does not divide \(out) output channels")
        }
        if let kernel = try node.intsAttribute("kernel_shape"), kernel != [Int64(kernelHeight), Int64(kernelWidth)] {
            throw ONNXError.invalidModel("\(describe(node)): kernel_shape \(kernel) differs from the weight's \(kernelHeight)x\(kernelWidth)")
        }
        let window = try WindowAttributes(node, kernel: (kernelHeight, kernelWidth))
        var spec = Conv2dSpec(inChannels: inPerGroup * Int(group), outChannels: out, kernel: kernelHeight, stride: window.stride,
                              padding: window.padding, groups: Int(group), bias: bias != nil)
        spec.kernelWidth = kernelWidth
        var layer = PendingLayer(name: try output(node), inputs: [x], source: describe(node)) { _ in .conv2d(spec) }
        layer.tensors["weight"] = weight
        layer.tensors["bias"] = bias
        layers.append(layer)
    }

    /// Gemm: `alpha · A · op(B) + beta · C` with B the constant weight; alpha and beta are
    /// folded into the weight and bias.
    mutating func translateGemm(_ node: NodeProto) throws {
        let x = try dataInput(node)
        let b = try constantInput(node, 1, "weight (B)")
        guard b.shape.count == 2, b.isFloat, b.shape.allSatisfy({ $0 > 0 }) else {
            throw ONNXError.unsupported("\(describe(node)): B must be a non-empty 2-D float constant, it has shape \(b.shape)")
        }
        guard try node.intAttribute("transA", default: 0) == 0 else {
            throw ONNXError.unsupported("\(describe(node)): transA = 1 (a transposed data input) has no IR equivalent")
        }
        let alpha = try node.floatAttribute("alpha", default: 1)
        let beta = try node.floatAttribute("beta", default: 1)
        // The IR's weight is [out, in]: B itself when transB = 1, else its transpose.
        var weight = try node.intAttribute("transB", default: 0) != 0 ? b : transposed(b)
        if alpha != 1 { weight = ConstantTensor(shape: weight.shape, floats: weight.floats.map { $0 * alpha }) }
        let (out, inFeatures) = (weight.shape[0], weight.shape[1])
        var bias: ConstantTensor?
        if node.input(2) != nil {
            let c = try constantInput(node, 2, "bias (C)")
            bias = try biasVector(c, features: out, node: node)
            if let vector = bias, beta != 1 { bias = ConstantTensor(shape: [out], floats: vector.floats.map { $0 * beta }) }
        }
        try linearLayer(name: try output(node), input: x, weight: weight, bias: bias, inFeatures: inFeatures, out: out, source: describe(node))
    }

    /// MatMul with a constant right operand `[in, out]` is a linear layer; an Add of a
    /// constant `[out]` that alone reads it is its bias.
    mutating func translateMatMul(_ node: NodeProto) throws {
        let x = try dataInput(node)
        guard let right = node.input(1), let b = graph.constant(right) else {
            throw ONNXError.unsupported("\(describe(node)): a product of two computed values is only imported inside a recognised attention pattern (Reshape/Transpose per head, scale, causal mask)")
        }
        guard b.shape.count == 2, b.isFloat, b.shape.allSatisfy({ $0 > 0 }) else {
            throw ONNXError.unsupported("\(describe(node)): the weight must be a non-empty 2-D float constant [in, out], it has shape \(b.shape)")
        }
        let weight = transposed(b)
        let (out, inFeatures) = (weight.shape[0], weight.shape[1])
        var name = try output(node)
        var source = describe(node)
        var bias: ConstantTensor?
        if let (index, reader) = graph.singleReader(of: name), !absorbed.contains(index), reader.opType == "Add", isDefaultDomain(reader),
           reader.inputs.count == 2, let other = reader.inputs.first(where: { $0 != name }), let c = graph.constant(other),
           let vector = try? biasVector(c, features: out, node: reader) {
            bias = vector
            absorbed.insert(index)
            name = try output(reader)
            source += " + \(describe(reader))"
        }
        try linearLayer(name: name, input: x, weight: weight, bias: bias, inFeatures: inFeatures, out: out, source: source)
    }

    mutating func linearLayer(name: String, input: String, weight: ConstantTensor, bias: ConstantTensor?, inFeatures: Int, out: Int,
                              source: String) throws {
        let spec = LinearSpec(inFeatures: inFeatures, outFeatures: out, bias: bias != nil)
        var layer = PendingLayer(name: name, inputs: [input], source: source) { _ in .linear(spec) }
        layer.tensors["weight"] = weight
        layer.tensors["bias"] = bias
        layers.append(layer)
    }

    /// A bias broadcast along the last axis: shape `[out]`, `[1, out]`, `[1, 1, out]`, or a scalar.
    func biasVector(_ c: ConstantTensor, features: Int, node: NodeProto) throws -> ConstantTensor {
        guard c.isFloat else { throw ONNXError.unsupported("\(describe(node)): the bias must be float") }
        if c.count == 1 { return ConstantTensor(shape: [features], floats: [Float](repeating: c.floats[0], count: features)) }
        guard c.count == features, c.shape.last == features else {
            throw ONNXError.unsupported("\(describe(node)): a bias of shape \(c.shape) does not broadcast as one value per output feature (\(features))")
        }
        return c.reshaped([features])
    }

    func transposed(_ matrix: ConstantTensor) -> ConstantTensor {
        let (rows, columns) = (matrix.shape[0], matrix.shape[1])
        let values = matrix.floats
        var result = [Float](repeating: 0, count: values.count)
        for row in 0..<rows {
            for column in 0..<columns { result[column * rows + row] = values[row * columns + column] }
        }
        return ConstantTensor(shape: [columns, rows], floats: result)
    }

    /// BatchNormalization in inference mode. The IR's epsilon is fixed (1e-5); another
    /// epsilon is folded exactly into the running variance (`var + eps - 1e-5`).
    mutating func translateBatchNorm(_ node: NodeProto) throws {
        try requireOnlyFirstOutputUsed(node)
        guard try node.intAttribute("training_mode", default: 0) == 0 else {
            throw ONNXError.unsupported("\(describe(node)): training_mode = 1 cannot be imported for inference")
        }
        let x = try dataInput(node)
        let names = ["weight", "bias", "running_mean", "running_var"]
        var layer = PendingLayer(name: try output(node), inputs: [x], source: describe(node)) { _ in .batchNorm }
        var channels: Int?
        for (offset, key) in names.enumerated() {
            let value = try constantInput(node, offset + 1, key)
            guard value.isFloat, value.shape.count == 1, channels == nil || channels == value.count else {
                throw ONNXError.invalidModel("\(describe(node)): \(key) must be a float vector of one value per channel, it has shape \(value.shape)")
            }
            channels = value.count
            layer.tensors[key] = value
        }
        let epsilon = Double(try node.floatAttribute("epsilon", default: 1e-5))
        if let variance = layer.tensors["running_var"], abs(epsilon - ONNXModel.normEpsilon) > 1e-12 {
            let adjusted = variance.floats.map { Double($0) + epsilon - ONNXModel.normEpsilon }
            guard adjusted.allSatisfy({ $0 + ONNXModel.normEpsilon > 0 }) else {
                throw ONNXError.invalidModel("\(describe(node)): running_var + epsilon is not positive")
            }
            layer.tensors["running_var"] = ConstantTensor(shape: variance.shape, floats: adjusted.map { Float($0) })
        }
        layers.append(layer)
    }

    /// LayerNormalization over the last axis with the IR's epsilon (1e-5). A different
    /// epsilon changes the result in a data-dependent way, so it is refused.
    mutating func translateLayerNorm(_ node: NodeProto) throws {
        try requireOnlyFirstOutputUsed(node)
        let x = try dataInput(node)
        let scale = try constantInput(node, 1, "scale")
        guard scale.isFloat, scale.shape.count == 1 else {
            throw ONNXError.unsupported("\(describe(node)): the scale must be a float vector over the last axis, it has shape \(scale.shape)")
        }
        let shift = try node.input(2).map { _ in try constantInput(node, 2, "bias") }
            ?? ConstantTensor(shape: scale.shape, floats: [Float](repeating: 0, count: scale.count))
        let epsilon = Double(try node.floatAttribute("epsilon", default: 1e-5))
        guard abs(epsilon - ONNXModel.normEpsilon) <= 1e-10 else {
            throw ONNXError.unsupported("\(describe(node)): epsilon \(epsilon) differs from the IR's LayerNorm epsilon \(ONNXModel.normEpsilon)")
        }
        let axis = try node.intAttribute("axis", default: -1)
        var layer = PendingLayer(name: try output(node), inputs: [x], source: describe(node)) { shapes in
            guard ShapeArithmetic.normalize(axis, rank: shapes[0].count + 1) == shapes[0].count else {
                throw ONNXError.unsupported("\(describe(node)): only normalisation over the last axis is supported (axis \(axis))")
            }
            return .layerNorm
        }
        layer.tensors["weight"] = scale
        layer.tensors["bias"] = shift.reshaped([shift.count])
        layers.append(layer)
    }

    /// Clip(0, 6) is ReLU6 and Clip(0, ∞) ReLU; bounds are inputs from opset 11, attributes before.
    mutating func translateClip(_ node: NodeProto) throws {
        var low: Double?
        var high: Double?
        if graph.opset < 11 {
            low = try node.attribute("min").map { _ in Double(try node.floatAttribute("min", default: 0)) }
            high = try node.attribute("max").map { _ in Double(try node.floatAttribute("max", default: 0)) }
        } else {
            low = try node.input(1).map { _ in try constantInput(node, 1, "min").scalar ?? .nan }
            high = try node.input(2).map { _ in try constantInput(node, 2, "max").scalar ?? .nan }
        }
        if low == 0 && high == 6 { return try unary(node, op: .relu6) }
        if low == 0 && (high ?? .infinity) >= Double(Float.greatestFiniteMagnitude) { return try unary(node, op: .relu) }
        throw ONNXError.unsupported("\(describe(node)): Clip(\(low.map { "\($0)" } ?? "-inf"), \(high.map { "\($0)" } ?? "inf")) is neither ReLU6 (0, 6) nor ReLU (0, inf)")
    }

    /// The Gelu operator (opset 20): only its tanh approximation is the IR's GELU.
    mutating func translateGelu(_ node: NodeProto) throws {
        let approximation = try node.stringAttribute("approximate") ?? "none"
        guard approximation == "tanh" else {
            throw ONNXError.unsupported("\(describe(node)): exact (erf) GELU; the IR has the tanh approximation only (approximate = \"tanh\")")
        }
        try unary(node, op: .gelu)
    }

    /// Add and Sum of computed values are the IR's add (chains are merged later); an Add of
    /// a `[T, D]` constant to a sequence is a learned position embedding.
    mutating func translateAdd(_ node: NodeProto) throws {
        let present = node.inputs.filter { !$0.isEmpty }
        let constants = present.filter { graph.isConstant($0) }
        let name = try output(node)
        if constants.isEmpty {
            guard present.count >= 1 else { throw ONNXError.invalidModel("\(describe(node)) has no inputs") }
            layers.append(PendingLayer(name: name, inputs: present, source: describe(node)) { _ in present.count == 1 ? nil : .add })
            return
        }
        guard node.opType == "Add", present.count == 2, constants.count == 1, let table = graph.constant(constants[0]),
              let data = present.first(where: { !graph.isConstant($0) }),
              table.isFloat, table.shape.count >= 2, table.shape.dropLast(2).allSatisfy({ $0 == 1 }) else {
            throw ONNXError.unsupported("\(describe(node)): adding a constant is only imported as a bias after MatMul/Gemm, a position table [T, D], or a causal attention mask")
        }
        let rows = table.shape[table.shape.count - 2], width = table.shape[table.shape.count - 1]
        var layer = PendingLayer(name: name, inputs: [data], source: describe(node)) { shapes in
            guard shapes[0] == [rows, width] else {
                throw ONNXError.unsupported("\(describe(node)): a constant of shape \(table.shape) added to a value of per-sample shape \(shapes[0]) is not a position embedding [T, D]")
            }
            return .positionEmbedding(length: rows)
        }
        layer.tensors["weight"] = table.reshaped([rows, width])
        layers.append(layer)
    }

    /// Gather of rows of a constant table by the token ids: an embedding.
    mutating func translateGather(_ node: NodeProto) throws {
        let table = try constantInput(node, 0, "table")
        let ids = try dataInput(node, 1)
        guard table.isFloat, table.shape.count == 2, table.shape.allSatisfy({ $0 > 0 }), try node.intAttribute("axis", default: 0) == 0 else {
            throw ONNXError.unsupported("\(describe(node)): only Gather of rows (axis 0) of a 2-D float table by token ids is supported")
        }
        let (vocabulary, dim) = (table.shape[0], table.shape[1])
        var layer = PendingLayer(name: try output(node), inputs: [ids], source: describe(node)) { _ in .embedding(vocabulary: vocabulary, dim: dim) }
        layer.tensors["weight"] = table
        layers.append(layer)
    }

    /// Softmax over the last axis (from opset 13 the axis is the reduced one; before, the
    /// input is coerced to 2-D at the axis, which is the same when the axis is the last).
    mutating func translateSoftmax(_ node: NodeProto) throws {
        let axis = try node.intAttribute("axis", default: graph.opset >= 13 ? -1 : 1)
        let x = try dataInput(node)
        layers.append(PendingLayer(name: try output(node), inputs: [x], source: describe(node)) { shapes in
            guard ShapeArithmetic.normalize(axis, rank: shapes[0].count + 1) == shapes[0].count else {
                throw ONNXError.unsupported("\(describe(node)): only a softmax over the last axis is supported (axis \(axis))")
            }
            return .softmax
        })
    }
}
