internal import CSparseKernels

/// Dense weights, prepacked for the GEMM microkernel: the baseline every sparse
/// speedup is measured against.
public final class DenseWeights: WeightMatrix, @unchecked Sendable {
    private let handle: OpaquePointer
    private let source: Matrix

    public init(_ w: Matrix) throws(KernelError) {
        try Self.validateSource(w, format: "dense")
        handle = try Self.create(w) { sk_dense_create(Int64(w.rows), Int64(w.columns), $0, Int64(w.columns)) }
        source = w
        super.init(rows: w.rows, columns: w.columns, format: .dense)
    }
    deinit { sk_dense_destroy(handle) }

    override var cHandle: UnsafeRawPointer { UnsafeRawPointer(handle) }

    public override var storedValues: Int { rows * columns }
    public override var storageBytes: Int { Int(sk_dense_bytes(handle)) }
    public override func toDense() -> Matrix { source }
    override func runKernel(columns n: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                            epilogue: UnsafePointer<sk_epilogue>, isa: sk_isa, threads: Int32) {
        sk_dense_multiply(handle, Int64(n), x, Int64(ldx), y, Int64(ldy), epilogue, isa, threads)
    }
}

/// Unstructured sparse weights in a CSR-like format with 16-bit column indices.
public final class CSRWeights: WeightMatrix, @unchecked Sendable {
    /// 16-bit column indices bound K.
    public static let maxColumns = KernelCapabilities.csrMaxReduction
    private let handle: OpaquePointer

    /// Largest K block of the SpMM layout (its per-block counts are 16-bit).
    public static let maxKBlock = 65535

    /// `kBlock` fixes the SpMM's K-block height (rows of X per block, part of the layout);
    /// nil lets the library pick it from the density (96 to 512 rows).
    public init(_ w: Matrix, kBlock: Int? = nil) throws(KernelError) {
        try Self.validateSource(w, format: "CSR")
        guard w.columns <= Self.maxColumns else {
            throw .shapeMismatch("CSR stores 16-bit column indices: K=\(w.columns) exceeds \(Self.maxColumns)")
        }
        if let kBlock, !(1...Self.maxKBlock).contains(kBlock) {
            throw .invalidArgument("CSR K block \(kBlock) must be between 1 and \(Self.maxKBlock)")
        }
        handle = try Self.create(w) {
            sk_csr_create_blocked(Int64(w.rows), Int64(w.columns), $0, Int64(w.columns), Int64(kBlock ?? 0))
        }
        super.init(rows: w.rows, columns: w.columns, format: .csr)
    }
    deinit { sk_csr_destroy(handle) }

    override var cHandle: UnsafeRawPointer { UnsafeRawPointer(handle) }
    /// The SpMM's K-block height (rows of X per block) this matrix was laid out for.
    public var kBlock: Int { Int(sk_csr_kblock(handle)) }

    public override var storedValues: Int { Int(sk_csr_nnz(handle)) }
    public override var storageBytes: Int { Int(sk_csr_bytes(handle)) }
    public override func toDense() -> Matrix {
        denseCopy { sk_csr_to_dense(handle, $0, Int64(columns)) }
    }
    override func runKernel(columns n: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                            epilogue: UnsafePointer<sk_epilogue>, isa: sk_isa, threads: Int32) {
        sk_csr_multiply(handle, Int64(n), x, Int64(ldx), y, Int64(ldy), epilogue, isa, threads)
    }
}

/// N:M structured sparse weights: N values per group of M along K plus bit-packed
/// in-group indices.
public final class NMWeights: WeightMatrix, @unchecked Sendable {
    public let n: Int
    public let m: Int
    private let handle: OpaquePointer

    /// Any K: when M does not divide K the last group of each row is shorter (K % M
    /// weights). Fails with `.patternViolation` naming the first row and group holding
    /// more than N nonzeros.
    public init(_ w: Matrix, n: Int, m: Int) throws(KernelError) {
        try WeightFormat.nm(n: n, m: m).validateParameters()
        try Self.validateSource(w, format: "N:M")
        try Self.checkGroups(w, n: n, m: m)
        handle = try Self.create(w) { sk_nm_create(Int64(w.rows), Int64(w.columns), Int32(n), Int32(m), $0, Int64(w.columns)) }
        self.n = n
        self.m = m
        super.init(rows: w.rows, columns: w.columns, format: .nm(n: n, m: m))
    }
    deinit { sk_nm_destroy(handle) }

    override var cHandle: UnsafeRawPointer { UnsafeRawPointer(handle) }

    /// Groups per row: ceil(K / M), the last one shorter when M does not divide K.
    public var groupsPerRow: Int { (columns + m - 1) / m }

    static func checkGroups(_ w: Matrix, n: Int, m: Int) throws(KernelError) {
        for row in 0..<w.rows {
            for groupStart in stride(from: 0, to: w.columns, by: m) {
                let groupEnd = min(groupStart + m, w.columns)
                let start = row * w.columns
                var count = 0
                for index in (start + groupStart)..<(start + groupEnd) where w.values[index] != 0 { count += 1 }
                if count > n {
                    throw .patternViolation("row \(row), group \(groupStart / m) (columns \(groupStart)..<\(groupEnd)) has \(count) nonzeros; \(n):\(m) allows at most \(n)")
                }
            }
        }
    }

