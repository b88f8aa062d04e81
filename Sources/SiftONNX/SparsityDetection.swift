import SparseIFT

/// Finds how a weight's exact zeros are arranged, so an imported model carries the same
/// sparsity information a `sift transform` network does and the runtime's kernel choice
/// sees it. The weight is read in its GEMM view, `rows × K` with K contiguous (the layout
/// of `[out, in]` and `[out, in/groups, kh, kw]`), where N:M groups and blocks are laid.
///
/// - No zero: dense (nil).
/// - N:M: the smallest M in 2...16 (the N:M kernels' limit) with K divisible by M such
///   that every group of M consecutive weights along K holds exactly the same count N of
///   non-zeros, 0 < N < M. Sparsity 1 - N/M.
/// - Block: the largest `r × c` tile (edges in {1, 2, 4, 8, 16, 32}, the BSR kernels'
///   block edges, 1x1 excluded) that tiles the matrix and whose every tile is entirely
///   zero or entirely non-zero. Sparsity = the fraction of zero tiles.
/// - Otherwise unstructured, at the exact fraction of zeros.
///
/// The mask is 1 where the weight is non-zero. Detection is strict: a trained N:M or
/// block model whose kept weights happen to contain exact zeros is reported unstructured,
/// which is honest about what the kernels can assume.
public enum SparsityDetection {
    public struct Result: Equatable, Sendable {
        public let sparsity: Double
        public let pattern: SparsityPattern
        public let mask: [Float]
    }

    public static let nOfMGroupSizes = Array(2...16)
    public static let blockEdges = [1, 2, 4, 8, 16, 32]

    /// The sparsity of a `rows × reduction` weight, or nil when it has no zero.
    public static func detect(weight: [Float], rows: Int, reduction: Int) -> Result? {
        guard rows > 0, reduction > 0, weight.count == rows * reduction else { return nil }
        let zeros = weight.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        guard zeros > 0 else { return nil }
        let mask = weight.map { $0 == 0 ? Float(0) : 1 }
        for m in nOfMGroupSizes where reduction % m == 0 {
            if let n = uniformGroupCount(mask, rows: rows, reduction: reduction, groupSize: m), n > 0, n < m {
                return Result(sparsity: 1 - Double(n) / Double(m), pattern: .nOfM(n: n, m: m), mask: mask)
            }
        }
        for (blockRows, blockColumns) in blockCandidates where rows % blockRows == 0 && reduction % blockColumns == 0 {
            if let zeroBlocks = zeroBlockCount(mask, rows: rows, reduction: reduction, blockRows: blockRows, blockColumns: blockColumns) {
                let blocks = (rows / blockRows) * (reduction / blockColumns)
                return Result(sparsity: Double(zeroBlocks) / Double(blocks), pattern: .block(rows: blockRows, columns: blockColumns), mask: mask)
            }
        }
        return Result(sparsity: Double(zeros) / Double(weight.count), pattern: .unstructured, mask: mask)
    }

    /// Block shapes from the largest area down; among equal areas the squarest first.
    static let blockCandidates: [(Int, Int)] = {
        var shapes: [(Int, Int)] = []
        for r in blockEdges {
            for c in blockEdges where r * c > 1 { shapes.append((r, c)) }
        }
        return shapes.sorted { a, b in
            let (areaA, areaB) = (a.0 * a.1, b.0 * b.1)
            if areaA != areaB { return areaA > areaB }
            let (skewA, skewB) = (max(a.0, a.1) / min(a.0, a.1), max(b.0, b.1) / min(b.0, b.1))
            if skewA != skewB { return skewA < skewB }
            return a.0 > b.0
        }
    }()

    /// The common non-zero count of every group of `groupSize` along K, or nil if they differ.
    static func uniformGroupCount(_ mask: [Float], rows: Int, reduction: Int, groupSize: Int) -> Int? {
        var expected: Int?
        for start in stride(from: 0, to: rows * reduction, by: groupSize) {
            var count = 0
            for offset in 0..<groupSize where mask[start + offset] != 0 { count += 1 }
            if let expected, expected != count { return nil }
            expected = count
        }
        return expected
    }

    /// The number of all-zero tiles, or nil if a tile is partly zero.
    static func zeroBlockCount(_ mask: [Float], rows: Int, reduction: Int, blockRows: Int, blockColumns: Int) -> Int? {
        var zeroBlocks = 0
        for top in stride(from: 0, to: rows, by: blockRows) {
            for left in stride(from: 0, to: reduction, by: blockColumns) {
                let first = mask[top * reduction + left]
                for row in top..<(top + blockRows) {
                    for column in left..<(left + blockColumns) where mask[row * reduction + column] != first { return nil }
                }
                if first == 0 { zeroBlocks += 1 }
            }
        }
        return zeroBlocks
    }
}
