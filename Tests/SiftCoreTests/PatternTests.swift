import Testing
@testable import SiftCore

/// The one pattern type, its one rounding convention and the kernel capability table.
@Suite struct PatternTests {
    @Test(arguments: ["", "2:", "4:2", "0:4", "4x", "x4", "dense", "2:4:8", "-2:4", "0x4", "1048577:1048577", "2-4"])
    func malformedPatternsAreRefused(text: String) {
        #expect(throws: SiftCoreError.self, "\(text)") { try SparsityPattern(parsing: text) }
    }

    @Test func wellFormedPatterns() throws {
        #expect(try SparsityPattern(parsing: "2:4") == .nOfM(n: 2, m: 4))
        #expect(try SparsityPattern(parsing: "16:16") == .nOfM(n: 16, m: 16))
        #expect(try SparsityPattern(parsing: "2:32") == .nOfM(n: 2, m: 32))
        #expect(try SparsityPattern(parsing: "4X4") == .block(rows: 4, columns: 4))
        #expect(try SparsityPattern(parsing: "64x64") == .block(rows: 64, columns: 64))
        #expect(try SparsityPattern(parsing: "Unstructured") == .unstructured)
        #expect(SparsityPattern.nOfM(n: 2, m: 4).description == "2:4")
        #expect(SparsityPattern.block(rows: 16, columns: 8).description == "16x8")
        #expect(SparsityPattern.nOfM(n: 1, m: 4).fixedSparsity == 0.75)
        #expect(SparsityPattern.block(rows: 4, columns: 4).fixedSparsity == nil)
    }

    /// The example: 10 weights at s = 0.25. The sampler, the random test matrices
    /// and the accounting all keep round(0.75 · 10) = round(7.5) = 8 (halves away from
    /// zero); before there was one sampler, one of them kept 7.
    @Test func oneRoundingConvention() throws {
        #expect(SparsityPattern.unstructured.nonzeroCount(rows: 1, reduction: 10, sparsity: 0.25) == 8)
        #expect(SparsityPattern.unstructured.nonzeroCount(rows: 2, reduction: 5, sparsity: 0.25) == 8)
        var generator = SeededGenerator(seed: 1)
        let mask = try MaskSampler.mask(rows: 1, reduction: 10, sparsity: 0.25, pattern: .unstructured, generator: &generator)
        #expect(mask.filter { $0 == 1 }.count == 8)
        let matrix = try RandomWeights.matrix(rows: 1, columns: 10, pattern: .unstructured, sparsity: 0.25, seed: 1)
        #expect(matrix.values.filter { $0 != 0 }.count == 8)
        // Blocks round the block count the same way: 10 blocks of 2x2 at s = 0.25 keep 8.
        #expect(SparsityPattern.block(rows: 2, columns: 2).nonzeroCount(rows: 4, reduction: 10, sparsity: 0.25) == 8 * 4)
        let blocks = try RandomWeights.matrix(rows: 4, columns: 10, pattern: .block(rows: 2, columns: 2), sparsity: 0.25, seed: 2)
        #expect(blocks.values.filter { $0 != 0 }.count == 32)
    }

    @Test func randomWeightsUseTheSamplerCounts() throws {
        let unstructured = try RandomWeights.matrix(rows: 64, columns: 100, pattern: .unstructured, sparsity: 0.9, seed: 7)
        #expect(unstructured.values.filter { $0 != 0 }.count == 640)
        #expect(try RandomWeights.matrix(rows: 64, columns: 100, pattern: .unstructured, sparsity: 0.9, seed: 7) == unstructured)
        #expect(try RandomWeights.matrix(rows: 64, columns: 100, pattern: .unstructured, sparsity: 0.9, seed: 8) != unstructured)
        let nm = try RandomWeights.matrix(rows: 8, columns: 32, pattern: .nOfM(n: 2, m: 8), sparsity: 0.75, seed: 1)
        #expect(nm.values.filter { $0 != 0 }.count == 8 * 4 * 2)
        #expect(MaskSampler.violation(of: nm.values.map { $0 != 0 ? 1 : 0 }, rows: 8, reduction: 32, pattern: .nOfM(n: 2, m: 8)) == nil)
        let block = try RandomWeights.matrix(rows: 32, columns: 32, pattern: .block(rows: 8, columns: 4), sparsity: 0.75, seed: 1)
        #expect(block.values.filter { $0 != 0 }.count == 8 * 32)
        let full = try RandomWeights.matrix(rows: 31, columns: 47, pattern: .unstructured, sparsity: 0, seed: 4)
        #expect(full.values.allSatisfy { $0 != 0 })
    }

