import Testing
@testable import SiftONNX
import SiftCore

/// Sparsity and pattern found from a weight's zeros, checked against SiftCore's own
/// sampler: every mask it makes is detected as its pattern with its non-zero count.
@Suite struct SparsityDetectionTests {
    /// A weight with the given mask: non-zero values where the mask is 1.
    static func weight(_ mask: [Float]) -> [Float] {
        mask.enumerated().map { $1 == 0 ? 0 : Float($0 % 7) + 0.5 }
    }

    static func sampled(rows: Int, reduction: Int, sparsity: Double, pattern: SparsityPattern, seed: UInt64 = 1) throws -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return try MaskSampler.mask(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern, generator: &generator)
    }

    @Test func denseAndAllZeroWeightsHaveNoSparsity() {
        #expect(SparsityDetection.detect(weight: [1, 2, 3, 4], rows: 2, reduction: 2) == nil)
        #expect(SparsityDetection.detect(weight: [0, 0, 0, 0], rows: 2, reduction: 2) == nil)
    }

    @Test(arguments: [
        (SparsityPattern.nOfM(n: 2, m: 4), 0.5, 32, 64), (.nOfM(n: 1, m: 4), 0.75, 16, 24), (.nOfM(n: 3, m: 8), 0.625, 8, 64),
        (.nOfM(n: 2, m: 4), 0.5, 12, 10),            // ragged: K = 10, a short last group of 2
        (.block(rows: 4, columns: 4), 0.75, 32, 64), (.block(rows: 16, columns: 16), 0.9, 64, 128),
        (.block(rows: 8, columns: 1), 0.5, 32, 32),
        (.block(rows: 4, columns: 4), 0.5, 30, 42),  // ragged edge blocks
    ] as [(SparsityPattern, Double, Int, Int)])
    func sampledPatternsAreFoundWithTheirCounts(pattern: SparsityPattern, sparsity: Double, rows: Int, reduction: Int) throws {
        let mask = try Self.sampled(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern)
        let found = try #require(SparsityDetection.detect(weight: Self.weight(mask), rows: rows, reduction: reduction))
        #expect(found.pattern == pattern)
        #expect(found.mask == mask)
        let kept = mask.reduce(0) { $0 + Int($1) }
        #expect(found.pattern.nonzeroCount(rows: rows, reduction: reduction, sparsity: found.sparsity) == kept)
        #expect(MaskSampler.violation(of: found.mask, rows: rows, reduction: reduction, pattern: found.pattern) == nil)
    }

    @Test(arguments: [0.5, 0.9, 0.99]) func unstructuredMasksKeepTheirExactCount(sparsity: Double) throws {
        let (rows, reduction) = (64, 96)
        let mask = try Self.sampled(rows: rows, reduction: reduction, sparsity: sparsity, pattern: .unstructured, seed: 3)
        let found = try #require(SparsityDetection.detect(weight: Self.weight(mask), rows: rows, reduction: reduction))
        #expect(found.pattern == .unstructured)
        #expect(found.pattern.nonzeroCount(rows: rows, reduction: reduction, sparsity: found.sparsity) == mask.reduce(0) { $0 + Int($1) })
    }

    @Test func aBrokenGroupOrBlockIsUnstructured() throws {
        var nm = try Self.sampled(rows: 8, reduction: 16, sparsity: 0.5, pattern: .nOfM(n: 2, m: 4))
        // One kept weight that is exactly zero: that group holds 1 non-zero, not 2.
        let kept = try #require(nm.firstIndex(of: 1))
        nm[kept] = 0
        #expect(SparsityDetection.detect(weight: Self.weight(nm), rows: 8, reduction: 16)?.pattern == .unstructured)

        var blocks = try Self.sampled(rows: 16, reduction: 16, sparsity: 0.5, pattern: .block(rows: 8, columns: 8))
        let inKeptBlock = try #require(blocks.firstIndex(of: 1))
        blocks[inKeptBlock] = 0
        let found = try #require(SparsityDetection.detect(weight: Self.weight(blocks), rows: 16, reduction: 16))
        #expect(found.pattern != .block(rows: 8, columns: 8))
    }
}
