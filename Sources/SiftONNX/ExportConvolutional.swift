import SparseIFT

/// Convolutional families: Conv, BatchNormalization, pooling, flattening.
extension ONNXExporter {
    mutating func emitConvolution(_ node: Node, spec: Conv2dSpec, input: String) throws {
        var inputs = [input, emitter.parameter("\(node.name).weight", shape: spec.weightShape,
                                                   values: try maskedWeight(node.name), doc: Self.sparsityNote(spec.weight))]
        if spec.bias {
            inputs.append(emitter.parameter("\(node.name).bias", shape: [spec.outChannels], values: try tensor("\(node.name).bias")))
        }
        let p = Int64(spec.padding)
        emitter.node("Conv", output: node.name, reserved: true, inputs: inputs, attributes: [
            .ints("kernel_shape", [Int64(spec.kernelHeight), Int64(spec.kernelWidth)]),
            .ints("strides", [Int64(spec.stride), Int64(spec.stride)]),
            .ints("pads", [p, p, p, p]),
            .ints("dilations", [1, 1]),
            .int("group", Int64(spec.groups)),
        ])
    }

    mutating func emitBatchNorm(_ node: Node, input: String) throws {
        var inputs = [input]
        for suffix in ["weight", "bias", "running_mean", "running_var"] {
            let key = "\(node.name).\(suffix)"
            let values = try tensor(key)
            inputs.append(emitter.parameter(key, shape: [values.count], values: values))
        }
        // The reference's epsilon (PyTorch's default); momentum only matters in training.
        emitter.node("BatchNormalization", output: node.name, reserved: true, inputs: inputs,
                     attributes: [.float("epsilon", Float(ONNXModel.normEpsilon))])
    }

    mutating func emitPool(_ node: Node, pool: PoolSpec, isMax: Bool, input: String) {
        let p = Int64(pool.padding)
        var attributes: [AttributeProto] = [
            .ints("kernel_shape", [Int64(pool.kernel), Int64(pool.kernel)]),
            .ints("strides", [Int64(pool.stride), Int64(pool.stride)]),
            .ints("pads", [p, p, p, p]),
        ]
        // The reference divides by the full window, padding included (PyTorch's default).
        if !isMax { attributes.append(.int("count_include_pad", 1)) }
        emitter.node(isMax ? "MaxPool" : "AveragePool", output: node.name, reserved: true, inputs: [input], attributes: attributes)
    }

    /// `[N, C, H, W] -> [N, C]`: GlobalAveragePool keeps `1 x 1` spatial axes, which the
    /// IR's `[C]` drops, so a Flatten follows (the form PyTorch exports).
    mutating func emitGlobalAveragePool(_ node: Node, input: String) {
        let pooled = emitter.node("GlobalAveragePool", output: "\(node.name)/pool", inputs: [input])
        emitter.node("Flatten", output: node.name, reserved: true, inputs: [pooled], attributes: [.int("axis", 1)])
    }
}
