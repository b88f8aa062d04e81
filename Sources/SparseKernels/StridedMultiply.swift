internal import CSparseKernels

/// The epilogue of a multiply on raw buffers: like `Epilogue`, but bias and residual are
/// caller-owned buffers (an inference runtime's arena) read in place, the residual with a
/// row stride of its own. The pointers must stay valid for the call only.
public struct BufferEpilogue {
    /// At least M values, one per output row; or nil.
    public var bias: UnsafeBufferPointer<Float>?
    /// M rows of N values, `residualStride` floats apart, added element-wise; or nil.
    public var residual: UnsafeBufferPointer<Float>?
    public var residualStride: Int
    /// Applied last, after bias and residual.
    public var activation: Activation

    public init(bias: UnsafeBufferPointer<Float>? = nil, residual: UnsafeBufferPointer<Float>? = nil,
                residualStride: Int = 0, activation: Activation = .none) {
        self.bias = bias
        self.residual = residual
        self.residualStride = residualStride
        self.activation = activation
    }

    public static var none: BufferEpilogue { BufferEpilogue() }
}

/// Floats a row-major matrix of `rows` rows of `columns` values, `stride` floats apart,
/// spans from its first element: (rows - 1)·stride + columns; nil on overflow.
func stridedExtent(rows: Int, columns: Int, stride: Int) -> Int? {
    guard rows >= 1, columns >= 1 else { return 0 }
    let (span, overflow) = (rows - 1).multipliedReportingOverflow(by: stride)
    guard !overflow else { return nil }
    let (extent, overflow2) = span.addingReportingOverflow(columns)
    return overflow2 ? nil : extent
}

extension WeightMatrix {
    /// `Y = epilogue(W · X)` on strided buffers, without copying into a `Matrix`: X is K
    /// rows of `columns` (N) values `ldx` floats apart, Y is M rows of N values `ldy` floats
    /// apart; what lies between the rows is neither read nor written.
    ///
    /// Validated before any C code runs (a refused call changes nothing):
    /// - N >= 1, `ldx` >= N, `ldy` >= N, `residualStride` >= N;
    /// - each buffer holds what its shape and stride span, (rows - 1)·stride + N floats, and
    ///   the bias at least M;
    /// - Y overlaps none of X, bias, residual (address ranges; an arena whose X and Y rows
    ///   interleave is refused too);
    /// - `kernel`, when given, is of this matrix's family, accepts N, and its ISA is at
    ///   most `options.isa`; nil runs the registry's default choice;
    /// - with `checkFinite` (the default), every X, bias and residual value that the call
    ///   reads is finite: O(K·N), a 1/M fraction of the multiply's work. A runtime that
    ///   feeds its own finite outputs back in may turn it off.
    public func multiply(x: UnsafeBufferPointer<Float>, ldx: Int, columns n: Int,
                         into y: UnsafeMutableBufferPointer<Float>, ldy: Int,
                         epilogue: BufferEpilogue = .none, kernel: KernelInfo? = nil,
                         blocking: KernelBlocking = .defaults, checkFinite: Bool = true,
                         options: ExecutionOptions) throws(KernelError) {
        guard n >= 1 else { throw .shapeMismatch("X must have at least one column, got N=\(n)") }
        guard ldx >= n else { throw .invalidArgument("ldx \(ldx) is less than the row length N=\(n)") }
        guard ldy >= n else { throw .invalidArgument("ldy \(ldy) is less than the row length N=\(n)") }
        let xSpan = try span(of: x.baseAddress, count: x.count, rows: columns, columns: n, stride: ldx, name: "X")
        let ySpan = try span(of: y.baseAddress, count: y.count, rows: rows, columns: n, stride: ldy, name: "Y")
        try checkDisjoint(ySpan, xSpan, "X")
        if let bias = epilogue.bias {
            guard bias.count >= rows, let base = bias.baseAddress else {
                throw .shapeMismatch("bias has \(bias.count) values, the output has \(rows) rows")
            }
            try checkDisjoint(ySpan, Span(start: UInt(bitPattern: base), floats: rows), "bias")
        }
        if let residual = epilogue.residual {
            guard epilogue.residualStride >= n else {
                throw .invalidArgument("residual stride \(epilogue.residualStride) is less than the row length N=\(n)")
            }
            let residualSpan = try span(of: residual.baseAddress, count: residual.count, rows: rows, columns: n,
                                        stride: epilogue.residualStride, name: "residual")
            try checkDisjoint(ySpan, residualSpan, "residual")
        }
        let chosen = try resolveKernel(kernel, columns: n, options: options)
        try blocking.validate()
        // No kernel named: the dispatch's plan, with the tuned blocking unless one is given.
        var blocking = blocking
        if kernel == nil, blocking == .defaults, let plan = KernelRegistry.plan(for: self, columns: n, options: options) {
            blocking = plan.blocking
        }
        if checkFinite {
            try checkFiniteRows(x, rows: columns, columns: n, stride: ldx, name: "input X")
            if let bias = epilogue.bias { try checkFiniteRows(bias, rows: 1, columns: rows, stride: rows, name: "bias") }
            if let residual = epilogue.residual {
                try checkFiniteRows(residual, rows: rows, columns: n, stride: epilogue.residualStride, name: "residual")
            }
        }
        var cEpilogue = sk_epilogue(bias: epilogue.bias?.baseAddress, residual: epilogue.residual?.baseAddress,
                                    ld_residual: Int64(epilogue.residualStride), activation: epilogue.activation.cValue)
        var params = blocking.cValue
        let status = sk_kernel_run(Int32(chosen.index), cHandle, Int64(n), x.baseAddress, Int64(ldx), y.baseAddress,
                                   Int64(ldy), &cEpilogue, &params, Int32(options.threads))
        guard status == 0 else { throw .invalidArgument("kernel \(chosen.name) refused the call") }
    }

