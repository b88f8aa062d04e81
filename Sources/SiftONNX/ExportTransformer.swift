import SparseIFT

/// What GPT blocks need: embeddings, and multi-head attention written with Reshape and
/// Transpose around two batched MatMuls, the layout PyTorch exports:
/// `[N, T, D] -> [N, T, H, d] -> [N, H, T, d]`.
extension ONNXExporter {
    /// Token ids `[N, T]` (int64) gather rows of the table `[vocabulary, dim]`.
    mutating func emitEmbedding(_ node: Node, input: String) throws {
        let table = try tensor("\(node.name).weight")
        let tableName = emitter.parameter("\(node.name).weight", shape: [table.count / max(1, node.shape[1]), node.shape[1]], values: table)
        emitter.node("Gather", output: node.name, reserved: true, inputs: [tableName, input], attributes: [.int("axis", 0)])
    }

    /// Adds the first T rows of the position table; a Slice picks them when the table is longer.
    mutating func emitPositionEmbedding(_ node: Node, length: Int, input: String, inputShape: [Int]) throws {
        let (tokens, width) = (inputShape[0], inputShape[1])
        let table = try tensor("\(node.name).weight")
        var rows = emitter.parameter("\(node.name).weight", shape: [length, width], values: table)
        if tokens < length {
            let starts = emitter.sharedInt64s("slice/zero", [0])
            let ends = emitter.sharedInt64s("slice/end", [Int64(tokens)])
            rows = emitter.node("Slice", output: "\(node.name)/rows", inputs: [rows, starts, ends, starts])
        }
        emitter.node("Add", output: node.name, reserved: true, inputs: [input, rows])
    }

    /// `[N, T, D] -> [N, T, H, d]`.
    mutating func splitHeads(_ value: String, as name: String, tokens: Int, heads: Int, headDim: Int) -> String {
        let shape = emitter.sharedInt64s("shape/heads", [0, Int64(tokens), Int64(heads), Int64(headDim)])
        return emitter.node("Reshape", output: name, inputs: [value, shape])
    }

    /// `q_h · k_hᵀ / sqrt(d)` per head, future positions set to -inf when causal.
    mutating func emitAttentionScores(_ node: Node, heads: Int, causal: Bool, q: String, k: String, shape: [Int]) {
        let (tokens, width) = (shape[0], shape[1])
        let headDim = width / heads
        let n = node.name
        let qHeads = splitHeads(q, as: "\(n)/q_heads", tokens: tokens, heads: heads, headDim: headDim)
        let qT = emitter.node("Transpose", output: "\(n)/q_t", inputs: [qHeads], attributes: [.ints("perm", [0, 2, 1, 3])])
        let kHeads = splitHeads(k, as: "\(n)/k_heads", tokens: tokens, heads: heads, headDim: headDim)
        let kT = emitter.node("Transpose", output: "\(n)/k_t", inputs: [kHeads], attributes: [.ints("perm", [0, 2, 3, 1])])
        let product = emitter.node("MatMul", output: "\(n)/qk", inputs: [qT, kT])
        let scale = emitter.sharedScalar("attention/scale_d\(headDim)", Float(1 / Double(headDim).squareRoot()))
        guard causal else {
            emitter.node("Mul", output: n, reserved: true, inputs: [product, scale])
            return
        }
        let scaled = emitter.node("Mul", output: "\(n)/scaled", inputs: [product, scale])
        // One `[T, T]` mask for every layer: 0 on and below the diagonal, -inf above, as
        // the reference's scores (softmax then gives the future exactly zero weight).
        let mask = emitter.sharedFloats("causal_mask:\(tokens)", name: "attention/causal_mask", shape: [tokens, tokens]) {
            var values = [Float](repeating: 0, count: tokens * tokens)
            for row in 0..<tokens {
                for column in (row + 1)..<tokens { values[row * tokens + column] = -.infinity }
            }
            return values
        }
        emitter.node("Add", output: n, reserved: true, inputs: [scaled, mask], doc: "causal attention scores")
    }

    /// `P_h · v_h` per head, heads merged back: `[N, H, T, d] -> [N, T, H, d] -> [N, T, D]`.
    mutating func emitAttentionContext(_ node: Node, heads: Int, probabilities: String, v: String, vShape: [Int]) {
        let (tokens, width) = (vShape[0], vShape[1])
        let n = node.name
        let vHeads = splitHeads(v, as: "\(n)/v_heads", tokens: tokens, heads: heads, headDim: width / heads)
        let vT = emitter.node("Transpose", output: "\(n)/v_t", inputs: [vHeads], attributes: [.ints("perm", [0, 2, 1, 3])])
        let product = emitter.node("MatMul", output: "\(n)/pv", inputs: [probabilities, vT])
        let merged = emitter.node("Transpose", output: "\(n)/merge_t", inputs: [product], attributes: [.ints("perm", [0, 2, 1, 3])])
        let shape = emitter.sharedInt64s("shape/merge", [0, Int64(tokens), Int64(width)])
        emitter.node("Reshape", output: n, reserved: true, inputs: [merged, shape])
    }
}
