import SiftCore

/// Finds how a weight's exact zeros are arranged, so an imported model carries the same
/// sparsity information a `sift transform` network does and the runtime's kernel choice
/// sees it. The weight is read in its GEMM view, `rows × K` with K contiguous (the layout
/// of `[out, in]` and `[out, in/groups, kh, kw]`), where N:M groups and blocks are laid.
///
/// - No zero (or nothing but zeros): dense (nil).
/// - N:M: the smallest M up to `KernelCapabilities.nmMaxGroupSize` (16) for which every
///   group of M consecutive weights along K holds the same count N of non-zeros,
///   0 < N < M (a short last group, when M does not divide K, keeps round(N·L/M) as
///   SiftCore's ragged rule says). Sparsity 1 - N/M.
/// - Block: the largest `r × c` tile (edges from `KernelCapabilities.bsrBlockEdges`,
///   1x1 excluded) whose every tile, clipped at the edges, is entirely zero or entirely
///   non-zero, and whose kept-tile counts a single sparsity reproduces per tile shape.
/// - Otherwise unstructured, at the exact fraction of zeros.
///
/// Every answer is checked with SiftCore's own rules (`MaskSampler.violation` and
/// `SparsityPattern.nonzeroCount`), so the imported masks pass `validateMasks`. The mask
/// is 1 where the weight is non-zero; detection is strict: a trained N:M or block model
/// whose kept weights contain exact zeros is reported unstructured, which is honest
/// about what the kernels can assume.
public enum SparsityDetection {
    public struct Result: Equatable, Sendable {
        public let sparsity: Double
        public let pattern: SparsityPattern
        public let mask: [Float]
    }

    /// The sparsity of a `rows × reduction` weight, or nil when it has no zero.
    public static func detect(weight: [Float], rows: Int, reduction: Int) -> Result? {
        guard rows > 0, reduction > 0, weight.count == rows * reduction else { return nil }
        let mask = weight.map { $0 == 0 ? Float(0) : 1 }
        let kept = mask.reduce(0) { $0 + Int($1) }
        // An all-zero weight is not "sparsity 1" (the IR's sparsity is below 1): it stays a
        // dense layer whose values happen to be zero.
        guard kept < weight.count, kept > 0 else { return nil }
        func accepts(_ pattern: SparsityPattern, _ sparsity: Double) -> Bool {
            MaskSampler.violation(of: mask, rows: rows, reduction: reduction, pattern: pattern) == nil
                && pattern.nonzeroCount(rows: rows, reduction: reduction, sparsity: sparsity) == kept
        }
        for m in 2...KernelCapabilities.nmMaxGroupSize where m <= reduction {
            let n = mask[0..<m].reduce(0) { $0 + Int($1) }
            guard n > 0, n < m, uniformGroups(mask, rows: rows, reduction: reduction, groupSize: m, expected: n) else { continue }
            let pattern = SparsityPattern.nOfM(n: n, m: m)
            let sparsity = 1 - Double(n) / Double(m)
            if accepts(pattern, sparsity) { return Result(sparsity: sparsity, pattern: pattern, mask: mask) }
        }
        for (blockRows, blockColumns) in blockCandidates where blockRows <= rows && blockColumns <= reduction {
            guard let sparsity = blockSparsity(mask, rows: rows, reduction: reduction, blockRows: blockRows, blockColumns: blockColumns) else { continue }
            let pattern = SparsityPattern.block(rows: blockRows, columns: blockColumns)
            if accepts(pattern, sparsity) { return Result(sparsity: sparsity, pattern: pattern, mask: mask) }
        }
        let sparsity = 1 - Double(kept) / Double(weight.count)
        return Result(sparsity: sparsity, pattern: .unstructured, mask: mask)
    }

    /// Block shapes from the largest area down; among equal areas the squarest first.
    static let blockCandidates: [(Int, Int)] = {
        let edges = KernelCapabilities.bsrBlockEdges
        var shapes: [(Int, Int)] = []
        for r in edges {
            for c in edges where r * c > 1 { shapes.append((r, c)) }
        }
        return shapes.sorted { a, b in
            let (areaA, areaB) = (a.0 * a.1, b.0 * b.1)
            if areaA != areaB { return areaA > areaB }
            let (skewA, skewB) = (max(a.0, a.1) / min(a.0, a.1), max(b.0, b.1) / min(b.0, b.1))
            if skewA != skewB { return skewA < skewB }
            return a.0 > b.0
        }
    }()

    /// True when every full group of `groupSize` along K holds `expected` non-zeros (the
    /// short last group is left to SiftCore's check).
    static func uniformGroups(_ mask: [Float], rows: Int, reduction: Int, groupSize: Int, expected: Int) -> Bool {
        let fullGroups = reduction / groupSize
        for row in 0..<rows {
            for group in 0..<fullGroups {
                let start = row * reduction + group * groupSize
                var count = 0
                for offset in 0..<groupSize where mask[start + offset] != 0 { count += 1 }
                if count != expected { return false }
            }
        }
        return true
    }

    /// If every tile (clipped at the edges) is all zero or all kept, a sparsity whose
    /// per-tile-shape rounding gives each shape's kept count (SiftCore keeps
    /// `round(count · (1 - s))` tiles of each shape); nil otherwise.
    static func blockSparsity(_ mask: [Float], rows: Int, reduction: Int, blockRows: Int, blockColumns: Int) -> Double? {
        // Kept and total tiles per tile shape.
        var kept: [Int: Int] = [:]
        var total: [Int: Int] = [:]
        for top in stride(from: 0, to: rows, by: blockRows) {
            for left in stride(from: 0, to: reduction, by: blockColumns) {
                let bottom = min(top + blockRows, rows), right = min(left + blockColumns, reduction)
                let first = mask[top * reduction + left]
                for row in top..<bottom {
                    for column in left..<right where mask[row * reduction + column] != first { return nil }
                }
                let shape = (bottom - top) << 32 | (right - left)
                total[shape, default: 0] += 1
                if first != 0 { kept[shape, default: 0] += 1 }
            }
        }
        // The densities d with round(count · d) == kept for every shape: an interval.
        var low = 0.0, high = 1.0
        for (shape, count) in total {
            let k = Double(kept[shape] ?? 0), n = Double(count)
            low = max(low, (k - 0.5) / n)
            high = min(high, (k + 0.5) / n)
        }
        guard low < high else { return nil }
        // The full-size tiles' own fraction when it lies inside, else the middle.
        let fullShape = blockRows << 32 | blockColumns
        var density = (low + high) / 2
        if let count = total[fullShape] {
            let own = Double(kept[fullShape] ?? 0) / Double(count)
            if own > low && own < high { density = own }
        }
        return 1 - density
    }
}
