/// The structure of a weight matrix's zeros, which decides the storage format.
public enum SparsePattern: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// No structure assumed: every weight stored (the dense format).
    case dense
    /// Any zeros anywhere (the CSR format).
    case unstructured
    /// At most `n` nonzeros in every group of `m` consecutive weights along K.
    case nOfM(n: Int, m: Int)
    /// Zeros come in whole `rows`×`columns` blocks.
    case block(rows: Int, columns: Int)

    /// Block edges the BSR kernels support.
    public static let supportedBlockEdges = [1, 2, 4, 8, 16, 32]
    /// Largest group size M the N:M kernels support.
    public static let maxGroupSize = 16

    /// "dense", "unstructured", "2:4", "16x16".
    public var description: String {
        switch self {
        case .dense: "dense"
        case .unstructured: "unstructured"
        case .nOfM(let n, let m): "\(n):\(m)"
        case .block(let r, let c): "\(r)x\(c)"
        }
    }

    /// Parses "2:4" as N:M, validated (1 <= N <= M <= 16).
    public static func parseNM(_ text: String) throws(KernelError) -> SparsePattern {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[0]), let m = Int(parts[1]) else {
            throw .invalidArgument("N:M pattern '\(text)' must look like 2:4")
        }
        let pattern = SparsePattern.nOfM(n: n, m: m)
        try pattern.validateParameters()
        return pattern
    }

    /// Parses "4x4" as a block shape, validated (each edge in 1, 2, 4, 8, 16, 32).
    public static func parseBlock(_ text: String) throws(KernelError) -> SparsePattern {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let r = Int(parts[0]), let c = Int(parts[1]) else {
            throw .invalidArgument("block shape '\(text)' must look like 4x4")
        }
        let pattern = SparsePattern.block(rows: r, columns: c)
        try pattern.validateParameters()
        return pattern
    }

    /// Checks the pattern's own parameters (not yet against a matrix).
    public func validateParameters() throws(KernelError) {
        switch self {
        case .dense, .unstructured:
            return
        case .nOfM(let n, let m):
            guard m >= 1, m <= Self.maxGroupSize else {
                throw .invalidArgument("N:M group size M=\(m) must be between 1 and \(Self.maxGroupSize)")
            }
            guard n >= 1 else { throw .invalidArgument("N:M needs N >= 1, got \(n):\(m)") }
            guard n <= m else { throw .invalidArgument("N:M needs N <= M, got \(n):\(m)") }
        case .block(let r, let c):
            for edge in [r, c] where !Self.supportedBlockEdges.contains(edge) {
                throw .invalidArgument("block edge \(edge) in \(r)x\(c) is unsupported: use one of \(Self.supportedBlockEdges.map(String.init).joined(separator: ", "))")
            }
        }
    }

    /// Sparsity this pattern implies when every allowed slot is used (N:M), else nil.
    public var impliedSparsity: Double? {
        if case .nOfM(let n, let m) = self { return 1 - Double(n) / Double(m) }
        return nil
    }
}
