import SparseKernels

/// Seeded mask generation. A mask has the weight's shape and holds 1 where the weight is
/// kept and 0 where it is pruned; in the GEMM view it is a `rows × K` matrix in the
/// weight's memory order (K contiguous), which is where N:M groups and blocks are laid.
public enum MaskGenerator {
    /// A mask with exactly `pattern.nonzeroCount(...)` ones, chosen uniformly at random
    /// among the masks the pattern allows.
    public static func mask(rows: Int, reduction: Int, sparsity: Double, pattern: SparsityPattern,
                            generator: inout SeededGenerator) throws -> [Float] {
        try validateSparsity(sparsity)
        try pattern.validateParameters()
        // Bounded before allocating: a negative or huge size would trap or abort.
        guard rows > 0, reduction > 0, let count = SizeLimits.product([rows, reduction], limit: SizeLimits.floats) else {
            throw SparseIFTError.invalidArgument(
                "mask size \(rows) x \(reduction) must be positive and at most \(SizeLimits.floats) values")
        }
        if sparsity == 0 { return [Float](repeating: 1, count: count) }
        try pattern.validate(layer: "mask", rows: rows, reduction: reduction)
        var mask = [Float](repeating: 0, count: count)
        switch pattern {
        case .unstructured:
            let kept = pattern.nonzeroCount(rows: rows, reduction: reduction, sparsity: sparsity)
            for index in sample(kept, from: count, generator: &generator) { mask[index] = 1 }
        case .nOfM(let n, let m):
            for row in 0..<rows {
                for groupStart in stride(from: 0, to: reduction, by: m) {
                    for offset in sample(n, from: m, generator: &generator) {
                        mask[row * reduction + groupStart + offset] = 1
                    }
                }
            }
        case .block(let blockRows, let blockColumns):
            let blocksPerRow = reduction / blockColumns
            let blocks = (rows / blockRows) * blocksPerRow
            let keptValues = pattern.nonzeroCount(rows: rows, reduction: reduction, sparsity: sparsity)
            for block in sample(keptValues / (blockRows * blockColumns), from: blocks, generator: &generator) {
                let top = block / blocksPerRow * blockRows
                let left = block % blocksPerRow * blockColumns
                for row in top..<(top + blockRows) {
                    for column in left..<(left + blockColumns) { mask[row * reduction + column] = 1 }
                }
            }
        }
        return mask
    }

    /// `k` distinct indices of `0..<n`, uniformly: a partial Fisher–Yates shuffle.
    static func sample(_ k: Int, from n: Int, generator: inout SeededGenerator) -> [Int] {
        var indices = Array(0..<n)
        for i in 0..<k {
            let j = i + generator.nextIndex(below: n - i)
            indices.swapAt(i, j)
        }
        return Array(indices[0..<k])
    }

    /// Checks a mask against a pattern; returns a description of the first violation.
    public static func violation(of mask: [Float], rows: Int, reduction: Int, pattern: SparsityPattern) -> String? {
        guard mask.count == rows * reduction else { return "mask has \(mask.count) values, expected \(rows * reduction)" }
        if let bad = mask.firstIndex(where: { $0 != 0 && $0 != 1 }) { return "value \(mask[bad]) at \(bad) is not 0 or 1" }
        switch pattern {
        case .unstructured:
            return nil
        case .nOfM(let n, let m):
            guard reduction % m == 0 else { return "K = \(reduction) is not a multiple of \(m)" }
            for row in 0..<rows {
                for groupStart in stride(from: 0, to: reduction, by: m) {
                    let ones = (0..<m).reduce(0) { $0 + Int(mask[row * reduction + groupStart + $1]) }
                    if ones != n { return "row \(row), group at K = \(groupStart) has \(ones) non-zeros, expected \(n)" }
                }
            }
            return nil
        case .block(let blockRows, let blockColumns):
            guard rows % blockRows == 0, reduction % blockColumns == 0 else { return "matrix not tiled by \(blockRows)x\(blockColumns)" }
            for top in stride(from: 0, to: rows, by: blockRows) {
                for left in stride(from: 0, to: reduction, by: blockColumns) {
                    let first = mask[top * reduction + left]
                    for row in top..<(top + blockRows) {
                        for column in left..<(left + blockColumns) where mask[row * reduction + column] != first {
                            return "block at (\(top), \(left)) is partly kept"
                        }
                    }
                }
            }
            return nil
        }
    }
}
