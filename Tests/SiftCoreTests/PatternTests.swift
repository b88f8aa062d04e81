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
