import Testing
@testable import SparseKernels

/// Bad input gets a clear error from Swift before any C code runs.
@Suite("Input validation")
struct ValidationTests {
    let options = try! ExecutionOptions(isa: .scalar, threads: 1)

    func expectError(_ expected: (KernelError) -> Bool, _ body: () throws -> Void,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected an error", sourceLocation: sourceLocation)
        } catch let error as KernelError {
            #expect(expected(error), "unexpected error \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("Mismatched shapes")
    func shapes() throws {
        let w = try DenseWeights(RandomWeights.dense(rows: 4, columns: 8, seed: 1))
        expectError({ if case .shapeMismatch = $0 { true } else { false } }) {
            _ = try w.multiply(Matrix(zeros: 7, 3), options: options)
        }
        expectError({ if case .shapeMismatch = $0 { true } else { false } }) {
            _ = try w.multiply(Matrix(zeros: 8, 3), epilogue: Epilogue(bias: [1, 2]), options: options)
        }
        expectError({ if case .shapeMismatch = $0 { true } else { false } }) {
            _ = try w.multiply(Matrix(zeros: 8, 3), epilogue: Epilogue(residual: Matrix(zeros: 4, 2)), options: options)
        }
        expectError({ if case .shapeMismatch = $0 { true } else { false } }) { _ = try DenseWeights(Matrix(zeros: 0, 3)) }
    }

    @Test("NaN and infinity in weights, inputs, bias and residual")
    func nonFinite() throws {
        var w = RandomWeights.dense(rows: 4, columns: 8, seed: 1)
        w[2, 5] = .nan
        for format: WeightFormat in [.dense, .csr, .nm(n: 4, m: 4), .bsr(rows: 2, columns: 2)] {
            expectError({ $0 == .nonFiniteValue("weight at row 2, column 5 is nan") }) { _ = try prepareWeights(w, as: format) }
        }
        let good = try DenseWeights(RandomWeights.dense(rows: 4, columns: 8, seed: 1))
        var x = Matrix(zeros: 8, 2)
        x[1, 1] = .infinity
        expectError({ if case .nonFiniteValue = $0 { true } else { false } }) { _ = try good.multiply(x, options: options) }
        expectError({ if case .nonFiniteValue = $0 { true } else { false } }) {
            _ = try good.multiply(Matrix(zeros: 8, 2), epilogue: Epilogue(bias: [0, .nan, 0, 0]), options: options)
        }
    }

    @Test("N:M parameters: N > M, M > 16, N < 1")
    func nmParameters() throws {
        let w = Matrix(zeros: 4, 32)
        for (n, m) in [(3, 2), (1, 17), (0, 4), (2, 32)] {
            expectError({ if case .invalidArgument = $0 { true } else { false } }) { _ = try NMWeights(w, n: n, m: m) }
        }
        expectError({ if case .invalidArgument = $0 { true } else { false } }) { _ = try WeightFormat.nm(parsing: "4:2") }
        expectError({ if case .invalidArgument = $0 { true } else { false } }) { _ = try WeightFormat.nm(parsing: "2-4") }
    }

    @Test("A matrix that is not N:M names the first offending row and group")
    func notNM() throws {
        var w = try RandomWeights.matrix(rows: 6, columns: 16, pattern: .nOfM(n: 2, m: 4), sparsity: 0.5, seed: 2)
        for column in 8..<12 { w[3, column] = 1 }
        expectError({ $0 == .patternViolation("row 3, group 2 (columns 8..<12) has 4 nonzeros; 2:4 allows at most 2") }) {
            _ = try NMWeights(w, n: 2, m: 4)
        }
        // A short last group (K = 10, M = 4: groups of 4, 4, 2) is checked like the others.
        var ragged = Matrix(zeros: 2, 10)
        ragged[1, 8] = 1
        ragged[1, 9] = 1
        #expect(throws: Never.self) { _ = try NMWeights(ragged, n: 2, m: 4) }
        expectError({ $0 == .patternViolation("row 1, group 2 (columns 8..<10) has 2 nonzeros; 1:4 allows at most 1") }) {
            _ = try NMWeights(ragged, n: 1, m: 4)
        }
    }

    @Test("Unsupported block sizes are refused; blocks that do not divide the matrix are not")
    func blocks() throws {
        expectError({ if case .invalidArgument = $0 { true } else { false } }) { _ = try BSRWeights(Matrix(zeros: 6, 6), blockRows: 3, blockColumns: 3) }
        expectError({ if case .invalidArgument = $0 { true } else { false } }) { _ = try WeightFormat.bsr(parsing: "64x64") }
        // Ragged edge blocks: 6x8 and 8x6 with 4x4 blocks hold 2 blocks of 4x4 and 2 clipped ones.
        #expect(try BSRWeights(Matrix(zeros: 6, 8), blockRows: 4, blockColumns: 4).nonzeroBlocks == 0)
        var w = Matrix(zeros: 8, 6)
        w[7, 5] = 1 // in the clipped block at the bottom right
        let prepared = try BSRWeights(w, blockRows: 4, blockColumns: 4)
        #expect(prepared.nonzeroBlocks == 1)
        #expect(prepared.toDense() == w)
    }

    @Test("CSR refuses K beyond its 16-bit column indices")
    func csrWidth() {
        expectError({ if case .shapeMismatch = $0 { true } else { false } }) { _ = try CSRWeights(Matrix(zeros: 1, 65537)) }
    }

    @Test("Sparsity outside [0, 1) and NaN sparsity")
    func sparsityRange() {
        var benchmark = KernelBenchmark(options: options)
        benchmark.sparsities = [0.5, 1.0]
        expectError({ if case .invalidArgument = $0 { true } else { false } }) { try benchmark.validate() }
    }
}

@Suite("Benchmark configuration")
struct BenchmarkConfigurationTests {
    @Test("Shapes parse, and shapes too large or malformed are refused before allocation",
          arguments: ["1x1x1x", "1x4294967296x4294967296", "1x1x10000000000000", "0x4x4", "4x4", "axbxc", "100000x100000x1"])
    func badShapes(text: String) {
        #expect(throws: KernelError.self, "\(text)") { try KernelBenchmark.Shape(parsing: text) }
    }

    @Test("A good shape keeps its dimensions")
    func goodShape() throws {
        let shape = try KernelBenchmark.Shape(parsing: "1024x512x3")
        #expect(shape.m == 1024 && shape.k == 512 && shape.n == 3)
    }
}
