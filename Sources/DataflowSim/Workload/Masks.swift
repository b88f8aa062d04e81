import SparseIFT
import SiftCore

/// A weight's mask as bits, `rows × columns` (weight rows × reduction), row-major: the
/// non-zero layout the simulator distributes over cores.
public struct MaskBits: Sendable, Hashable {
    public let rows: Int
    public let columns: Int
    let wordsPerRow: Int
    var words: [UInt64]

    /// A mask with every weight present.
    public init(denseRows rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        wordsPerRow = (columns + 63) / 64
        words = [UInt64](repeating: 0, count: rows * wordsPerRow)
        for row in 0..<rows {
            for column in stride(from: 0, to: columns, by: 64) {
                let width = min(64, columns - column)
                words[row * wordsPerRow + column / 64] = width == 64 ? ~0 : (UInt64(1) << UInt64(width)) - 1
            }
        }
    }

    /// From a 0/1 float mask in row-major order.
    public init(rows: Int, columns: Int, values: [Float]) {
        self.rows = rows
        self.columns = columns
        wordsPerRow = (columns + 63) / 64
        words = [UInt64](repeating: 0, count: rows * wordsPerRow)
        for row in 0..<rows {
            let base = row * columns
            for column in 0..<columns where values[base + column] != 0 {
                words[row * wordsPerRow + column / 64] |= UInt64(1) << UInt64(column % 64)
            }
        }
    }

    public func contains(row: Int, column: Int) -> Bool {
        words[row * wordsPerRow + column / 64] >> UInt64(column % 64) & 1 == 1
    }

    /// Non-zeros of `row` in columns `start..<end`.
    public func count(row: Int, from start: Int, to end: Int) -> Int {
        guard start < end else { return 0 }
        let base = row * wordsPerRow
        let firstWord = start / 64
        let lastWord = (end - 1) / 64
        var total = 0
        for word in firstWord...lastWord {
            var bits = words[base + word]
            if word == firstWord { bits &= ~0 << UInt64(start % 64) }
            if word == lastWord, end % 64 != 0 { bits &= (UInt64(1) << UInt64(end % 64)) - 1 }
            total += bits.nonzeroBitCount
        }
        return total
    }

    public var nonzeros: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Calls `body(column)` for each non-zero of `row`, in order.
    @inline(__always)
    func forEachNonzero(row: Int, _ body: (Int) -> Void) {
        let base = row * wordsPerRow
        for word in 0..<wordsPerRow {
            var bits = words[base + word]
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                body(word * 64 + bit)
                bits &= bits - 1
            }
        }
    }

    /// Adds, for every column, its non-zeros in `rows` to `counts` (`columns` long).
    func addColumnCounts(rows range: Range<Int>, to counts: inout [Double]) {
        precondition(counts.count == columns)
        words.withUnsafeBufferPointer { words in
            counts.withUnsafeMutableBufferPointer { counts in
                for row in range {
                    let base = row * wordsPerRow
                    for word in 0..<wordsPerRow {
                        var bits = words[base + word]
                        while bits != 0 {
                            counts[word * 64 + bits.trailingZeroBitCount] += 1
                            bits &= bits - 1
                        }
                    }
                }
            }
        }
    }

    /// The transpose (`columns × rows`).
    public func transposed() -> MaskBits {
        var result = MaskBits(zeroRows: columns, columns: rows)
        for row in 0..<rows {
            forEachNonzero(row: row) { column in
                result.words[column * result.wordsPerRow + row / 64] |= UInt64(1) << UInt64(row % 64)
            }
        }
        return result
    }

    init(zeroRows rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        wordsPerRow = (columns + 63) / 64
        words = [UInt64](repeating: 0, count: rows * wordsPerRow)
    }

    /// Sets entry (row, column) to one.
    mutating func insert(row: Int, column: Int) {
        words[row * wordsPerRow + column / 64] |= UInt64(1) << UInt64(column % 64)
    }

    /// The bits of `row` in word `word` that lie in columns `start..<end`.
    @inline(__always)
    private func bits(row: Int, word: Int, from start: Int, to end: Int) -> UInt64 {
        var bits = words[row * wordsPerRow + word]
        if word == start / 64 { bits &= ~0 << UInt64(start % 64) }
        if word == (end - 1) / 64, end % 64 != 0 { bits &= (UInt64(1) << UInt64(end % 64)) - 1 }
        return bits
    }

    /// Runs of consecutive non-zeros of `row` in columns `start..<end` (a run cut by `start`
    /// or `end` counts from or to there).
    func runCount(row: Int, from start: Int, to end: Int) -> Int {
        guard start < end else { return 0 }
        var total = 0
        var carry: UInt64 = 0  // whether the column just before this word is a non-zero in range
        for word in (start / 64)...((end - 1) / 64) {
            let bits = bits(row: row, word: word, from: start, to: end)
            // A run starts where a one follows a zero (or the range's start).
            total += (bits & ~(bits << 1 | carry)).nonzeroBitCount
            carry = bits >> 63
        }
        return total
    }

    /// Calls `body(start, length)` for each run of consecutive non-zeros of `row` in
    /// columns `start..<end`, in order.
    func forEachRun(row: Int, from start: Int, to end: Int, _ body: (Int, Int) -> Void) {
        guard start < end else { return }
        var runStart = -1
        for word in (start / 64)...((end - 1) / 64) {
            var bits = bits(row: row, word: word, from: start, to: end)
            var offset = 0
            while offset < 64 {
                if runStart < 0 {
                    // Skip zeros to the next one.
                    guard bits != 0 else { break }
                    let skip = bits.trailingZeroBitCount
                    offset += skip
                    bits >>= UInt64(skip)
                    runStart = word * 64 + offset
                }
                // Ones up to the next zero.
                let ones = (~bits).trailingZeroBitCount
                offset += ones
                bits = ones == 64 ? 0 : bits >> UInt64(ones)
                if offset < 64 {
                    body(runStart, word * 64 + offset - runStart)
                    runStart = -1
                }
            }
        }
        if runStart >= 0 { body(runStart, end - runStart) }
    }

    /// The masks stacked vertically (rows of the first, then of the second...), all with
    /// the same number of columns.
    static func stacked(_ parts: [MaskBits]) -> MaskBits {
        let columns = parts.first?.columns ?? 0
        precondition(parts.allSatisfy { $0.columns == columns }, "stacked masks need the same number of columns")
        var result = MaskBits(zeroRows: parts.reduce(0) { $0 + $1.rows }, columns: columns)
        var offset = 0
        for part in parts {
            result.words.replaceSubrange(offset..<(offset + part.words.count), with: part.words)
            offset += part.words.count
        }
        return result
    }
}

