/// Output shape of every operation from its input shapes, with a clear error when the
/// inputs do not fit (wrong rank, channel count, mismatched residual...).
enum ShapeInference {
    /// Upper bounds of what one node costs: multiply-adds, and parameters (weights plus
    /// twice the output size, which covers biases and norm scales and shifts).
    struct Size {
        let macs: Int
        let params: Int
    }

    /// The node's size with checked arithmetic; refuses any count above `SizeLimits.perNode`.
    static func size(of op: Operation, inputs: [[Int]], output: [Int], name: String) throws -> Size {
        func bounded(_ factors: [Int], _ what: String) throws -> Int {
            guard let value = SizeLimits.product(factors, limit: SizeLimits.perNode) else {
                throw SparseIFTError.invalidArgument(
                    "\(name) (\(op.kind)) is too large: its \(what) (\(factors.map(String.init).joined(separator: " x "))) exceed \(SizeLimits.perNode)")
            }
            return value
        }
        let elements = try bounded(output, "output elements")
        var weights = 0
        var macs = 0
        switch op {
        case .conv2d(let c):
            weights = try bounded(c.weightShape, "weights")
            macs = try bounded([output[1], output[2], c.outChannels, c.inChannels / c.groups, c.kernelHeight, c.kernelWidth], "multiply-adds")
        case .linear(let l):
            weights = try bounded([l.inFeatures, l.outFeatures], "weights")
            macs = try bounded(Array(output.dropLast()) + [l.inFeatures, l.outFeatures], "multiply-adds")
        case .embedding(let vocabulary, let dim):
            weights = try bounded([vocabulary, dim], "weights")
        case .positionEmbedding(let length):
            weights = try bounded([length, output.last ?? 0], "weights")
        case .attentionScores, .attentionContext:
            // Both are T·T·D multiply-adds over all heads (q, k or v is [T, D]).
            let v = inputs[1]
            macs = try bounded([v[0], v[0], v[1]], "multiply-adds")
        default:
            break
        }
        return Size(macs: macs, params: try bounded([1, weights + 2 * elements], "parameters"))
    }

    static func outputShape(of op: Operation, inputs: [[Int]], name: String) throws -> [Int] {
        func fail(_ message: String) -> SparseIFTError {
            .shapeMismatch("\(name) (\(op.kind)): \(message)")
        }
        func expectInputs(_ count: Int) throws {
            guard inputs.count == count else { throw fail("expects \(count) input(s), got \(inputs.count)") }
        }
        switch op {
        case .input(let shape):
            guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else { throw fail("input shape \(shape) must be non-empty and positive") }
            return shape

        case .conv2d(let c):
            try expectInputs(1)
            let x = inputs[0]
            guard x.count == 3 else { throw fail("expects [C, H, W], got \(x)") }
            guard c.inChannels > 0, c.outChannels > 0, c.kernelHeight > 0, c.kernelWidth > 0, c.stride > 0, c.padding >= 0, c.groups > 0 else {
                throw fail("needs positive channels, kernel, stride and groups")
            }
            // Bounded so the window arithmetic below cannot overflow.
            guard c.kernelHeight <= 1 << 20, c.kernelWidth <= 1 << 20, c.stride <= 1 << 20, c.padding <= 1 << 20 else {
                throw fail("kernel, stride and padding must be at most \(1 << 20)")
            }
            guard x[0] == c.inChannels else { throw fail("expects \(c.inChannels) input channels, got \(x[0])") }
            guard c.inChannels % c.groups == 0, c.outChannels % c.groups == 0 else {
                throw fail("channels \(c.inChannels)->\(c.outChannels) not divisible by groups \(c.groups)")
            }
            let h = (x[1] + 2 * c.padding - c.kernelHeight) / c.stride + 1
            let w = (x[2] + 2 * c.padding - c.kernelWidth) / c.stride + 1
            guard x[1] + 2 * c.padding >= c.kernelHeight, x[2] + 2 * c.padding >= c.kernelWidth, h > 0, w > 0 else {
                throw fail("kernel \(c.kernelHeight)x\(c.kernelWidth) larger than padded input \(x)")
            }
            return [c.outChannels, h, w]

        case .linear(let l):
            try expectInputs(1)
            let x = inputs[0]
            guard l.inFeatures > 0, l.outFeatures > 0 else { throw fail("needs positive features") }
            guard let last = x.last, last == l.inFeatures else {
                throw fail("expects last axis \(l.inFeatures), got \(x)")
            }
            return Array(x.dropLast()) + [l.outFeatures]

        case .batchNorm:
            try expectInputs(1)
            guard inputs[0].count == 3 else { throw fail("expects [C, H, W], got \(inputs[0])") }
            return inputs[0]

        case .layerNorm, .relu, .relu6, .gelu, .softmax:
            try expectInputs(1)
            return inputs[0]

        case .add:
            guard inputs.count >= 2 else { throw fail("expects at least 2 inputs, got \(inputs.count)") }
            guard inputs.allSatisfy({ $0 == inputs[0] }) else { throw fail("inputs differ in shape: \(inputs)") }
            return inputs[0]

        case .maxPool(let p), .avgPool(let p):
            try expectInputs(1)
            let x = inputs[0]
            guard x.count == 3 else { throw fail("expects [C, H, W], got \(x)") }
            guard p.kernel > 0, p.stride > 0, p.padding >= 0, p.kernel <= 1 << 20, p.stride <= 1 << 20, p.padding <= 1 << 20, x[1] + 2 * p.padding >= p.kernel, x[2] + 2 * p.padding >= p.kernel else {
                throw fail("window \(p.kernel) does not fit input \(x)")
            }
            return [x[0], (x[1] + 2 * p.padding - p.kernel) / p.stride + 1, (x[2] + 2 * p.padding - p.kernel) / p.stride + 1]

        case .globalAvgPool:
            try expectInputs(1)
            guard inputs[0].count == 3 else { throw fail("expects [C, H, W], got \(inputs[0])") }
            return [inputs[0][0]]

        case .flatten:
            try expectInputs(1)
            return [inputs[0].reduce(1, *)]

        case .embedding(let vocabulary, let dim):
            try expectInputs(1)
            guard vocabulary > 0, dim > 0 else { throw fail("needs a positive vocabulary and dimension") }
            guard inputs[0].count == 1 else { throw fail("expects token ids [T], got \(inputs[0])") }
            return [inputs[0][0], dim]

        case .positionEmbedding(let length):
            try expectInputs(1)
            guard inputs[0].count == 2 else { throw fail("expects [T, D], got \(inputs[0])") }
            guard inputs[0][0] <= length else { throw fail("sequence \(inputs[0][0]) longer than the position table \(length)") }
            return inputs[0]

        case .attentionScores(let heads, _):
            try expectInputs(2)
            let q = inputs[0]
            guard q.count == 2, inputs[1] == q else { throw fail("expects q and k of the same shape [T, D], got \(inputs)") }
            guard heads > 0, q[1] % heads == 0 else { throw fail("model width \(q[1]) not divisible by \(heads) heads") }
            return [heads, q[0], q[0]]

        case .attentionContext(let heads):
            try expectInputs(2)
            let p = inputs[0]
            let v = inputs[1]
            guard v.count == 2, p == [heads, v[0], v[0]], v[1] % heads == 0 else {
                throw fail("expects probabilities [\(heads), T, T] and v [T, D], got \(inputs)")
            }
            return v
        }
    }
}
