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
            m <= KernelCapabilities.nmMaxGroupSize && n < m && (structure.nOfM.map { $0.m == m && $0.n <= n } ?? false)
        case .bsr(let r, let c):
            KernelCapabilities.bsrBlockEdges.contains(r) && KernelCapabilities.bsrBlockEdges.contains(c)
        }
    }
}

/// The one place the runtime calls the weight kernels: a weight matrix prepared in one
/// format (SparseKernels' `WeightMatrix`, which validates the weights) with the registry
/// kernel chosen for it, multiplied on strided activation buffers of the plan's arena with
/// the fused epilogue (bias, residual, activation). Per-call checks of SparseKernels'
/// strided multiply stay on (shapes, strides, overlap) except the O(K·N) finiteness
/// scan: the runtime feeds its own finite outputs back in and validates user input once.
final class PreparedWeights: @unchecked Sendable {
    let matrix: WeightMatrix
    let kernel: KernelInfo
    /// The kernel's blocking: the machine's tuned one (`sift kernels tune`), else defaults.
    let blocking: KernelBlocking
    var format: WeightFormat { matrix.format }
    var rows: Int { matrix.rows }
    var columns: Int { matrix.columns }
    var storageBytes: Int { matrix.storageBytes }

    init(_ matrix: WeightMatrix, kernel: KernelInfo, tuning: KernelTuning?) {
        self.matrix = matrix
        self.kernel = kernel
        blocking = tuning?.tuned(kernel)?.blocking ?? .defaults
    }

    /// The blocking as the C kernels take it (0: the kernel's default).
    var blockingCValue: sk_params {
        sk_params(kc: Int64(blocking.kBlock ?? 0), mc: Int64(blocking.mBlock ?? 0), nc: Int64(blocking.nBlock ?? 0),
                  aux: Int64(blocking.auxiliary ?? 0), pf: Int64(blocking.prefetch ?? 0))
    }

    /// Prepares `weights` (rows x columns, row-major) in `format`, which must be able to
    /// hold them (`WeightFormat.canHold`); with a tuning, CSR takes its tuned K block.
    static func prepare(_ weights: UnsafeBufferPointer<Float>, rows: Int, columns: Int, format: WeightFormat,
                        structure: WeightStructure, options: ExecutionOptions) throws -> WeightMatrix {
        guard rows >= 1, columns >= 1, weights.count == rows * columns else {
            throw RuntimeError.invalidInput("a \(rows)x\(columns) weight matrix needs \(rows * columns) values, got \(weights.count)")
        }
        guard format.canHold(structure) else {
            throw RuntimeError.invalidArgument("format \(format) cannot hold this \(rows)x\(columns) weight matrix")
        }
        do {
            return try prepareWeights(try Matrix(rows: rows, columns: columns, values: Array(weights)), as: format, options: options)
        } catch {
            throw RuntimeError(error)
        }
    }

    /// `Y = act(W·X + bias + residual)` on `n` columns; X is `columns x n` (row stride
    /// `ldx`), Y and the residual `rows x n`.
    func multiply(n: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                  bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, ldResidual: Int,
                  activation: Activation, options: ExecutionOptions) throws {
        let epilogue = BufferEpilogue(bias: bias.map { UnsafeBufferPointer(start: $0, count: rows) },
                                      residual: residual.map { UnsafeBufferPointer(start: $0, count: (rows - 1) * ldResidual + n) },
                                      residualStride: ldResidual, activation: activation)
        do {
            try matrix.multiply(x: UnsafeBufferPointer(start: x, count: (columns - 1) * ldx + n), ldx: ldx, columns: n,
                                into: UnsafeMutableBufferPointer(start: y, count: (rows - 1) * ldy + n), ldy: ldy,
                                epilogue: epilogue, kernel: kernel, blocking: blocking, checkFinite: false, options: options)
        } catch {
            throw RuntimeError(error)
        }
    }
}
