import SparseIFT

/// Fully connected layers. On a per-sample vector (`[N, D]` with the batch) a linear layer
/// is one Gemm with the weight in PyTorch order (`transB = 1`). On a sequence
/// (`[N, T, D]`) it is MatMul with the transposed weight `[in, out]` plus an Add of the
/// bias: the form PyTorch exports and DeepSparse and ONNX Runtime recognise.
extension ONNXExporter {
    mutating func emitLinear(_ node: Node, spec: LinearSpec, input: String, inputShape: [Int]) throws {
        var bias: String?
        if spec.bias {
            bias = emitter.parameter("\(node.name).bias", shape: [spec.outFeatures], values: try tensor("\(node.name).bias"))
        }
        if inputShape.count == 1 {
            // A tied weight shares its owner's initializer (the embedding table is already
            // `[out, in]`, which Gemm reads with transB = 1).
            let weight = try weightInitializer(node, spec: spec)
            emitter.node("Gemm", output: node.name, reserved: true, inputs: [input, weight] + (bias.map { [$0] } ?? []),
                         attributes: [.int("transB", 1), .float("alpha", 1), .float("beta", 1)])
            return
        }
        let transposed: String
        if let owner = spec.tiedTo {
            // The LM head reads the embedding table transposed: one Transpose of the shared
            // initializer instead of a second copy of the model's largest tensor.
            let table = try weightInitializer(node, spec: spec)
            transposed = emitter.node("Transpose", output: "\(node.name)/weight_t", inputs: [table],
                                      attributes: [.ints("perm", [1, 0])], doc: "the transpose of \(owner).weight (tied)")
        } else {
            let weight = try maskedWeight(node.name)
            transposed = emitter.parameter(
                "\(node.name).weight", shape: [spec.inFeatures, spec.outFeatures],
                values: Self.transpose(weight, rows: spec.outFeatures, columns: spec.inFeatures),
                doc: "transposed to [in_features, out_features] for MatMul. " + Self.sparsityNote(spec.weight))
        }
        if let bias {
            let product = emitter.node("MatMul", output: "\(node.name)/matmul", inputs: [input, transposed])
            emitter.node("Add", output: node.name, reserved: true, inputs: [product, bias])
        } else {
            emitter.node("MatMul", output: node.name, reserved: true, inputs: [input, transposed])
        }
    }

    /// The `[out, in]` initializer of a layer, or of its owner when the weight is tied.
    mutating func weightInitializer(_ node: Node, spec: LinearSpec) throws -> String {
        if let owner = spec.tiedTo {
            return emitter.parameter("\(owner).weight", shape: spec.weightShape, values: try tensor("\(owner).weight"))
        }
        return emitter.parameter("\(node.name).weight", shape: spec.weightShape, values: try maskedWeight(node.name),
                                     doc: Self.sparsityNote(spec.weight))
    }

    static func transpose(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        for row in 0..<rows {
            for column in 0..<columns { result[column * rows + row] = values[row * columns + column] }
        }
        return result
    }
}
