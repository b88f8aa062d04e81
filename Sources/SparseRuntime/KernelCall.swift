internal import CSparseKernels
import SparseKernels

extension KernelFamily {
    /// Parses a family name (`--kernel`).
    public init(parsingFamily text: String) throws {
        guard let family = KernelFamily(rawValue: text.lowercased()) else {
            throw RuntimeError.invalidArgument("kernel family '\(text)' is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = family
    }
}

extension WeightFormat {
    /// Parses `description` ("dense", "csr", "nm 2:4", "bsr 16x16") into a format the
    /// kernels can run; nil for anything else (a corrupt plan-cache entry, say).
    public init?(parsing text: String) {
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        switch (words.first, words.count) {
        case ("dense", 1): self = .dense
        case ("csr", 1): self = .csr
        case ("nm", 2):
            guard let format = try? WeightFormat.nm(parsing: String(words[1])), format.description == text else { return nil }
            self = format
        case ("bsr", 2):
            guard let format = try? WeightFormat.bsr(parsing: String(words[1])), format.description == text else { return nil }
            self = format
        default: return nil
        }
    }

    /// True when this format can hold the matrix described by `structure` exactly.
    func canHold(_ structure: WeightStructure) -> Bool {
        switch self {
        case .dense: true
        case .csr: structure.columns <= KernelCapabilities.csrMaxReduction
        case .nm(let n, let m):
            structure.columns % m == 0 && m <= KernelCapabilities.nmMaxGroupSize && n < m
                && (structure.nOfM.map { $0.m == m && $0.n <= n } ?? false)
        case .bsr(let r, let c):
            KernelCapabilities.bsrBlockEdges.contains(r) && KernelCapabilities.bsrBlockEdges.contains(c)
                && structure.rows % r == 0 && structure.columns % c == 0
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
    let format: WeightFormat
    let rows: Int
    let columns: Int
    let storageBytes: Int
    private let handle: OpaquePointer

    /// Activations the kernels' epilogue applies itself; the others run as a separate
    /// in-place pass after the product (until the kernels' epilogue gains them).
    static let fusedActivations: Set<Activation> = [.none, .relu]

    /// Prepares `weights` (rows x columns, row-major, finite) in `format`, which must be
    /// able to hold them (`WeightFormat.canHold`).
    init(_ weights: UnsafeBufferPointer<Float>, rows: Int, columns: Int, format: WeightFormat,
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

    /// The C entry point of this format with the drivers' signature, and the prepared
    /// matrix it takes (for C drivers that call the kernel themselves, per thread).
    var cMultiply: sk_op_multiply_fn {
        switch format {
        case .dense: sk_op_multiply_dense
        case .csr: sk_op_multiply_csr
        case .nm: sk_op_multiply_nm
        case .bsr: sk_op_multiply_bsr
        }
    }
    var cHandle: UnsafeRawPointer { UnsafeRawPointer(handle) }

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
