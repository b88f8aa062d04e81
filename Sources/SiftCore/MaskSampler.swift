/// The one seeded mask sampler of the toolkit. A mask has the weight's shape and holds 1
/// where the weight is kept and 0 where it is pruned; in the matrix view it is a
/// `rows × K` matrix in the weight's memory order (K contiguous), which is where N:M
/// groups and blocks are laid. Every mask (weights of a network, test and benchmark
/// matrices) comes from here, so they all keep exactly `pattern.nonzeroCount(...)` ones.
public enum MaskSampler {
    /// A mask with exactly `pattern.nonzeroCount(rows:reduction:sparsity:)` ones, chosen
    /// uniformly at random among the masks the pattern allows. At `s = 0` every entry is 1,
    /// whatever the pattern.
    public static func mask(rows: Int, reduction: Int, sparsity: Double, pattern: SparsityPattern,
                            generator: inout SeededGenerator) throws(SiftCoreError) -> [Float] {
        try Sparsity.validate(sparsity)
        try pattern.validateParameters()
        // Bounded before allocating: a negative or huge size would trap or abort.
        guard rows > 0, reduction > 0, let count = SizeLimits.product([rows, reduction], limit: SizeLimits.floats) else {
            throw .invalidArgument("mask size \(rows) x \(reduction) must be positive and at most \(SizeLimits.floats) values")
        }
        if sparsity == 0 { return [Float](repeating: 1, count: count) }
        if let problem = pattern.tilingProblem(rows: rows, reduction: reduction) { throw .shapeMismatch(problem) }
        if let fixed = pattern.fixedSparsity, abs(fixed - sparsity) > 1e-9 {
            throw .invalidArgument("pattern \(pattern) has sparsity \(fixed), not \(sparsity)")
        }
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
    public static func sample(_ k: Int, from n: Int, generator: inout SeededGenerator) -> [Int] {
        var indices = Array(0..<n)
        let k = min(max(k, 0), n)
        for i in 0..<k {
            let j = i + generator.nextIndex(below: n - i)
            indices.swapAt(i, j)
        }
        return Array(indices[0..<k])
    }

    /// Checks a mask against a pattern; returns a description of the first violation, or
    /// nil. N:M groups must hold exactly N ones (what the sampler makes and the accounting
    /// counts); blocks must be wholly kept or wholly pruned.
    public static func violation(of mask: [Float], rows: Int, reduction: Int, pattern: SparsityPattern) -> String? {
        guard rows >= 0, reduction >= 0, mask.count == rows * reduction else {
            return "mask has \(mask.count) values, expected \(rows) x \(reduction)"
        }
        if let bad = mask.firstIndex(where: { $0 != 0 && $0 != 1 }) { return "value \(mask[bad]) at \(bad) is not 0 or 1" }
        if let problem = pattern.tilingProblem(rows: rows, reduction: reduction) { return problem }
        switch pattern {
        case .unstructured:
            return nil
        case .nOfM(let n, let m):
            for row in 0..<rows {
                for groupStart in stride(from: 0, to: reduction, by: m) {
                    let ones = (0..<m).reduce(0) { $0 + Int(mask[row * reduction + groupStart + $1]) }
                    if ones != n { return "row \(row), group at K = \(groupStart) has \(ones) non-zeros, expected \(n)" }
                }
            }
            return nil
        case .block(let blockRows, let blockColumns):
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

extension SparsityPattern {
    /// Why this pattern does not tile a `rows × reduction` matrix, or nil when it does
    /// (N:M needs K divisible by M, blocks need rows and K divisible by the block).
    public func tilingProblem(rows: Int, reduction: Int) -> String? {
        do { try validateParameters() } catch { return error.message }
        switch self {
        case .unstructured:
            return nil
        case .nOfM(let n, let m):
            return reduction % m == 0 ? nil
                : "\(n):\(m) needs the reduction length K divisible by \(m), got K = \(reduction)"
        case .block(let r, let c):
            return rows % r == 0 && reduction % c == 0 ? nil
                : "\(r)x\(c) blocks need rows divisible by \(r) and K divisible by \(c), got rows = \(rows), K = \(reduction)"
        }
    }
}
