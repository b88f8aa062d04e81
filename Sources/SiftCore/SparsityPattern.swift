/// How the zeros of a sparse weight are arranged: the one pattern type of the toolkit,
/// shared by the transforms, the masks, the accounting, the kernels and the simulator.
///
/// A pattern is defined on the weight's matrix view `W (M×K)`: M rows = output channels
/// (or features), K = the reduction length (`in_channels / groups · kh · kw` for a
/// convolution, `in_features` for a linear layer), which is also the weight's memory
/// layout (PyTorch order, K contiguous). "Dense" is not a pattern: it is sparsity 0.
///
/// Whether a CPU kernel can run a pattern is a separate question, answered by
/// `KernelCapabilities`: every pattern here is valid for masks and accounting.
public enum SparsityPattern: Hashable, Sendable, CustomStringConvertible {
    /// Any zeros anywhere; the count is exact: `round((1 - s) · count)` non-zeros.
    case unstructured
    /// In every run of `m` consecutive weights along K, `n` are non-zero. The sparsity is
    /// fixed by the pattern: `1 - n/m`.
    case nOfM(n: Int, m: Int)
    /// The matrix is tiled in `rows × columns` blocks; whole blocks are zero or kept.
    case block(rows: Int, columns: Int)

    /// Largest N:M group size or block side a pattern may name (2^20): far beyond any
    /// kernel, small enough that no count built from it can overflow.
    public static let maxParameter = 1 << 20

    /// Parses `unstructured`, `N:M` (e.g. `2:4`) or `RxC` (e.g. `4x4`).
    public init(parsing text: String) throws(SiftCoreError) {
        let lowered = text.lowercased()
        if lowered == "unstructured" {
            self = .unstructured
            return
        }
        if let (n, m) = Self.twoIntegers(lowered, separator: ":") {
            self = .nOfM(n: n, m: m)
        } else if let (r, c) = Self.twoIntegers(lowered, separator: "x") {
            self = .block(rows: r, columns: c)
        } else {
            throw .invalidArgument("pattern '\(text)' is not one of unstructured, N:M (e.g. 2:4), RxC (e.g. 4x4)")
        }
        try validateParameters()
    }

    private static func twoIntegers(_ text: String, separator: Character) -> (Int, Int)? {
        let pieces = text.split(separator: separator, omittingEmptySubsequences: false)
        guard pieces.count == 2, let a = Int(pieces[0]), let b = Int(pieces[1]) else { return nil }
        return (a, b)
    }

    /// "unstructured", "2:4", "16x16".
    public var description: String {
        switch self {
        case .unstructured: "unstructured"
        case .nOfM(let n, let m): "\(n):\(m)"
        case .block(let r, let c): "\(r)x\(c)"
        }
    }

    /// The sparsity an N:M pattern imposes, or nil when the pattern leaves it free.
    public var fixedSparsity: Double? {
        if case .nOfM(let n, let m) = self { return 1 - Double(n) / Double(m) }
        return nil
    }

    /// Refuses parameters no mask can have: N:M needs `1 <= N <= M`, blocks positive
    /// sides, all at most `maxParameter`. (Which kernels run it is `KernelCapabilities`.)
    public func validateParameters() throws(SiftCoreError) {
        switch self {
        case .unstructured:
            return
        case .nOfM(let n, let m):
            guard n >= 1, n <= m, m <= Self.maxParameter else {
                throw .invalidArgument("pattern \(n):\(m) needs 1 <= N <= M <= \(Self.maxParameter)")
            }
        case .block(let r, let c):
            guard r >= 1, c >= 1, r <= Self.maxParameter, c <= Self.maxParameter else {
                throw .invalidArgument("pattern \(r)x\(c) needs block sides in 1...\(Self.maxParameter)")
            }
        }
    }

