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
    /// exactly this count, and every accounting figure uses it.
    /// - unstructured: `round((1 - s) · rows · K)`, halves rounded away from zero;
    /// - N:M: `N` per group of `M` (`rows · K / M · N`);
    /// - blocks: `round((1 - s) · blocks)` whole blocks of `R · C` weights.
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
            // Compared in Double first, so the conversion cannot trap near Int.max.
            let kept = (Double(count) * density).rounded()
            return kept >= Double(Int.max) ? count : min(count, Int(kept))
        case .nOfM(let n, let m):
            return count / m * n
        case .block(let r, let c):
            let blocks = (rows / r) * (reduction / c)
            let kept = min(blocks, max(0, Int((Double(blocks) * density).rounded())))
            return kept * r * c
        }
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
