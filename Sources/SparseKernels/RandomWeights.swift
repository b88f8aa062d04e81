/// Random matrices with an exact sparsity in a given pattern, for tests and benchmarks.
public enum RandomWeights {
    /// A value that is never zero, so the mask alone decides where the zeros are.
    static func nonzeroValue(_ generator: inout SeededGenerator) -> Float {
        let magnitude = 0.05 + 0.95 * abs(generator.nextSignedUnit())
        return generator.next() & 1 == 0 ? magnitude : -magnitude
    }

    /// A dense random matrix, entries uniform in [-1, 1).
    public static func dense(rows: Int, columns: Int, seed: UInt64) -> Matrix {
        var generator = SeededGenerator(seed: seed)
        var m = Matrix(zeros: rows, columns)
        for i in m.values.indices { m.values[i] = generator.nextSignedUnit() }
        return m
    }

    /// A matrix with zeros in `pattern` at `sparsity`:
    /// - unstructured: exactly `round(sparsity·M·K)` zeros, uniformly placed;
    /// - N:M: exactly N nonzeros per group (`sparsity` must be the pattern's own, 1 - N/M);
    /// - block: exactly `round(sparsity·blocks)` zero blocks, uniformly chosen;
    /// - dense: no zeros (`sparsity` must be 0).
    public static func matrix(rows: Int, columns: Int, pattern: SparsePattern, sparsity: Double,
                              seed: UInt64) throws(KernelError) -> Matrix {
        guard sparsity.isFinite, sparsity >= 0, sparsity < 1 else {
            throw .invalidArgument("sparsity \(sparsity) must be in [0, 1)")
        }
        guard rows >= 1, columns >= 1 else { throw .shapeMismatch("matrix must be at least 1x1") }
        try pattern.validateParameters()
        var generator = SeededGenerator(seed: seed)
        var m = Matrix(zeros: rows, columns)
        switch pattern {
        case .dense:
            guard sparsity == 0 else { throw .invalidArgument("a dense pattern has sparsity 0, got \(sparsity)") }
            for i in m.values.indices { m.values[i] = nonzeroValue(&generator) }
        case .unstructured:
            let keep = rows * columns - Int((sparsity * Double(rows * columns)).rounded())
            for index in chooseIndices(count: keep, from: rows * columns, &generator) {
                m.values[index] = nonzeroValue(&generator)
            }
        case .nOfM(let n, let groupSize):
            guard columns % groupSize == 0 else {
                throw .shapeMismatch("\(n):\(groupSize) needs K divisible by \(groupSize), got K=\(columns)")
            }
            guard abs(sparsity - (1 - Double(n) / Double(groupSize))) < 1e-9 else {
                throw .invalidArgument("\(n):\(groupSize) has sparsity \(1 - Double(n) / Double(groupSize)), not \(sparsity)")
            }
            for row in 0..<rows {
                for group in 0..<(columns / groupSize) {
                    for slot in chooseIndices(count: n, from: groupSize, &generator) {
                        m.values[row * columns + group * groupSize + slot] = nonzeroValue(&generator)
                    }
                }
            }
        case .block(let r, let c):
            guard rows % r == 0, columns % c == 0 else {
                throw .shapeMismatch("block \(r)x\(c) needs M divisible by \(r) and K by \(c), got \(rows)x\(columns)")
            }
            let blocksPerRow = columns / c
            let blockCount = (rows / r) * blocksPerRow
            let keep = blockCount - Int((sparsity * Double(blockCount)).rounded())
            for block in chooseIndices(count: keep, from: blockCount, &generator) {
                let top = (block / blocksPerRow) * r, left = (block % blocksPerRow) * c
                for i in top..<(top + r) {
                    for j in left..<(left + c) { m.values[i * columns + j] = nonzeroValue(&generator) }
                }
            }
        }
        return m
    }

    /// `count` distinct indices from 0..<total, uniformly (partial Fisher-Yates).
    static func chooseIndices(count: Int, from total: Int, _ generator: inout SeededGenerator) -> ArraySlice<Int> {
        var indices = Array(0..<total)
        for i in 0..<min(count, total) {
            let j = i + generator.nextIndex(below: total - i)
            indices.swapAt(i, j)
        }
        return indices[0..<min(count, total)]
    }
}
