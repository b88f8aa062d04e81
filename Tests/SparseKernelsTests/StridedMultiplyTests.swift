import Testing
@testable import SparseKernels

/// The multiply on caller-owned strided buffers (what the runtime calls on its arena).
@Suite("Strided multiply", .serialized)
struct StridedMultiplyTests {
    static let sentinel: Float = -12345.5

    /// X (K×N) stored with row stride ldx, the gaps filled with a sentinel.
    static func strided(_ m: Matrix, stride: Int, fill: Float = sentinel) -> [Float] {
        var buffer = [Float](repeating: fill, count: (m.rows - 1) * stride + m.columns)
        for row in 0..<m.rows {
            for column in 0..<m.columns { buffer[row * stride + column] = m[row, column] }
        }
        return buffer
    }

    @Test("Every format and ISA on strided X, Y and residual: the product lands in the rows, the gaps stay untouched")
    func stridedProduct() throws {
        let m = 37, k = 70, n = 19, ldx = 29, ldy = 24, ldr = 33
        let sources: [(WeightFormat, Matrix)] = [
            (.dense, RandomWeights.dense(rows: m, columns: k, seed: 1)),
            (.csr, try RandomWeights.matrix(rows: m, columns: k, pattern: .unstructured, sparsity: 0.7, seed: 2)),
            (.nm(n: 2, m: 4), raggedNM(rows: m, columns: k, n: 2, m: 4, seed: 3)),
            (.bsr(rows: 8, columns: 4), raggedBlocks(rows: m, columns: k, blockRows: 8, blockColumns: 4, seed: 4)),
        ]
        let x = RandomWeights.dense(rows: k, columns: n, seed: 5)
        let bias = RandomWeights.dense(rows: 1, columns: m, seed: 6).values
        let residual = RandomWeights.dense(rows: m, columns: n, seed: 7)
        let xBuffer = Self.strided(x, stride: ldx)
        let residualBuffer = Self.strided(residual, stride: ldr)
        for (format, w) in sources {
            let prepared = try prepareWeights(w, as: format)
            for options in try allExecutionOptions() {
                for activation in Activation.allCases {
                    var yBuffer = [Float](repeating: Self.sentinel, count: (m - 1) * ldy + n + 5)
                    try xBuffer.withUnsafeBufferPointer { xb in
                        try bias.withUnsafeBufferPointer { bb in
                            try residualBuffer.withUnsafeBufferPointer { rb in
                                try yBuffer.withUnsafeMutableBufferPointer { yb in
                                    try prepared.multiply(x: xb, ldx: ldx, columns: n, into: yb, ldy: ldy,
                                                          epilogue: BufferEpilogue(bias: bb, residual: rb, residualStride: ldr,
                                                                                   activation: activation),
                                                          options: options)
                                }
                            }
                        }
                    }
                    var y = Matrix(zeros: m, n)
                    for row in 0..<m { for column in 0..<n { y[row, column] = yBuffer[row * ldy + column] } }
                    let epilogue = Epilogue(bias: bias, residual: residual, activation: activation)
                    try expectMatchesReference(y, w: w, x: x, epilogue: epilogue, "\(format) \(options.isa) t=\(options.threads) \(activation)")
                    let gaps = yBuffer.indices.filter { $0 % ldy >= n || $0 >= (m - 1) * ldy + n }
                    #expect(gaps.allSatisfy { yBuffer[$0] == Self.sentinel }, "\(format) \(options.isa): wrote between rows")
                }
            }
        }
    }

    @Test("Every kernel the registry offers for a weight runs on strided buffers and agrees")
    func candidates() throws {
        let w = raggedBlocks(rows: 21, columns: 45, blockRows: 4, blockColumns: 8, seed: 9)
        let prepared = try BSRWeights(w, blockRows: 4, blockColumns: 8)
        let x = RandomWeights.dense(rows: 45, columns: 3, seed: 10)
        let options = try ExecutionOptions(isa: Machine.bestISA, threads: 2)
        let kernels = KernelRegistry.candidates(for: prepared, columns: 3, options: options)
        #expect(kernels.count >= 2)
        for kernel in kernels {
            let y = try prepared.multiply(x, kernel: kernel, options: try ExecutionOptions(isa: kernel.isa, threads: 2))
            try expectMatchesReference(y, w: w, x: x, epilogue: .none, kernel.name)
        }
    }