    @Test(arguments: [-0.1, 1.0, 1.5, Double.nan, Double.infinity])
    func sparsityOutsideTheRangeIsRefused(s: Double) {
        #expect(throws: SiftCoreError.self) { try RandomWeights.matrix(rows: 4, columns: 4, pattern: .unstructured, sparsity: s, seed: 1) }
        #expect(throws: SiftCoreError.self) { try Sparsity.validate(s) }
    }

    @Test func nOfMSparsityMustBeThePatterns() {
        #expect(throws: SiftCoreError.self) {
            try RandomWeights.matrix(rows: 4, columns: 8, pattern: .nOfM(n: 2, m: 4), sparsity: 0.9, seed: 1)
        }
    }

    @Test func tensorAndMatrixRefuseMismatchedValues() {
        #expect(throws: SiftCoreError.self) { try Matrix(rows: 2, columns: 2, values: [1, 2, 3]) }
        #expect(throws: SiftCoreError.self) { try Tensor(shape: [2, -1], values: []) }
        #expect(throws: SiftCoreError.self) { try Matrix(Tensor(zeros: [2, 2, 2])) }
    }

    /// Which kernel family runs which pattern (the C registry is the authority; a test in
    /// SparseKernels checks that it agrees with this table).
    @Test func capabilityTable() {
        #expect(KernelCapabilities.limitation(of: .unstructured) == nil)
        #expect(KernelCapabilities.limitation(of: .nOfM(n: 2, m: 4)) == nil)
        #expect(KernelCapabilities.limitation(of: .nOfM(n: 16, m: 16)) == nil)
        #expect(KernelCapabilities.limitation(of: .nOfM(n: 2, m: 32))?.contains("between 1 and 16") == true)
        #expect(KernelCapabilities.limitation(of: .block(rows: 16, columns: 16)) == nil)
        #expect(KernelCapabilities.limitation(of: .block(rows: 1, columns: 32)) == nil)
        #expect(KernelCapabilities.limitation(of: .block(rows: 64, columns: 64))?.contains("64x64") == true)
        #expect(KernelCapabilities.limitation(of: .block(rows: 3, columns: 4)) != nil)
        #expect(KernelCapabilities.families(for: .nOfM(n: 2, m: 4), rows: 8, reduction: 16) == [.nm, .csr, .dense])
        #expect(KernelCapabilities.families(for: .nOfM(n: 2, m: 32), rows: 8, reduction: 64) == [.csr, .dense])
        #expect(KernelCapabilities.families(for: .block(rows: 64, columns: 64), rows: 128, reduction: 128) == [.csr, .dense])
        #expect(KernelCapabilities.families(for: .unstructured, rows: 8, reduction: 16) == [.csr, .dense])
        #expect(KernelCapabilities.families(for: .unstructured, rows: 8, reduction: 70_000) == [.dense])
    }
}

/// Block and N:M patterns on shapes they do not tile: the short last N:M group keeps
/// `round(N·L/M)`, edge blocks are clipped and sampled per shape (`RaggedEdges`).
@Suite struct RaggedEdgeTests {
    @Test func shortLastGroups() {
        // 2:4 on K = 810 (a widened layer): 202 full groups and a group of 2 keeping 1.
        #expect(SparsityPattern.nOfM(n: 2, m: 4).nonzeroCount(rows: 3, reduction: 810, sparsity: 0.5) == 3 * 405)
        #expect(RaggedEdges.shortGroupKeeps(n: 2, m: 4, length: 1) == 1)   // 0.5 rounds up
        #expect(RaggedEdges.shortGroupKeeps(n: 2, m: 4, length: 3) == 2)   // 1.5 rounds up
        #expect(RaggedEdges.shortGroupKeeps(n: 1, m: 16, length: 15) == 1)
        #expect(RaggedEdges.shortGroupKeeps(n: 2, m: 32, length: 3) == 0)  // 0.1875
        #expect(SparsityPattern.nOfM(n: 1, m: 16).nonzeroCount(rows: 1, reduction: 47, sparsity: 15.0 / 16) == 3)
        // Never more than N in the short group, never more than its length.
        for m in 1...16 {
            for n in 1...m {
                for length in 1..<m {
                    let keeps = RaggedEdges.shortGroupKeeps(n: n, m: m, length: length)
                    #expect(keeps <= n && keeps <= length && keeps >= 0, "\(n):\(m) length \(length)")
                }
            }
        }
    }

