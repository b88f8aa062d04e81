internal import CSparseKernels
import SparseKernels

/// The kernel families a weight layer can run on.
public enum KernelFamily: String, Sendable, Hashable, CaseIterable, Codable {
    case dense, csr, nm, bsr

    public init(parsing text: String) throws {
        guard let family = KernelFamily(rawValue: text.lowercased()) else {
            throw RuntimeError.invalidArgument("kernel family '\(text)' is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = family
    }
}

/// A storage format with its parameters: what a layer's kernel choice names.
public enum KernelFormat: Hashable, Sendable, CustomStringConvertible {
    case dense
    case csr
    case nm(n: Int, m: Int)
    case bsr(rows: Int, columns: Int)

    public var family: KernelFamily {
        switch self {
        case .dense: .dense
        case .csr: .csr
        case .nm: .nm
        case .bsr: .bsr
        }
    }

    /// "dense", "csr", "nm2:4", "bsr16x16": short, and parseable back (plan cache).
    public var description: String {
        switch self {
        case .dense: "dense"
        case .csr: "csr"
        case .nm(let n, let m): "nm\(n):\(m)"
        case .bsr(let r, let c): "bsr\(r)x\(c)"
        }
    }

    /// Parses `description`; nil for anything else (a corrupt cache entry, say).
    public init?(parsing text: String) {
        func pair(_ body: Substring, _ separator: Character) -> (Int, Int)? {
            let parts = body.split(separator: separator, omittingEmptySubsequences: false)
            guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]) else { return nil }
            return (a, b)
        }
        switch text {
        case "dense": self = .dense
        case "csr": self = .csr
        case _ where text.hasPrefix("nm"):
            guard let (n, m) = pair(text.dropFirst(2), ":"), n >= 1, n <= m, m <= SparsePattern.maxGroupSize else { return nil }
            self = .nm(n: n, m: m)
        case _ where text.hasPrefix("bsr"):
            guard let (r, c) = pair(text.dropFirst(3), "x"), SparsePattern.supportedBlockEdges.contains(r),
                  SparsePattern.supportedBlockEdges.contains(c) else { return nil }
            self = .bsr(rows: r, columns: c)
        default: return nil
        }
    }

    /// True when this format can hold the matrix described by `structure` exactly.
    func canHold(_ structure: WeightStructure) -> Bool {
        switch self {
        case .dense: true
        case .csr: structure.columns <= CSRWeights.maxColumns
        case .nm(let n, let m):
            structure.columns % m == 0 && m <= SparsePattern.maxGroupSize && n < m
                && (structure.nOfM.map { $0.m == m && $0.n <= n } ?? false)
        case .bsr(let r, let c): structure.rows % r == 0 && structure.columns % c == 0
        }
    }
}

/// The one place the runtime calls the weight kernels: a weight matrix prepared in one
/// format, multiplied on strided activation buffers with the fused epilogue.
///
/// Today it calls the C kernels of `sparse_kernels.h` directly (their multiply already
/// takes leading dimensions, so X and Y stay in the plan's arena with no copy into a
/// `Matrix`). When the kernel registry of the `kernels` branch lands, this file is the
/// only one to switch. Validation happens here, in Swift, before any C call.
final class PreparedWeights: @unchecked Sendable {
    let format: KernelFormat
    let rows: Int
    let columns: Int
    let storageBytes: Int
    private let handle: OpaquePointer

    /// Activations the kernels' epilogue applies itself; the others run as a separate
    /// in-place pass after the product (until the kernels' epilogue gains them).
    static let fusedActivations: Set<Activation> = [.none, .relu]

    /// Prepares `weights` (rows x columns, row-major, finite) in `format`, which must be
    /// able to hold them (`KernelFormat.canHold`).
    init(_ weights: UnsafeBufferPointer<Float>, rows: Int, columns: Int, format: KernelFormat,
         structure: WeightStructure) throws {
        guard rows >= 1, columns >= 1, weights.count == rows * columns, let base = weights.baseAddress else {
            throw RuntimeError.invalidInput("a \(rows)x\(columns) weight matrix needs \(rows * columns) values, got \(weights.count)")
        }
        guard format.canHold(structure) else {
            throw RuntimeError.invalidArgument("format \(format) cannot hold this \(rows)x\(columns) weight matrix")
        }
        let m = Int64(rows), k = Int64(columns)
        var created: OpaquePointer?
        var bytes = 0
        switch format {
        case .dense:
            created = sk_dense_create(m, k, base, k)
            if let created { bytes = Int(sk_dense_bytes(created)) }
        case .csr:
            created = sk_csr_create(m, k, base, k)
            if let created { bytes = Int(sk_csr_bytes(created)) }
        case .nm(let n, let groupSize):
            created = sk_nm_create(m, k, Int32(n), Int32(groupSize), base, k)
            if let created { bytes = Int(sk_nm_bytes(created)) }
        case .bsr(let r, let c):
            created = sk_bsr_create(m, k, Int32(r), Int32(c), base, k)
            if let created { bytes = Int(sk_bsr_bytes(created)) }
        }
        guard let created else {
            throw RuntimeError.memoryLimit("could not allocate the \(format) form of a \(rows)x\(columns) weight matrix")
        }
        self.handle = created
        self.format = format
        self.rows = rows
        self.columns = columns
        self.storageBytes = bytes
    }

    deinit {
        switch format {
        case .dense: sk_dense_destroy(handle)
        case .csr: sk_csr_destroy(handle)
        case .nm: sk_nm_destroy(handle)
        case .bsr: sk_bsr_destroy(handle)
        }
    }

    /// `Y = act(W·X + bias + residual)` on `n` columns; X is `columns x n` (row stride
    /// `ldx`), Y and the residual `rows x n`. The activation must be one of
    /// `fusedActivations` (the plan builder guarantees it).
    func multiply(n: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                  bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, ldResidual: Int,
                  activation: Activation, isa: ISA, threads: Int) {
        precondition(Self.fusedActivations.contains(activation), "activation \(activation) is not fused by the kernels")
        var epilogue = sk_epilogue(bias: bias, residual: residual, ld_residual: Int64(ldResidual),
                                   relu: activation == .relu ? 1 : 0)
        let cIsa = isa.runtimeCValue, n64 = Int64(n), t = Int32(threads)
        switch format {
        case .dense: sk_dense_multiply(handle, n64, x, Int64(ldx), y, Int64(ldy), &epilogue, cIsa, t)
        case .csr: sk_csr_multiply(handle, n64, x, Int64(ldx), y, Int64(ldy), &epilogue, cIsa, t)
        case .nm: sk_nm_multiply(handle, n64, x, Int64(ldx), y, Int64(ldy), &epilogue, cIsa, t)
        case .bsr: sk_bsr_multiply(handle, n64, x, Int64(ldx), y, Int64(ldy), &epilogue, cIsa, t)
        }
    }
}
