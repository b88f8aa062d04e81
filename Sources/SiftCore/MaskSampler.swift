/// The one seeded mask sampler of the toolkit. A mask has the weight's shape and holds 1
/// where the weight is kept and 0 where it is pruned; in the matrix view it is a
/// `rows × K` matrix in the weight's memory order (K contiguous), which is where N:M
/// groups and blocks are laid. Every mask (weights of a network, test and benchmark
/// matrices) comes from here, so they all keep exactly `pattern.nonzeroCount(...)` ones.
/// Any shape works with any pattern: see `RaggedEdges` for the short N:M groups and the
/// clipped blocks at the matrix edges.
public enum MaskSampler {
    /// A mask with exactly `pattern.nonzeroCount(rows:reduction:sparsity:)` ones, chosen
    /// uniformly at random among the masks the pattern allows (for blocks: uniformly among
    /// the blocks of each shape). At `s = 0` every entry is 1, whatever the pattern.
    public static func mask(rows: Int, reduction: Int, sparsity: Double, pattern: SparsityPattern,
                            generator: inout SeededGenerator) throws(SiftCoreError) -> [Float] {
        let count = try checkedCount(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern)
        if sparsity == 0 { return [Float](repeating: 1, count: count) }
        var mask = [Float](repeating: 0, count: count)
        mask.withUnsafeMutableBufferPointer { mask in
            sampleKept(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern, generator: &generator) { mask[$0] = 1 }
        }
        return mask
    }

    /// Calls `body` with the flat index (`row · reduction + column`) of every entry the
    /// mask keeps, each once, in no particular order: exactly the entries `mask(...)` sets to
    /// 1 for the same generator state, without building the mask (a caller that wants bits,
    /// or only the non-zeros, saves the float array).
    public static func forEachKept(rows: Int, reduction: Int, sparsity: Double, pattern: SparsityPattern,
                                   generator: inout SeededGenerator, _ body: (Int) -> Void) throws(SiftCoreError) {
        let count = try checkedCount(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern)
        if sparsity == 0 {
            for index in 0..<count { body(index) }
            return
        }
        sampleKept(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern, generator: &generator, body)
    }

    /// The mask's size, after the checks every sampler entry point makes.
    private static func checkedCount(rows: Int, reduction: Int, sparsity: Double,
                                      pattern: SparsityPattern) throws(SiftCoreError) -> Int {
        try Sparsity.validate(sparsity)
        try pattern.validateParameters()
        // Bounded before allocating: a negative or huge size would trap or abort.
        guard rows > 0, reduction > 0, let count = SizeLimits.product([rows, reduction], limit: SizeLimits.floats) else {
            throw .invalidArgument("mask size \(rows) x \(reduction) must be positive and at most \(SizeLimits.floats) values")
        }
        if sparsity > 0, let fixed = pattern.fixedSparsity, abs(fixed - sparsity) > 1e-9 {
            throw .invalidArgument("pattern \(pattern) has sparsity \(fixed), not \(sparsity)")
        }
        return count
    }

    /// The kept entries of a checked, sparse request: one partial Fisher–Yates shuffle per
    /// choice (of the entries, of each N:M group's positions, of each block shape's blocks),
    /// drawing from `generator` in the order the toolkit has always drawn (the masks of a
    /// seed never change).
    private static func sampleKept(rows: Int, reduction: Int, sparsity: Double, pattern: SparsityPattern,
                                   generator: inout SeededGenerator, _ body: (Int) -> Void) {
        var shuffle = PartialShuffle()
        switch pattern {
        case .unstructured:
            let kept = pattern.nonzeroCount(rows: rows, reduction: reduction, sparsity: sparsity)
            shuffle.sample(kept, from: rows * reduction, generator: &generator, body)
        case .nOfM(let n, let m):
            let tailKeeps = RaggedEdges.shortGroupKeeps(n: n, m: m, length: reduction % m)
            for row in 0..<rows {
                for groupStart in stride(from: 0, to: reduction, by: m) {
                    let length = min(m, reduction - groupStart)
                    let base = row * reduction + groupStart
                    shuffle.sample(length == m ? n : tailKeeps, from: length, generator: &generator) { body(base + $0) }
                }
            }
        case .block(let blockRows, let blockColumns):
            for blocks in blocksByShape(rows: rows, reduction: reduction, blockRows: blockRows, blockColumns: blockColumns) {
                let kept = SparsityPattern.kept(blocks.count, density: 1 - sparsity)
                shuffle.sample(kept, from: blocks.count, generator: &generator) { index in
                    let block = blocks[index]
                    for row in block.top..<(block.top + block.height) {
                        for column in block.left..<(block.left + block.width) { body(row * reduction + column) }
                    }
                }
            }
        }
    }

    /// `k` distinct indices of `0..<n`, uniformly: a partial Fisher–Yates shuffle.
    public static func sample(_ k: Int, from n: Int, generator: inout SeededGenerator) -> [Int] {
        // Int indices here (any n); the masks' samplers use `PartialShuffle`, the same draws.
        guard n > 0 else { return [] }
        var indices = Array(0..<n)
        let k = min(max(k, 0), n)
        for i in 0..<k {
            let j = i + generator.nextIndex(below: n - i)
            indices.swapAt(i, j)
        }
        return Array(indices[0..<k])
    }

