internal import CSparseKernels

/// A weight matrix W (M×K) prepared once in one storage format and multiplied many
/// times: `Y = epilogue(W · X)` with X of K×N. The four formats are the subclasses
/// `DenseWeights`, `CSRWeights`, `NMWeights` and `BSRWeights`; all share this one
/// multiply API, which validates every argument before any C code runs.
///
/// The C state is owned here and freed in `deinit`. Instances are immutable after
/// creation, so they may be shared across threads.
public class WeightMatrix: @unchecked Sendable {
    /// M: output features (rows of W, rows of Y).
    public let rows: Int
    /// K: input features (columns of W, rows of X).
    public let columns: Int
    /// The storage format (which kernel family runs it).
    public let format: WeightFormat

    init(rows: Int, columns: Int, format: WeightFormat) {
        self.rows = rows
        self.columns = columns
        self.format = format
    }

    /// Stored nonzeros (for BSR: every entry of every stored block; for N:M: N per group).
    public var storedValues: Int { fatalError("subclass") }
    /// Bytes of the prepared format (values, indices, pointers).
    public var storageBytes: Int { fatalError("subclass") }
    /// The matrix back in dense form (exact round trip of the stored values).
    public func toDense() -> Matrix { fatalError("subclass") }

    /// The prepared C matrix (an sk_dense, sk_csr, sk_nm or sk_bsr), for the registry.
    var cHandle: UnsafeRawPointer { fatalError("subclass") }

    /// The format's C kernel; arguments already validated.
    func runKernel(columns n: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                   epilogue: UnsafePointer<sk_epilogue>, isa: sk_isa, threads: Int32) {
        fatalError("subclass")
    }

    /// `epilogue(W · X)`, a new M×N matrix.
    public func multiply(_ x: Matrix, epilogue: Epilogue = .none, options: ExecutionOptions) throws(KernelError) -> Matrix {
        var y = Matrix(zeros: rows, x.columns)
        try multiply(x, into: &y, epilogue: epilogue, options: options)
        return y
    }

    /// `epilogue(W · X)` written into `y`, which must already be M×N.
    public func multiply(_ x: Matrix, into y: inout Matrix, epilogue: Epilogue = .none,
                         options: ExecutionOptions) throws(KernelError) {
        guard x.rows == columns else {
            throw .shapeMismatch("W is \(rows)x\(columns) but X has \(x.rows) rows (needs \(columns))")
        }
        guard x.columns >= 1 else { throw .shapeMismatch("X has no columns") }
        guard y.rows == rows, y.columns == x.columns else {
            throw .shapeMismatch("Y is \(y.rows)x\(y.columns), expected \(rows)x\(x.columns)")
        }
        guard x.isFinite else { throw .nonFiniteValue("input X contains NaN or infinity") }
        try epilogue.validate(outputRows: rows, outputColumns: x.columns)
        multiplyUnchecked(x, into: &y, epilogue: epilogue, options: options)
    }

    /// The kernel call alone, with the dispatch's plan (tuned when `options` carry a tuning).
    func multiplyUnchecked(_ x: Matrix, into y: inout Matrix, epilogue: Epilogue, options: ExecutionOptions) {
        if let plan = KernelRegistry.plan(for: self, columns: x.columns, options: options) {
            multiplyUnchecked(x, into: &y, epilogue: epilogue, plan: plan, options: options)
            return
        }
        let n = x.columns
        epilogue.withCEpilogue { cEpilogue in
            x.values.withUnsafeBufferPointer { xBuffer in
                y.values.withUnsafeMutableBufferPointer { yBuffer in
                    runKernel(columns: n, x: xBuffer.baseAddress!, ldx: n, y: yBuffer.baseAddress!, ldy: n,
                              epilogue: cEpilogue, isa: options.isa.cValue, threads: Int32(options.threads))
                }
            }
        }
    }

    /// One kernel with one blocking, no checks: what benchmarks and the tuner time after
    /// validating (and planning) once.
    func multiplyUnchecked(_ x: Matrix, into y: inout Matrix, epilogue: Epilogue, plan: KernelPlan,
                           options: ExecutionOptions) {
        let n = x.columns
        var params = plan.blocking.cValue
        epilogue.withCEpilogue { cEpilogue in
            x.values.withUnsafeBufferPointer { xBuffer in
                y.values.withUnsafeMutableBufferPointer { yBuffer in
                    _ = sk_kernel_run(Int32(plan.kernel.index), cHandle, Int64(n), xBuffer.baseAddress, Int64(n),
                                      yBuffer.baseAddress, Int64(n), cEpilogue, &params, Int32(options.threads))
                }
            }
        }
    }

    /// Checks a dense source matrix every format needs: non-empty and finite.
    static func validateSource(_ w: Matrix, format: String) throws(KernelError) {
        guard w.rows >= 1, w.columns >= 1 else {
            throw .shapeMismatch("\(format) weights must be at least 1x1, got \(w.rows)x\(w.columns)")
        }
        if let index = w.values.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteValue("weight at row \(index / w.columns), column \(index % w.columns) is \(w.values[index])")
        }
    }

    /// Runs a C create function on the dense matrix; nil from C means out of memory.
    static func create(_ w: Matrix, _ body: (UnsafePointer<Float>) -> OpaquePointer?) throws(KernelError) -> OpaquePointer {
        let handle = w.values.withUnsafeBufferPointer { body($0.baseAddress!) }
        guard let handle else {
            throw .outOfMemory("could not allocate the prepared \(w.rows)x\(w.columns) weights")
        }
        return handle
    }

    func denseCopy(_ fill: (UnsafeMutablePointer<Float>) -> Void) -> Matrix {
        var m = Matrix(zeros: rows, columns)
        m.values.withUnsafeMutableBufferPointer { fill($0.baseAddress!) }
        return m
    }
}
