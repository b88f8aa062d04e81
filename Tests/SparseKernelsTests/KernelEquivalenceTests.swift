import Testing
@testable import SparseKernels

/// Every optimized kernel against the scalar double-precision oracle, on every ISA
/// path this CPU has (forced through the override) and thread counts 1 and 2.
/// Serialized: each case enters OpenMP regions, and we want thread counts to be real.
@Suite("Kernel equivalence", .serialized)
struct KernelEquivalenceTests {
    @Test("dense GEMM and GEMV across tile edges")
    func dense() throws {
        for (index, shape) in edgeShapes().enumerated() {
            let w = RandomWeights.dense(rows: shape.m, columns: shape.k, seed: UInt64(index))
            try checkEveryPath(try DenseWeights(w), source: w, n: shape.n, seed: UInt64(index), label: "dense")
        }
    }

    @Test("CSR across tile edges and sparsities", arguments: [0.0, 0.5, 0.9, 0.97])
    func csr(sparsity: Double) throws {
        for (index, shape) in edgeShapes().enumerated() {
            let w = try RandomWeights.matrix(rows: shape.m, columns: shape.k, pattern: .unstructured,
                                             sparsity: sparsity, seed: UInt64(100 + index))
            try checkEveryPath(try CSRWeights(w), source: w, n: shape.n, seed: UInt64(index), label: "csr s=\(sparsity)")
        }
    }

    @Test("CSR with empty rows, all zeros, and no zeros at all")
    func csrSpecialMatrices() throws {
        var emptyRows = try RandomWeights.matrix(rows: 40, columns: 70, pattern: .unstructured, sparsity: 0.8, seed: 3)
        for row in stride(from: 0, to: 40, by: 3) {
            for column in 0..<70 { emptyRows[row, column] = 0 }
        }
        let allZero = Matrix(zeros: 33, 65)
        let noZeros = try RandomWeights.matrix(rows: 31, columns: 47, pattern: .unstructured, sparsity: 0, seed: 4)
        for (name, w) in [("empty rows", emptyRows), ("all zero", allZero), ("no zeros", noZeros)] {
            for n in [1, 16, 33] {
                try checkEveryPath(try CSRWeights(w), source: w, n: n, seed: 9, label: "csr \(name)")
            }
        }
    }

    static let nmPatterns: [(Int, Int)] = [(1, 1), (1, 2), (2, 4), (1, 4), (3, 4), (2, 8), (4, 8), (1, 8), (3, 16), (5, 16), (16, 16)]

    @Test("N:M for every group size", arguments: nmPatterns.indices)
    func nm(patternIndex: Int) throws {
        let (n, m) = Self.nmPatterns[patternIndex]
        for (index, shape) in edgeShapes(kMultiple: m).enumerated() {
            let w = try RandomWeights.matrix(rows: shape.m, columns: shape.k, pattern: .nOfM(n: n, m: m),
                                             sparsity: 1 - Double(n) / Double(m), seed: UInt64(200 + index))
            try checkEveryPath(try NMWeights(w, n: n, m: m), source: w, n: shape.n, seed: UInt64(index), label: "nm \(n):\(m)")
        }
    }

    @Test("N:M with groups holding fewer than N nonzeros, and all zeros")
    func nmUnderfilledGroups() throws {
        var w = try RandomWeights.matrix(rows: 29, columns: 64, pattern: .nOfM(n: 2, m: 4), sparsity: 0.5, seed: 5)
        for i in stride(from: 0, to: w.values.count, by: 3) { w.values[i] = 0 }
        for n in [1, 17, 64] {
            try checkEveryPath(try NMWeights(w, n: 2, m: 4), source: w, n: n, seed: 6, label: "nm 2:4 underfilled")
            let zeros = Matrix(zeros: 9, 32)
            try checkEveryPath(try NMWeights(zeros, n: 1, m: 8), source: zeros, n: n, seed: 6, label: "nm 1:8 all zero")
        }
    }

    @Test("BSR for every block shape", arguments: KernelCapabilities.bsrBlockEdges)
    func bsr(blockRows: Int) throws {
        for blockColumns in KernelCapabilities.bsrBlockEdges {
            let shapes: [(Int, Int, Int)] = [(1, 1, 1), (2, 3, 17), (3, 2, 64), (4, 4, 1), (5, 7, 33)]
            for (index, (rowBlocks, columnBlocks, n)) in shapes.enumerated() {
                let w = try RandomWeights.matrix(rows: rowBlocks * blockRows, columns: columnBlocks * blockColumns,
                                                 pattern: .block(rows: blockRows, columns: blockColumns),
                                                 sparsity: index == 0 ? 0 : 0.6, seed: UInt64(300 + index))
                try checkEveryPath(try BSRWeights(w, blockRows: blockRows, blockColumns: blockColumns),
                                   source: w, n: n, seed: UInt64(index), label: "bsr \(blockRows)x\(blockColumns)")
            }
        }
    }

    @Test("BSR at benchmark scale, with empty block rows")
    func bsrLarge() throws {
        var w = try RandomWeights.matrix(rows: 256, columns: 512, pattern: .block(rows: 16, columns: 16), sparsity: 0.9, seed: 8)
        for row in 16..<48 { for column in 0..<512 { w[row, column] = 0 } }
        for n in [1, 63, 256] {
            try checkEveryPath(try BSRWeights(w, blockRows: 16, blockColumns: 16), source: w, n: n, seed: 2, label: "bsr 16x16 large")
        }
        let zeros = Matrix(zeros: 64, 64)
        try checkEveryPath(try BSRWeights(zeros, blockRows: 8, blockColumns: 8), source: zeros, n: 20, seed: 2, label: "bsr all zero")
    }

    @Test("Every format round-trips to the dense matrix it came from")
    func roundTrips() throws {
        let unstructured = try RandomWeights.matrix(rows: 37, columns: 64, pattern: .unstructured, sparsity: 0.7, seed: 1)
        #expect(try CSRWeights(unstructured).toDense() == unstructured)
        #expect(try CSRWeights(unstructured).storedValues == unstructured.values.filter { $0 != 0 }.count)
        for (n, m) in Self.nmPatterns {
            let w = try RandomWeights.matrix(rows: 9, columns: 48, pattern: .nOfM(n: n, m: m), sparsity: 1 - Double(n) / Double(m), seed: 2)
            #expect(try NMWeights(w, n: n, m: m).toDense() == w, "nm \(n):\(m)")
        }
        for r in KernelCapabilities.bsrBlockEdges {
            for c in KernelCapabilities.bsrBlockEdges {
                let w = try RandomWeights.matrix(rows: 2 * r, columns: 3 * c, pattern: .block(rows: r, columns: c), sparsity: 0.5, seed: 3)
                let prepared = try BSRWeights(w, blockRows: r, blockColumns: c)
                #expect(prepared.toDense() == w, "bsr \(r)x\(c)")
                #expect(prepared.nonzeroBlocks == 3, "bsr \(r)x\(c): 3 of 6 blocks kept")
            }
        }
    }
}