    @Test func clippedBlocks() {
        // 16x16 blocks on a 202 x 1818 widened 3x3 conv at s = 0.9: 1356 full blocks keep
        // 136, 12 right-edge 16x10 keep 1, 113 bottom-edge 10x16 keep 11, the 10x10 corner 0.
        #expect(RaggedEdges.blockShapes(rows: 202, reduction: 1818, blockRows: 16, blockColumns: 16) == [
            .init(rows: 16, columns: 16, count: 1356), .init(rows: 16, columns: 10, count: 12),
            .init(rows: 10, columns: 16, count: 113), .init(rows: 10, columns: 10, count: 1),
        ])
        #expect(SparsityPattern.block(rows: 16, columns: 16).nonzeroCount(rows: 202, reduction: 1818, sparsity: 0.9)
                == 136 * 256 + 1 * 160 + 11 * 160 + 0)
        // A matrix smaller than one block is one corner block.
        #expect(RaggedEdges.blockShapes(rows: 3, reduction: 5, blockRows: 16, blockColumns: 16) == [.init(rows: 3, columns: 5, count: 1)])
        // Tiled shapes keep the old single-shape count.
        #expect(SparsityPattern.block(rows: 4, columns: 4).nonzeroCount(rows: 32, reduction: 48, sparsity: 0.75) == 24 * 16)
    }

    /// The sampler realises exactly the accounted count on ragged shapes, with the pattern's
    /// structure, for many shapes, patterns and sparsities.
    @Test(arguments: [SparsityPattern.nOfM(n: 2, m: 4), .nOfM(n: 1, m: 8), .nOfM(n: 3, m: 16), .nOfM(n: 2, m: 32),
                      .block(rows: 4, columns: 4), .block(rows: 16, columns: 8), .block(rows: 3, columns: 5), .unstructured])
    func samplerAndAccountingAgree(pattern: SparsityPattern) throws {
        var generator = SeededGenerator(seed: 11)
        for (rows, reduction) in [(1, 1), (1, 7), (7, 1), (5, 13), (18, 162), (33, 70), (90, 810), (16, 48)] {
            for sparsity in pattern.fixedSparsity.map({ [$0] }) ?? [0.3, 0.5, 0.9] {
                let mask = try MaskSampler.mask(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern, generator: &generator)
                let context = "\(pattern) \(rows)x\(reduction) s=\(sparsity)"
                #expect(mask.filter { $0 == 1 }.count == pattern.nonzeroCount(rows: rows, reduction: reduction, sparsity: sparsity), "\(context)")
                #expect(MaskSampler.violation(of: mask, rows: rows, reduction: reduction, pattern: pattern) == nil, "\(context)")
            }
        }
    }

    @Test func violationsAtTheEdgesAreCaught() throws {
        var generator = SeededGenerator(seed: 2)
        // A short last group with one weight too many.
        var nm = try MaskSampler.mask(rows: 2, reduction: 6, sparsity: 0.5, pattern: .nOfM(n: 2, m: 4), generator: &generator)
        let tail = nm[4] == 1 ? 5 : 4
        nm[tail] = 1
        #expect(MaskSampler.violation(of: nm, rows: 2, reduction: 6, pattern: .nOfM(n: 2, m: 4))?.contains("short last group of 2") == true)
        // A clipped edge block partly kept.
        var block = [Float](repeating: 0, count: 6 * 6)
        block[5 * 6 + 5] = 1  // the 2x2 corner of 4x4 blocks on 6x6
        #expect(MaskSampler.violation(of: block, rows: 6, reduction: 6, pattern: .block(rows: 4, columns: 4)) == "block at (4, 4) is partly kept")
        for index in [4 * 6 + 4, 4 * 6 + 5, 5 * 6 + 4] { block[index] = 1 }
        #expect(MaskSampler.violation(of: block, rows: 6, reduction: 6, pattern: .block(rows: 4, columns: 4)) == nil)
    }
}
