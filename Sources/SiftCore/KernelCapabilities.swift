/// The CPU kernel families of `SparseKernels`, one per weight storage format.
public enum KernelFamily: String, CaseIterable, Hashable, Sendable {
    /// Every weight stored; runs any mask (zeros are multiplied like any value).
    case dense
    /// Compressed sparse rows with 16-bit column indices; runs any mask.
    case csr
    /// N values per group of M along K with in-group indices; runs N:M masks.
    case nm
    /// Block-sparse rows: whole R×C blocks; runs block masks.
    case bsr
}

/// Which kernel family can run which pattern: a pure-Swift mirror of what the C kernels
/// support, so the model layer (transforms, simulator) can say when a pattern has no
/// specialised CPU kernel without linking the kernels. The C kernel registry is the
/// authority; a test in `SparseKernels` keeps the two in agreement.
///
/// A pattern no specialised kernel runs (2:32, 64x64) is still a valid pattern: masks,
/// accounting and the simulator handle it, and on the CPU it runs as CSR or dense. The
/// transforms accept it and say so in their notes.
public enum KernelCapabilities {
    /// Largest group size M of the N:M kernels (their in-group indices have at most 4 bits).
    public static let nmMaxGroupSize = 16
    /// Block edges (rows and columns) the BSR kernels have register tiles for.
    public static let bsrBlockEdges = [1, 2, 4, 8, 16, 32]
    /// Largest reduction length K of the CSR kernels (16-bit column indices).
    public static let csrMaxReduction = 65536

    /// The family made for this pattern: csr for unstructured, nm for N:M, bsr for blocks.
    public static func specialisedFamily(for pattern: SparsityPattern) -> KernelFamily {
        switch pattern {
        case .unstructured: .csr
        case .nOfM: .nm
        case .block: .bsr
        }
    }

    /// Why the pattern's specialised family cannot run it, or nil when it can.
    public static func limitation(of pattern: SparsityPattern) -> String? {
        switch pattern {
        case .unstructured:
            return nil
        case .nOfM(let n, let m):
            return m <= nmMaxGroupSize ? nil
                : "no N:M kernel runs \(n):\(m): the N:M kernels need a group size M between 1 and \(nmMaxGroupSize)"
        case .block(let r, let c):
            let bad = [r, c].filter { !bsrBlockEdges.contains($0) }
            return bad.isEmpty ? nil
                : "no BSR kernel runs \(r)x\(c) blocks: block edge \(bad[0]) is unsupported (use one of \(bsrBlockEdges.map(String.init).joined(separator: ", ")))"
        }
    }

    /// Why a family cannot run a `rows × reduction` weight of this pattern, or nil when it can.
    public static func limitation(of family: KernelFamily, pattern: SparsityPattern, rows: Int, reduction: Int) -> String? {
        switch family {
        case .dense:
            return nil
        case .csr:
            return reduction <= csrMaxReduction ? nil
                : "CSR stores 16-bit column indices: K = \(reduction) exceeds \(csrMaxReduction)"
        case .nm, .bsr:
            guard specialisedFamily(for: pattern) == family else {
                return "the \(family.rawValue) kernels do not run \(pattern) weights"
            }
            return limitation(of: pattern)
        }
    }

    /// The families that can run a `rows × reduction` weight of this pattern, specialised
    /// first, dense last.
    public static func families(for pattern: SparsityPattern, rows: Int, reduction: Int) -> [KernelFamily] {
        var order: [KernelFamily] = [specialisedFamily(for: pattern)]
        if order[0] != .csr { order.append(.csr) }
        order.append(.dense)
        return order.filter { limitation(of: $0, pattern: pattern, rows: rows, reduction: reduction) == nil }
    }
}
