import Foundation
import Testing
@testable import SiftCore

@Suite struct MaskSamplerTests {
    /// Expected non-zero counts worked out by hand, `round((1-s)·rows·K)` (half away from
    /// zero), for 64x576 = 36864, 7x13 = 91 and 1x1000 weights.
    static let exactCounts: [(Double, [Int])] = [
        (0.0, [36864, 91, 1000]),
        (0.5, [18432, 46, 500]),      // 45.5 rounds up
        (0.75, [9216, 23, 250]),      // 22.75
        (0.9, [3686, 9, 100]),        // 3686.4, 9.1
        (0.37, [23224, 57, 630]),     // 23224.32, 57.33
        (0.999, [37, 0, 1]),          // 36.864, 0.091
    ]

    @Test(arguments: exactCounts)
    func unstructuredMasksHaveTheExactCount(sparsity: Double, counts: [Int]) throws {
        var generator = SeededGenerator(seed: 42)
        for ((rows, reduction), expected) in zip([(64, 576), (7, 13), (1, 1000)], counts) {
            let mask = try MaskSampler.mask(rows: rows, reduction: reduction, sparsity: sparsity, pattern: .unstructured, generator: &generator)
            #expect(mask.filter { $0 == 1 }.count == expected, "\(rows)x\(reduction) s=\(sparsity)")
            #expect(SparsityPattern.unstructured.nonzeroCount(rows: rows, reduction: reduction, sparsity: sparsity) == expected)
            #expect(MaskSampler.violation(of: mask, rows: rows, reduction: reduction, pattern: .unstructured) == nil)
        }
    }

    @Test func unstructuredMasksAreUniform() throws {
        // Each position should be kept with probability 1 - s: count over many masks.
        var generator = SeededGenerator(seed: 3)
        let (rows, reduction, trials) = (4, 25, 4000)
        var kept = [Int](repeating: 0, count: rows * reduction)
        for _ in 0..<trials {
            let mask = try MaskSampler.mask(rows: rows, reduction: reduction, sparsity: 0.8, pattern: .unstructured, generator: &generator)
            for index in mask.indices where mask[index] == 1 { kept[index] += 1 }
        }
        // Binomial(4000, 0.2): mean 800, sd ≈ 25.3; allow 5 sd.
        for count in kept { #expect(abs(count - 800) < 127) }
    }

    @Test func nOfMMasksAreValid() throws {
        var generator = SeededGenerator(seed: 5)
        for (n, m) in [(2, 4), (1, 4), (4, 8)] {
            let pattern = SparsityPattern.nOfM(n: n, m: m)
            let mask = try MaskSampler.mask(rows: 16, reduction: 64, sparsity: pattern.fixedSparsity!, pattern: pattern, generator: &generator)
            #expect(MaskSampler.violation(of: mask, rows: 16, reduction: 64, pattern: pattern) == nil)
            #expect(mask.filter { $0 == 1 }.count == 16 * 64 * n / m)
        }
        // The checker catches a broken group.
        var broken = [Float](repeating: 1, count: 8)
        broken[5] = 0
        #expect(MaskSampler.violation(of: broken, rows: 1, reduction: 8, pattern: .nOfM(n: 2, m: 4)) != nil)
        #expect(throws: SiftCoreError.self) {
            try MaskSampler.mask(rows: 2, reduction: 8, sparsity: 0.75, pattern: .nOfM(n: 2, m: 4), generator: &generator)
        }
    }

    @Test func blockMasksAreValid() throws {
        var generator = SeededGenerator(seed: 9)
        let pattern = SparsityPattern.block(rows: 4, columns: 4)
        let mask = try MaskSampler.mask(rows: 32, reduction: 48, sparsity: 0.75, pattern: pattern, generator: &generator)
        #expect(MaskSampler.violation(of: mask, rows: 32, reduction: 48, pattern: pattern) == nil)
        #expect(mask.filter { $0 == 1 }.count == 24 * 16)  // 96 blocks, 24 kept
        var partial = mask
        partial[partial.firstIndex(of: 1)!] = 0
        #expect(MaskSampler.violation(of: partial, rows: 32, reduction: 48, pattern: pattern) != nil)
    }

    @Test func masksAreDeterministicPerSeed() throws {
        func make(_ seed: UInt64) throws -> [Float] {
            var generator = SeededGenerator(seed: seed, stream: "layer1.0.conv1.mask")
            return try MaskSampler.mask(rows: 64, reduction: 576, sparsity: 0.9, pattern: .unstructured, generator: &generator)
        }
        #expect(try make(1) == make(1))
        #expect(try make(1) != make(2))
    }

    @Test func generatorIsStable() {
        // Pinned values: a change of the generator would silently change every mask.
        var generator = SeededGenerator(seed: 0)
        #expect(generator.next() == 0xe220_a839_7b1d_cdaf)
        #expect(generator.next() == 0x6e78_9e6a_a1b9_65f4)
    }
}