    /// Calls the strided multiply on a 4x8 dense W with the given buffers and arguments.
    func attempt(x: [Float], ldx: Int = 3, n: Int = 3, y yCount: Int = 12, ldy: Int = 3,
                 bias: [Float]? = nil, residual: [Float]? = nil, residualStride: Int = 3,
                 kernel: KernelInfo? = nil, options: ExecutionOptions? = nil) throws {
        let w = try DenseWeights(RandomWeights.dense(rows: 4, columns: 8, seed: 1))
        var y = [Float](repeating: 0, count: yCount)
        let options = try options ?? ExecutionOptions(isa: .scalar, threads: 1)
        try x.withUnsafeBufferPointer { xb in
            try y.withUnsafeMutableBufferPointer { yb in
                let biasCopy = bias ?? []
                try biasCopy.withUnsafeBufferPointer { bb in
                    let residualCopy = residual ?? []
                    try residualCopy.withUnsafeBufferPointer { rb in
                        try w.multiply(x: xb, ldx: ldx, columns: n, into: yb, ldy: ldy,
                                       epilogue: BufferEpilogue(bias: bias == nil ? nil : bb, residual: residual == nil ? nil : rb,
                                                                residualStride: residualStride),
                                       kernel: kernel, options: options)
                    }
                }
            }
        }
    }

    @Test("Bad buffers, strides and kernels are refused before C runs")
    func refusals() throws {
        let x = [Float](repeating: 1, count: 24)
        try attempt(x: x) // the good call
        func expectRefused(_ message: String, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                try body()
                Issue.record("\(message): accepted", sourceLocation: sourceLocation)
            } catch let error as KernelError {
                #expect(error.description.contains(message), "\(error)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
        }
        expectRefused("X buffer holds 23") { try attempt(x: Array(x.dropLast())) }
        expectRefused("Y buffer holds 11") { try attempt(x: x, y: 11) }
        expectRefused("ldx 2 is less") { try attempt(x: x, ldx: 2) }
        expectRefused("ldy 2 is less") { try attempt(x: x, ldy: 2) }
        expectRefused("at least one column") { try attempt(x: x, n: 0) }
        expectRefused("X buffer holds 24") { try attempt(x: x, ldx: 4) } // 7·4 + 3 = 31 floats
        expectRefused("bias has 3") { try attempt(x: x, bias: [1, 2, 3]) }
        expectRefused("residual buffer holds 11") { try attempt(x: x, residual: [Float](repeating: 0, count: 11)) }
        expectRefused("residual stride 2") { try attempt(x: x, residual: [Float](repeating: 0, count: 12), residualStride: 2) }
        expectRefused("overflow") { try attempt(x: x, ldx: Int.max / 2) }
        var nan = x
        nan[7] = .nan
        expectRefused("input X at row 2, column 1 is nan") { try attempt(x: nan) }
        nan[7] = 1
        nan[6 + 3 * 2] = .infinity // row 4, column 0
        expectRefused("row 4, column 0 is inf") { try attempt(x: nan) }
        expectRefused("bias at row 0, column 2 is nan") { try attempt(x: x, bias: [0, 0, .nan, 0]) }
        let gemv = try #require(KernelRegistry.kernels(of: .dense).first { $0.maxColumns == 1 })
        expectRefused("computes N in 1..1") { try attempt(x: x, kernel: gemv) }
        let csr = try #require(KernelRegistry.kernels(of: .csr).first)
        expectRefused("runs csr weights") { try attempt(x: x, kernel: csr) }
        if let wide = KernelRegistry.kernels(of: .dense).first(where: { $0.isa > .scalar && $0.isa <= Machine.bestISA && $0.accepts(columns: 3) }) {
            expectRefused("the options allow up to scalar") { try attempt(x: x, kernel: wide) }
        }
    }

    @Test("Y overlapping X, bias or residual is refused")
    func overlap() throws {
        let w = try DenseWeights(RandomWeights.dense(rows: 4, columns: 4, seed: 1))
        let options = try ExecutionOptions(isa: .scalar, threads: 1)
        var arena = [Float](repeating: 1, count: 64)
        try arena.withUnsafeMutableBufferPointer { all in
            let base = all.baseAddress!
            let x = UnsafeBufferPointer(start: base, count: 16)
            let yOverlapping = UnsafeMutableBufferPointer(start: base + 12, count: 16)
            let yApart = UnsafeMutableBufferPointer(start: base + 16, count: 16)
            #expect(throws: KernelError.self) {
                try w.multiply(x: x, ldx: 4, columns: 4, into: yOverlapping, ldy: 4, options: options)
            }
            try w.multiply(x: x, ldx: 4, columns: 4, into: yApart, ldy: 4, options: options)
            let residual = UnsafeBufferPointer(start: base + 20, count: 16)
            #expect(throws: KernelError.self) {
                try w.multiply(x: x, ldx: 4, columns: 4, into: yApart, ldy: 4,
                               epilogue: BufferEpilogue(residual: residual, residualStride: 4), options: options)
            }
        }
    }
}
