/// The storage format a weight matrix is prepared in, which picks the kernel family. It is
/// a different concept from the weight's `SparsityPattern` (how its zeros are arranged):
/// a pattern can run in several formats (any mask runs as CSR or dense), and `dense` is a
/// format but not a pattern.
public enum WeightFormat: Hashable, Sendable, CustomStringConvertible {
    /// Every weight stored (the baseline).
    case dense
    /// Compressed sparse rows: any zeros anywhere.
    case csr
    /// At most `n` nonzeros in every group of `m` consecutive weights along K.
    case nm(n: Int, m: Int)
    /// Whole `rows`×`columns` blocks stored where any entry is nonzero.
    case bsr(rows: Int, columns: Int)

    /// The pattern's specialised format: unstructured → csr, N:M → nm, blocks → bsr.
    public init(for pattern: SparsityPattern) {
        switch pattern {
        case .unstructured: self = .csr
        case .nOfM(let n, let m): self = .nm(n: n, m: m)
        case .block(let r, let c): self = .bsr(rows: r, columns: c)
        }
    }

    /// The kernel family that runs this format.
    public var family: KernelFamily {
        switch self {
        case .dense: .dense
        case .csr: .csr
        case .nm: .nm
        case .bsr: .bsr
        }
    }

    /// The pattern this format is specialised for (nil for dense).
    public var pattern: SparsityPattern? {
        switch self {
        case .dense: nil
        case .csr: .unstructured
        case .nm(let n, let m): .nOfM(n: n, m: m)
        case .bsr(let r, let c): .block(rows: r, columns: c)
        }
    }

    /// "dense", "csr", "nm 2:4", "bsr 16x16".
    public var description: String {
        switch self {
        case .dense: "dense"
        case .csr: "csr"
        case .nm(let n, let m): "nm \(n):\(m)"
        case .bsr(let r, let c): "bsr \(r)x\(c)"
        }
    }

    /// Checks the format's own parameters against what the kernels support (not yet a
    /// matrix): the pattern must be valid and a kernel must exist for it.
    public func validateParameters() throws(KernelError) {
        guard let pattern else { return }
        do {
            try pattern.validateParameters()
        } catch {
            throw KernelError(error)
        }
        if let limitation = KernelCapabilities.limitation(of: pattern) { throw .invalidArgument(limitation) }
    }

    /// Parses "2:4" into an N:M format the kernels can run.
    public static func nm(parsing text: String) throws(KernelError) -> WeightFormat {
        let pattern = try parsePattern(text, expecting: "N:M", example: "2:4")
        guard case .nOfM = pattern else { throw .invalidArgument("N:M pattern '\(text)' must look like 2:4") }
        let format = WeightFormat(for: pattern)
        try format.validateParameters()
        return format
    }

    /// Parses "4x4" into a block format the kernels can run.
    public static func bsr(parsing text: String) throws(KernelError) -> WeightFormat {
        let pattern = try parsePattern(text, expecting: "block shape", example: "4x4")
        guard case .block = pattern else { throw .invalidArgument("block shape '\(text)' must look like 4x4") }
        let format = WeightFormat(for: pattern)
        try format.validateParameters()
        return format
    }

    private static func parsePattern(_ text: String, expecting what: String, example: String) throws(KernelError) -> SparsityPattern {
        do {
            return try SparsityPattern(parsing: text)
        } catch {
            throw .invalidArgument("\(what) '\(text)' must look like \(example): \(error.message)")
        }
    }
}