    /// N slots per group, padding included (a short last group still has N slots).
    public override var storedValues: Int { rows * groupsPerRow * n }
    public override var storageBytes: Int { Int(sk_nm_bytes(handle)) }
    public override func toDense() -> Matrix {
        denseCopy { sk_nm_to_dense(handle, $0, Int64(columns)) }
    }
    override func runKernel(columns cols: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                            epilogue: UnsafePointer<sk_epilogue>, isa: sk_isa, threads: Int32) {
        sk_nm_multiply(handle, Int64(cols), x, Int64(ldx), y, Int64(ldy), epilogue, isa, threads)
    }
}

/// Block-sparse weights (BSR): whole r×c blocks stored where any entry is nonzero.
public final class BSRWeights: WeightMatrix, @unchecked Sendable {
    public let blockRows: Int
    public let blockColumns: Int
    private let handle: OpaquePointer

    /// Any M and K: blocks on the bottom and right edges that stick out of W are stored
    /// padded with zeros, and the kernels never read X or write Y beyond W's edges.
    public init(_ w: Matrix, blockRows: Int, blockColumns: Int) throws(KernelError) {
        try WeightFormat.bsr(rows: blockRows, columns: blockColumns).validateParameters()
        try Self.validateSource(w, format: "BSR")
        handle = try Self.create(w) {
            sk_bsr_create(Int64(w.rows), Int64(w.columns), Int32(blockRows), Int32(blockColumns), $0, Int64(w.columns))
        }
        self.blockRows = blockRows
        self.blockColumns = blockColumns
        super.init(rows: w.rows, columns: w.columns, format: .bsr(rows: blockRows, columns: blockColumns))
    }
    deinit { sk_bsr_destroy(handle) }

    override var cHandle: UnsafeRawPointer { UnsafeRawPointer(handle) }

    public var nonzeroBlocks: Int { Int(sk_bsr_nonzero_blocks(handle)) }
    /// Every entry of every stored block, ragged edge blocks counted whole (as stored).
    public override var storedValues: Int { nonzeroBlocks * blockRows * blockColumns }
    public override var storageBytes: Int { Int(sk_bsr_bytes(handle)) }
    public override func toDense() -> Matrix {
        denseCopy { sk_bsr_to_dense(handle, $0, Int64(columns)) }
    }
    override func runKernel(columns n: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                            epilogue: UnsafePointer<sk_epilogue>, isa: sk_isa, threads: Int32) {
        sk_bsr_multiply(handle, Int64(n), x, Int64(ldx), y, Int64(ldy), epilogue, isa, threads)
    }
}

/// Prepares `w` in `format`; the one entry point the CLI and the runtime use.
public func prepareWeights(_ w: Matrix, as format: WeightFormat) throws(KernelError) -> WeightMatrix {
    switch format {
    case .dense: try DenseWeights(w)
    case .csr: try CSRWeights(w)
    case .nm(let n, let m): try NMWeights(w, n: n, m: m)
    case .bsr(let r, let c): try BSRWeights(w, blockRows: r, blockColumns: c)
    }
}

/// `prepareWeights(_:as:)` with what `options` carry for preparing: the tuned CSR K block
/// for the matrix's density, when the options have a tuning.
public func prepareWeights(_ w: Matrix, as format: WeightFormat, options: ExecutionOptions) throws(KernelError) -> WeightMatrix {
    if case .csr = format, let blocks = options.tuning?.csr, w.rows >= 1, w.columns >= 1 {
        let nonzeros = w.values.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        return try CSRWeights(w, kBlock: blocks.kBlock(density: Double(nonzeros) / Double(w.values.count)))
    }
    return try prepareWeights(w, as: format)
}

/// The double-accumulating reference product (the test oracle), with the per-element
/// error scale `sum |w||x|` that tolerances are built from.
public func referenceMultiply(_ w: Matrix, _ x: Matrix, epilogue: Epilogue = .none) throws(KernelError) -> (result: Matrix, magnitude: Matrix) {
    guard w.columns == x.rows else {
        throw .shapeMismatch("W is \(w.rows)x\(w.columns) but X has \(x.rows) rows")
    }
    try epilogue.validate(outputRows: w.rows, outputColumns: x.columns)
    var y = Matrix(zeros: w.rows, x.columns)
    var magnitude = Matrix(zeros: w.rows, x.columns)
    epilogue.withCEpilogue { ep in
        w.values.withUnsafeBufferPointer { wb in
            x.values.withUnsafeBufferPointer { xb in
                y.values.withUnsafeMutableBufferPointer { yb in
                    magnitude.values.withUnsafeMutableBufferPointer { mb in
                        sk_ref_gemm(Int64(w.rows), Int64(x.columns), Int64(w.columns), wb.baseAddress, Int64(w.columns),
                                    xb.baseAddress, Int64(x.columns), yb.baseAddress, Int64(x.columns), ep, mb.baseAddress)
                    }
                }
            }
        }
    }
    return (y, magnitude)
}