/// The masks of a network's weights: exactly the ones `ParameterStore.initialize` (and so
/// `sift weights`) gives each layer for the same seed, since each comes from the
/// generator stream `<layer>.mask`.
public enum MaskSource {
    /// The mask of one product's weight (all groups stacked), or nil when it is dense.
    public static func mask(of product: LoweredProduct, seed: UInt64) throws -> MaskBits? {
        guard let weight = product.weight, weight.isSparse else { return nil }
        if !product.members.isEmpty {
            // A fused product: its members' masks stacked (all ones for a dense member).
            return MaskBits.stacked(try product.members.map {
                try mask(of: $0, seed: seed) ?? MaskBits(denseRows: $0.weightRows, columns: $0.K)
            })
        }
        return try mask(layer: product.node, rows: product.weightRows, reduction: product.K, sparsity: weight.sparsity,
                        pattern: weight.pattern, seed: seed)
    }

    public static func mask(layer: String, rows: Int, reduction: Int, sparsity: Double, pattern: SparsityPattern,
                            seed: UInt64) throws -> MaskBits {
        var generator = SeededGenerator(seed: seed, stream: "\(layer).mask")
        // The kept entries straight into bits (no float mask).
        var bits = MaskBits(zeroRows: rows, columns: reduction)
        let wordsPerRow = bits.wordsPerRow
        try bits.words.withUnsafeMutableBufferPointer { words in
            try MaskSampler.forEachKept(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern,
                                        generator: &generator) { index in
                let (row, column) = index.quotientAndRemainder(dividingBy: reduction)
                words[row * wordsPerRow + column / 64] |= UInt64(1) << UInt64(column % 64)
            }
        }
        return bits
    }

    /// Seeded values for functional runs (`stream` names the tensor).
    static func values(count: Int, seed: UInt64, stream: String) -> [Float] {
        var generator = SeededGenerator(seed: seed, stream: stream)
        return (0..<count).map { _ in generator.nextSignedUnit() }
    }

    /// Seeded uniform numbers in [0, 1) for sampling (activation zeros, random panels).
    struct Uniform {
        private var generator: SeededGenerator
        init(seed: UInt64, stream: String) { generator = SeededGenerator(seed: seed, stream: stream) }
        mutating func next() -> Double { generator.nextUnit() }
        mutating func index(below bound: Int) -> Int { bound <= 1 ? 0 : generator.nextIndex(below: bound) }
    }
}