    /// The exact number of non-zero weights of a `rows × reduction` matrix at sparsity `s`.
    /// This is the single rounding convention of the toolkit: the mask sampler realises
    /// exactly this count, and every accounting figure uses it. Halves round away from zero.
    /// - unstructured: `round((1 - s) · rows · K)`;
    /// - N:M: per row, `N` in each of the `K / M` full groups, and `round(N · L / M)` in the
    ///   short last group of `L = K % M` weights (see `RaggedEdges`);
    /// - blocks: per block shape (full, right edge, bottom edge, corner; see `RaggedEdges`),
    ///   `round((1 - s) · count)` blocks kept, each counting the weights it really covers.
    ///
    /// Total for every input: negative sizes count as empty, a product beyond `Int`
    /// saturates, a sparsity outside [0, 1) is clamped, and a pattern that
    /// `validateParameters` refuses prunes nothing (the entry points refuse it first).
    public func nonzeroCount(rows: Int, reduction: Int, sparsity: Double) -> Int {
        guard rows > 0, reduction > 0 else { return 0 }
        let (product, overflow) = rows.multipliedReportingOverflow(by: reduction)
        let count = overflow ? Int.max : product
        let density = sparsity.isNaN ? 1 : min(1, max(0, 1 - sparsity))
        if density == 1 || (try? validateParameters()) == nil { return count }
        switch self {
        case .unstructured:
            return Self.kept(count, density: density)
        case .nOfM(let n, let m):
            let perRow = reduction / m * n + RaggedEdges.shortGroupKeeps(n: n, m: m, length: reduction % m)
            let (total, overflow) = rows.multipliedReportingOverflow(by: perRow)
            return overflow ? count : total
        case .block(let r, let c):
            var total = 0
            for shape in RaggedEdges.blockShapes(rows: rows, reduction: reduction, blockRows: r, blockColumns: c) {
                let (weights, overflow) = Self.kept(shape.count, density: density).multipliedReportingOverflow(by: shape.rows * shape.columns)
                let (sum, sumOverflow) = total.addingReportingOverflow(weights)
                if overflow || sumOverflow { return count }
                total = sum
            }
            return total
        }
    }

    /// `round(density · count)`, compared in Double first so the conversion cannot trap.
    static func kept(_ count: Int, density: Double) -> Int {
        let kept = (Double(count) * density).rounded()
        return kept >= Double(Int.max) ? count : min(count, Int(kept))
    }
}

/// How N:M and block patterns apply to a matrix whose sides are not multiples of the
/// group or block (a widened layer: 90 channels, K = 810): the pattern is laid from the
/// top-left corner, and the pieces at the right and bottom edges are simply shorter.
///
/// - **N:M, short last group.** When `K % M = L != 0`, each row ends with a group of `L`
///   weights, which keeps `round(N · L / M)` of them (halves away from zero): the same
///   density as the full groups, to the nearest weight, and never more than `N` (so an
///   N:M kernel that accepts "at most N per group" runs it). 2:4 on K = 810 keeps 1 of
///   the last 2 weights: exactly half of every row.
/// - **Blocks, clipped edges.** The last block-row has `rows % R` rows and the last
///   block-column `K % C` columns. Blocks fall into up to four shapes (full, right edge,
///   bottom edge, corner); the sparsity is applied to each shape separately
///   (`round((1 - s) · count)` kept, uniformly among that shape's blocks), so the count
///   of kept weights does not depend on the seed and the weight-level sparsity matches
///   `s` whatever the edges. A kept edge block counts only the weights it covers: a
///   kernel that pads edge blocks to R×C in storage computes on padding that holds no
///   weight, which shows in its measured time, never in the FLOP counts.
public enum RaggedEdges {
    /// Weights kept in a short last N:M group of `length` weights.
    public static func shortGroupKeeps(n: Int, m: Int, length: Int) -> Int {
        guard length > 0, m > 0 else { return 0 }
        return Int((Double(n) * Double(length) / Double(m)).rounded())
    }

    /// One shape of block of a tiled matrix: `count` blocks of `rows × columns`.
    public struct BlockShape: Hashable, Sendable {
        public let rows: Int
        public let columns: Int
        public let count: Int
    }

    /// The block shapes of a `rows × reduction` matrix tiled in `blockRows × blockColumns`
    /// blocks from the top-left: full blocks, then the right edge, bottom edge and corner
    /// when the sides are not multiples (shapes with no block are left out).
    public static func blockShapes(rows: Int, reduction: Int, blockRows: Int, blockColumns: Int) -> [BlockShape] {
        guard rows > 0, reduction > 0, blockRows > 0, blockColumns > 0 else { return [] }
        let (fullRows, tailRows) = (rows / blockRows, rows % blockRows)
        let (fullColumns, tailColumns) = (reduction / blockColumns, reduction % blockColumns)
        let shapes = [
            BlockShape(rows: blockRows, columns: blockColumns, count: fullRows * fullColumns),
            BlockShape(rows: blockRows, columns: tailColumns, count: tailColumns > 0 ? fullRows : 0),
            BlockShape(rows: tailRows, columns: blockColumns, count: tailRows > 0 ? fullColumns : 0),
            BlockShape(rows: tailRows, columns: tailColumns, count: tailRows > 0 && tailColumns > 0 ? 1 : 0),
        ]
        return shapes.filter { $0.count > 0 }
    }
}

/// Checks of a sparsity value shared by every entry point.
public enum Sparsity {
    /// Refuses anything outside [0, 1) (NaN included) with a message naming the value.
    public static func validate(_ sparsity: Double, name: String = "sparsity") throws(SiftCoreError) {
        guard !sparsity.isNaN, sparsity >= 0, sparsity < 1 else {
            throw .invalidArgument("\(name) must be in [0, 1), got \(sparsity)")
        }
    }
}
