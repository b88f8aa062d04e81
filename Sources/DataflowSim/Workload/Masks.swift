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
}

/// The masks of a network's weights: exactly the ones `ParameterStore.initialize` (and so
/// `sift weights`) gives each layer for the same seed, since each comes from the
/// generator stream `<layer>.mask`.
public enum MaskSource {
    /// The mask of one product's weight (all groups stacked), or nil when it is dense.
    public static func mask(of product: LoweredProduct, seed: UInt64) throws -> MaskBits? {
        guard let weight = product.weight, weight.isSparse else { return nil }
        return try mask(layer: product.node, rows: product.weightRows, reduction: product.K, sparsity: weight.sparsity,
                        pattern: weight.pattern, seed: seed)
    }

    public static func mask(layer: String, rows: Int, reduction: Int, sparsity: Double, pattern: SparsityPattern,
                            seed: UInt64) throws -> MaskBits {
        var generator = SeededGenerator(seed: seed, stream: "\(layer).mask")
        let values = try MaskSampler.mask(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern,
                                            generator: &generator)
        return MaskBits(rows: rows, columns: reduction, values: values)
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