    /// `epilogue(W · X)` with a chosen kernel and blocking (tests, benchmarks, tuning).
    public func multiply(_ x: Matrix, epilogue: Epilogue = .none, kernel: KernelInfo?,
                         blocking: KernelBlocking = .defaults, options: ExecutionOptions) throws(KernelError) -> Matrix {
        guard x.rows == columns else {
            throw .shapeMismatch("W is \(rows)x\(columns) but X has \(x.rows) rows (needs \(columns))")
        }
        try epilogue.validate(outputRows: rows, outputColumns: x.columns)
        var y = Matrix(zeros: rows, x.columns)
        try x.values.withUnsafeBufferPointer { (xBuffer) throws(KernelError) in
            try y.values.withUnsafeMutableBufferPointer { (yBuffer) throws(KernelError) in
                try withBufferEpilogue(epilogue, columns: x.columns) { (bufferEpilogue) throws(KernelError) in
                    try multiply(x: xBuffer, ldx: x.columns, columns: x.columns, into: yBuffer, ldy: x.columns,
                                 epilogue: bufferEpilogue, kernel: kernel, blocking: blocking, options: options)
                }
            }
        }
        return y
    }

    /// The kernel a call runs: `requested` after checking it fits, or the default choice.
    func resolveKernel(_ requested: KernelInfo?, columns n: Int, options: ExecutionOptions) throws(KernelError) -> KernelInfo {
        guard let requested else {
            guard let chosen = KernelRegistry.defaultKernel(for: self, columns: n, options: options) else {
                throw .invalidArgument("no kernel runs \(format) weights at N=\(n)")
            }
            return chosen
        }
        guard requested.family == format.family else {
            throw .invalidArgument("kernel \(requested.name) runs \(requested.family.rawValue) weights, not \(format)")
        }
        guard requested.accepts(columns: n) else {
            throw .invalidArgument("kernel \(requested.name) computes N in \(requested.columnRange), not N=\(n)")
        }
        guard requested.isa <= options.isa else {
            throw .invalidArgument("kernel \(requested.name) needs \(requested.isa), the options allow up to \(options.isa)")
        }
        return requested
    }

    /// A buffer's used address range, after checking it holds its strided shape.
    private func span(of base: UnsafePointer<Float>?, count: Int, rows: Int, columns: Int, stride: Int,
                      name: String) throws(KernelError) -> Span {
        guard let extent = stridedExtent(rows: rows, columns: columns, stride: stride) else {
            throw .invalidArgument("\(name): \(rows) rows \(stride) floats apart overflow the address space")
        }
        guard count >= extent, let base else {
            throw .shapeMismatch("\(name) buffer holds \(count) floats; \(rows) rows of \(columns), \(stride) apart, need \(extent)")
        }
        return Span(start: UInt(bitPattern: base), floats: extent)
    }

    private func span(of base: UnsafeMutablePointer<Float>?, count: Int, rows: Int, columns: Int, stride: Int,
                      name: String) throws(KernelError) -> Span {
        try span(of: base.map { UnsafePointer($0) }, count: count, rows: rows, columns: columns, stride: stride, name: name)
    }

    private func checkDisjoint(_ output: Span, _ input: Span, _ name: String) throws(KernelError) {
        if output.overlaps(input) { throw .invalidArgument("the output Y overlaps \(name): the kernels need them apart") }
    }

    private func checkFiniteRows(_ buffer: UnsafeBufferPointer<Float>, rows: Int, columns: Int, stride: Int,
                                 name: String) throws(KernelError) {
        for row in 0..<rows {
            let start = row * stride
            for column in 0..<columns where !buffer[start + column].isFinite {
                throw .nonFiniteValue("\(name) at row \(row), column \(column) is \(buffer[start + column])")
            }
        }
    }
}

/// A byte range in memory.
struct Span {
    let start: UInt
    let end: UInt
    init(start: UInt, floats: Int) {
        self.start = start
        end = start &+ UInt(floats) &* UInt(MemoryLayout<Float>.size)
    }
    func overlaps(_ other: Span) -> Bool { start < other.end && other.start < end && start < end && other.start < other.end }
}

/// Calls `body` with a `BufferEpilogue` viewing `epilogue`'s arrays.
func withBufferEpilogue<R>(_ epilogue: Epilogue, columns: Int,
                           _ body: (BufferEpilogue) throws(KernelError) -> R) throws(KernelError) -> R {
    func withOptional<T>(_ array: [Float]?, _ inner: (UnsafeBufferPointer<Float>?) throws(KernelError) -> T) throws(KernelError) -> T {
        guard let array else { return try inner(nil) }
        return try array.withUnsafeBufferPointer { (buffer) throws(KernelError) in try inner(buffer) }
    }
    return try withOptional(epilogue.bias) { (bias) throws(KernelError) in
        try withOptional(epilogue.residual?.values) { (residual) throws(KernelError) in
            try body(BufferEpilogue(bias: bias, residual: residual, residualStride: epilogue.residual?.columns ?? columns,
                                    activation: epilogue.activation))
        }
    }
}
