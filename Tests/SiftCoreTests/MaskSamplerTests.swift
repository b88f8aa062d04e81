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

    /// The sampler as it was first written (a fresh `sample` per choice, a float mask):
    /// the masks of a seed feed golden files and other modules' tests, so the faster
    /// sampler (`PartialShuffle`, `forEachKept`) must draw the same and keep the same.
    static func referenceMask(rows: Int, reduction: Int, sparsity: Double, pattern: SparsityPattern,
                              generator: inout SeededGenerator) -> [Float] {
        var mask = [Float](repeating: sparsity == 0 ? 1 : 0, count: rows * reduction)
        guard sparsity > 0 else { return mask }
        switch pattern {
        case .unstructured:
            let kept = pattern.nonzeroCount(rows: rows, reduction: reduction, sparsity: sparsity)
            for index in MaskSampler.sample(kept, from: rows * reduction, generator: &generator) { mask[index] = 1 }
        case .nOfM(let n, let m):
            let tailKeeps = RaggedEdges.shortGroupKeeps(n: n, m: m, length: reduction % m)
            for row in 0..<rows {
                for start in stride(from: 0, to: reduction, by: m) {
                    let length = min(m, reduction - start)
                    for offset in MaskSampler.sample(length == m ? n : tailKeeps, from: length, generator: &generator) {
                        mask[row * reduction + start + offset] = 1
                    }
                }
            }
        case .block(let blockRows, let blockColumns):
            for blocks in MaskSampler.blocksByShape(rows: rows, reduction: reduction, blockRows: blockRows, blockColumns: blockColumns) {
                let kept = SparsityPattern.kept(blocks.count, density: 1 - sparsity)
                for index in MaskSampler.sample(kept, from: blocks.count, generator: &generator) {
                    let block = blocks[index]
                    for row in block.top..<(block.top + block.height) {
                        for column in block.left..<(block.left + block.width) { mask[row * reduction + column] = 1 }
                    }
                }
            }
        }
        return mask
    }

    @Test func masksMatchTheReferenceSamplerDrawForDraw() throws {
        let cases: [(Int, Int, Double, SparsityPattern)] = [
            (64, 576, 0.9, .unstructured), (7, 13, 0.5, .unstructured), (3, 5, 0, .unstructured),
            (16, 64, 0.5, .nOfM(n: 2, m: 4)), (5, 30, 0.75, .nOfM(n: 2, m: 8)),     // 30 = 3 groups of 8 + 6
            (32, 48, 0.75, .block(rows: 4, columns: 4)), (37, 50, 0.9, .block(rows: 16, columns: 16)),  // ragged
        ]
        for (rows, reduction, sparsity, pattern) in cases {
            var reference = SeededGenerator(seed: 11, stream: "w.mask")
            var viaMask = reference
            var viaKept = reference
            let expected = Self.referenceMask(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern,
                                              generator: &reference)
            let mask = try MaskSampler.mask(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern,
                                            generator: &viaMask)
            var fromKept = [Float](repeating: 0, count: rows * reduction)
            try MaskSampler.forEachKept(rows: rows, reduction: reduction, sparsity: sparsity, pattern: pattern,
                                        generator: &viaKept) { fromKept[$0] += 1 }
            #expect(mask == expected, "\(rows)x\(reduction) s=\(sparsity) \(pattern)")
            #expect(fromKept == expected, "each kept entry once: \(rows)x\(reduction) \(pattern)")
            // The generators end in the same state: the next layer's draws are unchanged too.
            let next = reference.next()
            #expect(viaMask.next() == next)
            #expect(viaKept.next() == next)
        }
    }

    @Test func generatorIsStable() {
        // Pinned values: a change of the generator would silently change every mask.
        var generator = SeededGenerator(seed: 0)
        #expect(generator.next() == 0xe220_a839_7b1d_cdaf)
        #expect(generator.next() == 0x6e78_9e6a_a1b9_65f4)
    }
}
