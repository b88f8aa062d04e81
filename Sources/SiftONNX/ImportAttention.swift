import SparseIFT

/// Recognises multi-head attention written with standard operators, the form PyTorch and
/// `sift export` produce, and turns it into the IR's two attention operations:
///
/// - scores: `Reshape(q, [N, T, H, d]) → Transpose(0,2,1,3)` and the same of k with
///   `Transpose(0,2,3,1)` (or `(0,2,1,3)` then `(0,1,3,2)`), a MatMul, a Mul or Div by
///   the constant `1/sqrt(d)` (resp. `sqrt(d)`), then optionally a causal mask: an Add of
///   a `[T, T]` constant (0 on and below the diagonal, -inf or at most -1e4 above) or a
///   Where that selects such a constant above the diagonal;
/// - context: `MatMul(P, Transpose(0,2,1,3)(Reshape(v, [N, T, H, d])))`, then
///   `Transpose(0,2,1,3)` and `Reshape([N, T, D])`.
///
/// Every intermediate value must be read by the pattern alone.
extension ONNXImporter {
    /// The most negative value a mask may hold above the diagonal and still count as -inf:
    /// after the softmax's max subtraction, exp(-1e4) is exactly zero in float32.
    static let maskThreshold: Float = -1e4

    mutating func fuseAttention() throws {
        for (index, node) in graph.nodes.enumerated() where !absorbed.contains(index) && node.opType == "MatMul" && isDefaultDomain(node) {
            guard node.inputs.count == 2, node.inputs.allSatisfy({ !$0.isEmpty && !graph.isConstant($0) }) else { continue }
            if try fuseScores(index, node) { continue }
            _ = try fuseContext(index, node)
        }
    }

    /// A head split `Transpose(perm)(Reshape(x, target))` ending at `value`: the source x,
    /// the reshape target and the nodes involved.
    struct HeadSplit {
        let source: String
        let target: [Int64]
        let allowZero: Bool
        let nodes: [Int]
    }

    func headSplit(_ value: String, perms: [[Int64]]) throws -> HeadSplit? {
        var current = value
        var nodes: [Int] = []
        // Walk back through the expected Transposes, last one first.
        for perm in perms.reversed() {
            guard graph.hasSingleReader(current), let (index, node) = graph.producerNode(of: current), !absorbed.contains(index),
                  node.opType == "Transpose", isDefaultDomain(node), try node.intsAttribute("perm") == perm, let input = node.input(0) else { return nil }
            nodes.append(index)
            current = input
        }
        guard graph.hasSingleReader(current), let (index, reshape) = graph.producerNode(of: current), !absorbed.contains(index),
              reshape.opType == "Reshape", isDefaultDomain(reshape), let source = reshape.input(0), !graph.isConstant(source),
              let target = reshape.input(1).flatMap({ graph.constant($0) })?.integers, target.count == 4 else { return nil }
        nodes.append(index)
        return HeadSplit(source: source, target: target, allowZero: try reshape.intAttribute("allowzero", default: 0) != 0, nodes: nodes)
    }

    /// Per-sample `[T, D]` split as `[T, H, d]`: returns (H, d), or throws naming `source`.
    func heads(of split: HeadSplit, sample: [Int], source: String) throws -> (heads: Int, headDim: Int) {
        guard sample.count == 2,
              let result = SampleShapes.reshape(sample, to: split.target, allowZero: split.allowZero, staticBatch: graph.staticBatch),
              result.count == 3, result[0] == sample[0], result[1] * result[2] == sample[1] else {
            throw ONNXError.unsupported("\(source): the head split reshapes per-sample \(sample) to \(split.target), not [T, heads, d_head]")
        }
        return (result[1], result[2])
    }

    mutating func fuseScores(_ index: Int, _ matmul: NodeProto) throws -> Bool {
        guard let q = try headSplit(matmul.inputs[0], perms: [[0, 2, 1, 3]]),
              let k = try headSplit(matmul.inputs[1], perms: [[0, 2, 3, 1]]) ?? headSplit(matmul.inputs[1], perms: [[0, 2, 1, 3], [0, 1, 3, 2]]),
              let product = matmul.outputs.first else { return false }
        let source = "attention scores at \(describe(matmul))"
        // The scale.
        guard let (scaleIndex, scaleNode) = graph.singleReader(of: product), !absorbed.contains(scaleIndex),
              scaleNode.opType == "Mul" || scaleNode.opType == "Div", scaleNode.inputs.count == 2,
              let other = scaleNode.inputs.first(where: { $0 != product }), let factor = graph.constant(other)?.scalar,
              scaleNode.opType == "Mul" || scaleNode.inputs[0] == product, let scaled = scaleNode.outputs.first else {
            throw ONNXError.unsupported("\(source): the scores are not scaled by a constant (Mul by 1/sqrt(d_head) or Div by sqrt(d_head)) right after the MatMul")
        }
        let scale = scaleNode.opType == "Mul" ? factor : 1 / factor
        var patternNodes = [index, scaleIndex] + q.nodes + k.nodes
        var final = scaled
        var maskSize: Int?
        if let (maskIndex, maskNode) = graph.singleReader(of: scaled), !absorbed.contains(maskIndex),
           let size = try causalMaskSize(maskNode, scores: scaled, source: source) {
            maskSize = size
            patternNodes.append(maskIndex)
            final = try output(maskNode)
        }
        for node in patternNodes { absorbed.insert(node) }
        let causal = maskSize != nil
        layers.append(PendingLayer(name: final, inputs: [q.source, k.source], source: source) { [self] shapes in
            let (heads, headDim) = try self.heads(of: q, sample: shapes[0], source: source)
            let kHeads = try self.heads(of: k, sample: shapes[1], source: source)
            guard kHeads == (heads, headDim) else { throw ONNXError.unsupported("\(source): q and k are split into different heads") }
            let expected = 1 / Double(headDim).squareRoot()
            guard abs(scale - expected) <= 1e-5 * expected else {
                throw ONNXError.unsupported("\(source): scale \(scale) is not 1/sqrt(d_head) = \(expected); the IR scales by 1/sqrt(d_head)")
            }
            if let maskSize, maskSize != shapes[0][0] {
                throw ONNXError.unsupported("\(source): the causal mask is \(maskSize)x\(maskSize) for a sequence of \(shapes[0][0])")
            }
            return .attentionScores(heads: heads, causal: causal)
        })
        return true
    }

