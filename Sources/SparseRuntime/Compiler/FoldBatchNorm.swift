/// BatchNorm folding: inference BatchNorm is a per-channel affine map `x·s + t`
/// (`s = γ/sqrt(var + ε)`, `t = β - μ·s`), so when it reads a weight layer's output it
/// can be absorbed into that layer: rows of W scaled by `s`, bias `b·s + t`. The zeros of
/// W stay zeros, so the layer keeps its sparsity and pattern.
///
/// It also folds through a sum of weight layers (Sparse Doped's `W_sparse x + V U x`
/// followed by BatchNorm): every term is scaled, one of them takes the shift.
extension Graph {
    mutating func foldBatchNorms() throws {
        for id in nodes.indices where !nodes[id].removed {
            guard case .affine(let scale, let shift, .none) = nodes[id].op, let producer = nodes[id].inputs.first else { continue }
            guard let targets = foldTargets(producer, reader: id, consumers: consumers()) else { continue }
            for (index, target) in targets.enumerated() {
                try scaleRows(of: target, by: scale, shift: index == 0 ? shift : nil, batchNorm: nodes[id].name)
            }
            fuse(id, into: producer)
        }
    }

    /// The weight layers a per-channel affine of node `id`'s value folds into: `id` itself
    /// when it is a weight layer whose epilogue is still empty and `reader` is its only
    /// reader; for a sum read only by `reader`, the targets of every term. Nil when the
    /// affine cannot be folded (it then runs as its own operator).
    func foldTargets(_ id: Int, reader: Int, consumers: [[Int]]) -> [Int]? {
        guard consumers[id] == [reader] else { return nil }
        switch nodes[id].op {
        case .gemm(let g):
            return g.activation == .none && !g.hasResidual ? [id] : nil
        case .depthwise(let d):
            return d.activation == .none ? [id] : nil
        case .add(.none):
            var all: [Int] = []
            for input in nodes[id].inputs {
                guard let targets = foldTargets(input, reader: id, consumers: consumers) else { return nil }
                all += targets
            }
            return all
        default:
            return nil
        }
    }

    /// Scales row c of the layer's weights and bias by `scale[c]`; adds `shift[c]` to the bias.
    private mutating func scaleRows(of id: Int, by scale: [Float], shift: [Float]?, batchNorm: String) throws {
        func apply(_ weights: inout [Float], _ bias: inout [Float]?, rowLength: Int) throws {
            for row in scale.indices {
                let s = scale[row]
                for index in (row * rowLength)..<((row + 1) * rowLength) {
                    weights[index] *= s
                    guard weights[index].isFinite else {
                        throw RuntimeError.invalidInput("folding \(batchNorm) into \(nodes[id].name) overflows float at output channel \(row)")
                    }
                }
            }
            if bias == nil, shift == nil { return }
            var folded = bias ?? [Float](repeating: 0, count: scale.count)
            for row in scale.indices { folded[row] = folded[row] * scale[row] + (shift?[row] ?? 0) }
            bias = folded
        }
        switch nodes[id].op {
        case .gemm(var g):
            try apply(&g.weights, &g.bias, rowLength: g.reduction)
            nodes[id].op = .gemm(g)
        case .depthwise(var d):
            try apply(&d.weights, &d.bias, rowLength: d.spec.kernelHeight * d.spec.kernelWidth)
            nodes[id].op = .depthwise(d)
        default:
            return
        }
    }
}