    /// Checks a mask's structure against a pattern; returns a description of the first
    /// violation, or nil. Full N:M groups must hold exactly N ones and the short last
    /// group `round(N·L/M)` (what the sampler makes and the accounting counts); blocks,
    /// clipped at the edges, must be wholly kept or wholly pruned. (How many ones in all
    /// is a separate check: compare with `pattern.nonzeroCount`.)
    public static func violation(of mask: [Float], rows: Int, reduction: Int, pattern: SparsityPattern) -> String? {
        guard rows >= 0, reduction >= 0, let expected = SizeLimits.product([rows, reduction], limit: Int.max),
              mask.count == expected else {
            return "mask has \(mask.count) values, expected \(rows) x \(reduction)"
        }
        do { try pattern.validateParameters() } catch { return error.message }
        if let bad = mask.firstIndex(where: { $0 != 0 && $0 != 1 }) { return "value \(mask[bad]) at \(bad) is not 0 or 1" }
        switch pattern {
        case .unstructured:
            return nil
        case .nOfM(let n, let m):
            let tailKeeps = RaggedEdges.shortGroupKeeps(n: n, m: m, length: reduction % m)
            for row in 0..<rows {
                for groupStart in stride(from: 0, to: reduction, by: m) {
                    let length = min(m, reduction - groupStart)
                    let ones = (0..<length).reduce(0) { $0 + Int(mask[row * reduction + groupStart + $1]) }
                    let wanted = length == m ? n : tailKeeps
                    if ones != wanted {
                        return "row \(row), \(length == m ? "group" : "short last group of \(length)") at K = \(groupStart) has \(ones) non-zeros, expected \(wanted)"
                    }
                }
            }
            return nil
        case .block(let blockRows, let blockColumns):
            for blocks in blocksByShape(rows: rows, reduction: reduction, blockRows: blockRows, blockColumns: blockColumns) {
                for block in blocks {
                    let first = mask[block.top * reduction + block.left]
                    for row in block.top..<(block.top + block.height) {
                        for column in block.left..<(block.left + block.width) where mask[row * reduction + column] != first {
                            return "block at (\(block.top), \(block.left)) is partly kept"
                        }
                    }
                }
            }
            return nil
        }
    }

    /// One block of a tiled matrix, clipped at the edges.
    struct Block {
        let top: Int, left: Int, height: Int, width: Int
    }

    /// The blocks of the matrix grouped by shape, in the order of `RaggedEdges.blockShapes`
    /// (full, right edge, bottom edge, corner), each group in row-major order.
    static func blocksByShape(rows: Int, reduction: Int, blockRows: Int, blockColumns: Int) -> [[Block]] {
        let (fullRows, fullColumns) = (rows / blockRows, reduction / blockColumns)
        let (tailRows, tailColumns) = (rows % blockRows, reduction % blockColumns)
        var full: [Block] = [], right: [Block] = [], bottom: [Block] = [], corner: [Block] = []
        for blockRow in 0..<(fullRows + (tailRows > 0 ? 1 : 0)) {
            for blockColumn in 0..<(fullColumns + (tailColumns > 0 ? 1 : 0)) {
                let block = Block(top: blockRow * blockRows, left: blockColumn * blockColumns,
                                  height: min(blockRows, rows - blockRow * blockRows),
                                  width: min(blockColumns, reduction - blockColumn * blockColumns))
                switch (blockRow < fullRows, blockColumn < fullColumns) {
                case (true, true): full.append(block)
                case (true, false): right.append(block)
                case (false, true): bottom.append(block)
                case (false, false): corner.append(block)
                }
            }
        }
        return [full, right, bottom, corner].filter { !$0.isEmpty }
    }
}

/// A partial Fisher–Yates shuffle over a reusable buffer of 32-bit indices: step i swaps
/// position i with a uniform position of `i..<n`, and the first k positions are the sample.
/// The buffer is reset to the identity for each sample, reused across the many small
/// samples of an N:M mask, and walked through unchecked pointers; the 32-bit entries halve
/// the memory the random swaps of a large mask touch (masks hold at most 2^31 entries).
struct PartialShuffle {
    private var indices: [UInt32] = []

    mutating func sample(_ k: Int, from n: Int, generator: inout SeededGenerator, _ body: (Int) -> Void) {
        guard n > 0 else { return }
        let k = min(max(k, 0), n)
        if indices.count < n { indices = [UInt32](repeating: 0, count: n) }
        indices.withUnsafeMutableBufferPointer { buffer in
            guard let indices = buffer.baseAddress else { return }
            for index in 0..<n { indices[index] = UInt32(truncatingIfNeeded: index) }
            for i in 0..<k {
                let j = i + generator.nextIndex(below: n - i)
                let swapped = indices[j]
                indices[j] = indices[i]
                indices[i] = swapped
            }
            for i in 0..<k { body(Int(indices[i])) }
        }
    }
}
