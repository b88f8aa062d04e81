/// How the zeros of a sparse weight are arranged. The pattern is defined on the layer's
/// GEMM view: `rows` = output channels (or features), `K` = the reduction length
/// (`in_channels / groups · kh · kw` for a convolution, `in_features` for a linear layer),
/// which is also the layout of the weight in memory (PyTorch order, K contiguous).
public enum SparsityPattern: Hashable, Sendable, CustomStringConvertible {
    /// Any zeros anywhere; the count is exact: `round((1 - s) · count)` non-zeros.
    case unstructured
    /// In every run of `m` consecutive weights along K, exactly `n` are non-zero. The
    /// sparsity is fixed by the pattern: `1 - n/m`.
    case nOfM(n: Int, m: Int)
    /// The matrix is tiled in `rows × columns` blocks; whole blocks are zero or kept.
    case block(rows: Int, columns: Int)

    /// Parses `unstructured`, `N:M` (e.g. `2:4`) or `RxC` (e.g. `4x4`).
    public init(parsing text: String) throws {
        let lowered = text.lowercased()
        if lowered == "unstructured" {
            self = .unstructured
            return
        }
        if let parts = Self.twoPositiveIntegers(lowered, separator: ":") {
            guard parts.0 < parts.1 else {
                throw SparseIFTError.invalidArgument("pattern \(text): N must be smaller than M in N:M")
            }
            self = .nOfM(n: parts.0, m: parts.1)
            return
        }
        if let parts = Self.twoPositiveIntegers(lowered, separator: "x") {
            self = .block(rows: parts.0, columns: parts.1)
            return
        }
        throw SparseIFTError.invalidArgument("pattern '\(text)' is not one of unstructured, N:M (e.g. 2:4), RxC (e.g. 4x4)")
    }

    private static func twoPositiveIntegers(_ text: String, separator: Character) -> (Int, Int)? {
        let pieces = text.split(separator: separator, omittingEmptySubsequences: false)
        guard pieces.count == 2, let a = Int(pieces[0]), let b = Int(pieces[1]), a > 0, b > 0, a <= 1 << 20, b <= 1 << 20 else {
            return nil
        }
        return (a, b)
    }

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

    /// Refuses a pattern built directly with sizes `init(parsing:)` would not accept
    /// (`N:M` needs 0 < N < M, blocks need positive sides; all at most 2^20).
    public func validateParameters() throws {
        switch self {
        case .unstructured:
            return
        case .nOfM(let n, let m):
            guard n > 0, m > n, m <= 1 << 20 else {
                throw SparseIFTError.invalidArgument("pattern \(n):\(m) needs 0 < N < M <= \(1 << 20)")
            }
        case .block(let r, let c):
            guard r > 0, c > 0, r <= 1 << 20, c <= 1 << 20 else {
                throw SparseIFTError.invalidArgument("pattern \(r)x\(c) needs block sides in 1...\(1 << 20)")
            }
        }
    }

    /// Refuses a layer whose GEMM view the pattern does not tile.
    public func validate(layer: String, rows: Int, reduction: Int) throws {
        try validateParameters()
        guard rows >= 0, reduction >= 0 else {
            throw SparseIFTError.invalidArgument("layer \(layer) has a negative size: rows = \(rows), K = \(reduction)")
        }
        switch self {
        case .unstructured:
            return
        case .nOfM(let n, let m):
            guard reduction % m == 0 else {
                throw SparseIFTError.patternNotApplicable(
                    "\(n):\(m) needs the reduction length K divisible by \(m), but layer \(layer) has K = \(reduction)")
            }
        case .block(let r, let c):
            guard rows % r == 0, reduction % c == 0 else {
                throw SparseIFTError.patternNotApplicable(
                    "\(r)x\(c) blocks need rows divisible by \(r) and K divisible by \(c), but layer \(layer) has rows = \(rows), K = \(reduction)")
            }
        }
    }

    /// The exact number of non-zero weights of a `rows × reduction` matrix at sparsity `s`.
    /// This is the single rounding convention of the toolkit: masks realise exactly this
    /// count, and every accounting figure uses it.
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

/// Why a weight layer is (or is not) sparse. The roles encode the authors' convention:
/// only `body` layers take the network's sparsity; every other role stays dense.
public enum WeightRole: String, Hashable, Sendable, CaseIterable {
    /// A conv or linear layer inside the network: sparse at the network's sparsity and
    /// the target of the transformations (including 1x1 shortcuts and attention projections).
    case body
    /// The first convolution (on the image): dense, widened by Sparse Wide.
    case stem
    /// The classifier or language-model head: dense, widened on its input side.
    case classifier
    /// Token or position embeddings: dense.
    case embedding
    /// The dense low-rank factors U, V that Sparse Doped adds.
    case lowRank
    /// A grouped or depthwise convolution: it mixes no channels, so it has no D_in × D_out
    /// matrix to transform; it stays dense and Sparse Wide widens it with its channels.
    case grouped
}

/// The sparsity state of one weight tensor.
public struct WeightSparsity: Hashable, Sendable {
    public var role: WeightRole
    /// Fraction of zero weights, in [0, 1). Zero for every role but `body`.
    public var sparsity: Double
    public var pattern: SparsityPattern

    public init(role: WeightRole, sparsity: Double = 0, pattern: SparsityPattern = .unstructured) {
        self.role = role
        self.sparsity = sparsity
        self.pattern = pattern
    }

    public var isSparse: Bool { sparsity > 0 }
}