    /// If `node` applies a causal mask to `scores`, the mask's size T; nil if it is not a
    /// masking node at all; an error if it masks with something other than a causal mask.
    func causalMaskSize(_ node: NodeProto, scores: String, source: String) throws -> Int? {
        guard isDefaultDomain(node) else { return nil }
        switch node.opType {
        case "Add":
            guard node.inputs.count == 2, let other = node.inputs.first(where: { $0 != scores }), let mask = graph.constant(other) else { return nil }
            guard let size = squareSize(mask) else {
                throw ONNXError.unsupported("\(source): the mask added to the scores has shape \(mask.shape), not [T, T]")
            }
            let values = mask.floats
            for row in 0..<size {
                for column in 0..<size {
                    let value = values[row * size + column]
                    guard column > row ? value <= Self.maskThreshold : value == 0 else {
                        throw ONNXError.unsupported("\(source): the mask added to the scores is not causal (0 on and below the diagonal, -inf above)")
                    }
                }
            }
            return size
        case "Where":
            guard node.inputs.count == 3, let condition = graph.constant(node.inputs[0]) else { return nil }
            let keepsWhereTrue = node.inputs[1] == scores
            guard keepsWhereTrue || node.inputs[2] == scores,
                  let fill = graph.constant(node.inputs[keepsWhereTrue ? 2 : 1])?.scalar, fill <= Double(Self.maskThreshold) else {
                throw ONNXError.unsupported("\(source): the Where on the scores does not fill the masked positions with -inf (or at most -1e4)")
            }
            guard let size = squareSize(condition) else {
                throw ONNXError.unsupported("\(source): the Where condition has shape \(condition.shape), not [T, T]")
            }
            let flags = condition.floats
            for row in 0..<size {
                for column in 0..<size where (flags[row * size + column] != 0) != (keepsWhereTrue == (column <= row)) {
                    throw ONNXError.unsupported("\(source): the Where condition is not a causal mask")
                }
            }
            return size
        default:
            return nil
        }
    }

    /// T for a constant of shape `[T, T]` with any leading 1s.
    func squareSize(_ tensor: ConstantTensor) -> Int? {
        let shape = tensor.shape
        guard shape.count >= 2, shape[shape.count - 1] == shape[shape.count - 2], shape.dropLast(2).allSatisfy({ $0 == 1 }) else { return nil }
        return shape[shape.count - 1]
    }

    mutating func fuseContext(_ index: Int, _ matmul: NodeProto) throws -> Bool {
        guard let v = try headSplit(matmul.inputs[1], perms: [[0, 2, 1, 3]]), let product = matmul.outputs.first,
              let (transposeIndex, transpose) = graph.singleReader(of: product), !absorbed.contains(transposeIndex),
              transpose.opType == "Transpose", isDefaultDomain(transpose), try transpose.intsAttribute("perm") == [0, 2, 1, 3],
              let merged = transpose.outputs.first,
              let (reshapeIndex, reshape) = graph.singleReader(of: merged), !absorbed.contains(reshapeIndex),
              reshape.opType == "Reshape", isDefaultDomain(reshape),
              let target = reshape.input(1).flatMap({ graph.constant($0) })?.integers else { return false }
        let allowZero = try reshape.intAttribute("allowzero", default: 0) != 0
        let source = "attention context at \(describe(matmul))"
        for node in [index, transposeIndex, reshapeIndex] + v.nodes { absorbed.insert(node) }
        let probabilities = matmul.inputs[0]
        layers.append(PendingLayer(name: try output(reshape), inputs: [probabilities, v.source], source: source) { [self] shapes in
            let (heads, headDim) = try self.heads(of: v, sample: shapes[1], source: source)
            let tokens = shapes[1][0]
            guard SampleShapes.reshape([tokens, heads, headDim], to: target, allowZero: allowZero, staticBatch: graph.staticBatch)
                    == [tokens, heads * headDim] else {
                throw ONNXError.unsupported("\(source): the heads are not merged back to [T, D] (reshape to \(target))")
            }
            return .attentionContext(heads: heads)
        })
        return true
    }
}
