import SiftCore
import SparseIFT
import Testing
@testable import DataflowSim

/// The weight stream's encoding, the slicing policies and the partition they rest on.
@Suite("Slicing and the weight stream's encoding")
struct SlicingTests {
    /// A seeded mask of `pattern` (the toolkit's one sampler).
    func mask(rows: Int, columns: Int, sparsity: Double, pattern: SparsityPattern, seed: UInt64 = 1) throws -> MaskBits {
        try MaskSource.mask(layer: "slicing", rows: rows, reduction: columns, sparsity: sparsity, pattern: pattern, seed: seed)
    }

    /// Runs of a row by a plain scan, the reference for the bit-level walk.
    func plainRuns(_ mask: MaskBits, row: Int, from start: Int, to end: Int) -> [(Int, Int)] {
        var runs: [(Int, Int)] = []
        var column = start
        while column < end {
            guard mask.contains(row: row, column: column) else { column += 1; continue }
            let first = column
            while column < end, mask.contains(row: row, column: column) { column += 1 }
            runs.append((first, column - first))
        }
        return runs
    }

    @Test func maskBitsAreTheSamplersFloatMask() throws {
        // The bits are set straight from the sampler's kept entries: the same mask as its floats.
        for (pattern, sparsity) in [(SparsityPattern.unstructured, 0.8), (.nOfM(n: 2, m: 4), 0.5),
                                    (.block(rows: 4, columns: 8), 0.75), (.unstructured, 0)] {
            var generator = SeededGenerator(seed: 5, stream: "slicing.mask")
            let floats = try MaskSampler.mask(rows: 9, reduction: 130, sparsity: sparsity, pattern: pattern, generator: &generator)
            #expect(try mask(rows: 9, columns: 130, sparsity: sparsity, pattern: pattern, seed: 5)
                    == MaskBits(rows: 9, columns: 130, values: floats), "\(pattern) s=\(sparsity)")
        }
    }

    @Test func runsAreFoundAcrossWordBoundaries() throws {
        var generator = SeededGenerator(seed: 11)
        for pattern in [SparsityPattern.unstructured, .block(rows: 1, columns: 8), .block(rows: 2, columns: 5)] {
            let bits = try mask(rows: 6, columns: 300, sparsity: 0.5, pattern: pattern)
            for _ in 0..<200 {
                let start = generator.nextIndex(below: 300)
                let end = start + generator.nextIndex(below: 301 - start)
                let row = generator.nextIndex(below: 6)
                let expected = plainRuns(bits, row: row, from: start, to: end)
                var found: [(Int, Int)] = []
                bits.forEachRun(row: row, from: start, to: end) { found.append(($0, $1)) }
                #expect(found.map(\.0) == expected.map(\.0) && found.map(\.1) == expected.map(\.1), "\(pattern) \(start)..<\(end)")
                #expect(bits.runCount(row: row, from: start, to: end) == expected.count)
            }
        }
        // A full row: one run from the start.
        let full = MaskBits(denseRows: 1, columns: 130)
        var found: [(Int, Int)] = []
        full.forEachRun(row: 0, from: 3, to: 130) { found.append(($0, $1)) }
        #expect(found.count == 1 && found[0] == (3, 127))
    }

    @Test(arguments: [false, true])
    func theEncodingCarriesEveryWeightOnce(runs: Bool) throws {
        let encoding = WeightEncoding(packed: 2, runs: runs)
        for (pattern, sparsity) in [(SparsityPattern.unstructured, 0.3), (.unstructured, 0.8), (.nOfM(n: 2, m: 4), 0.5),
                                    (.block(rows: 4, columns: 4), 0.75), (.block(rows: 1, columns: 16), 0.5)] {
            let bits = try mask(rows: 8, columns: 200, sparsity: sparsity, pattern: pattern)
            for row in 0..<8 {
                for (start, end) in [(0, 200), (7, 71), (64, 128), (13, 14), (50, 50)] {
                    var carried: [Int] = []
                    var headers = 0
                    var values = 0
                    encoding.forEachWavelet(of: bits, row: row, from: start, to: end) { wavelet in
                        switch wavelet {
                        case .header: headers += 1
                        case .weights(let first, let count):
                            #expect(count >= 1 && count <= 2)
                            values += 1
                            carried += Array(first..<(first + count))
                        }
                    }
                    let expected = (start..<end).filter { bits.contains(row: row, column: $0) }
                    #expect(carried == expected, "\(pattern) row \(row) \(start)..<\(end)")
                    let stream = encoding.stream(of: bits, row: row, from: start, to: end)
                    #expect(Int(stream.weights) == expected.count && Int(stream.valueWavelets) == values && Int(stream.headers) == headers)
                    // Never more wavelets than one per weight.
                    #expect(stream.wavelets <= expected.count)
                    if !runs { #expect(headers == 0) }
                }
            }
        }
        // Every weight present: packed two to a wavelet with implicit positions.
        let dense = encoding.stream(of: nil, row: 0, from: 0, to: 9)
        #expect(dense.valueWavelets == 5 && dense.headers == 0 && dense.weights == 9)
    }

    @Test func blockRowsStreamInFewerWaveletsWithRuns() throws {
        let bits = try mask(rows: 64, columns: 256, sparsity: 0.75, pattern: .block(rows: 16, columns: 16))
        func wavelets(_ runs: Bool) -> Int {
            let encoding = WeightEncoding(packed: 2, runs: runs)
            return (0..<64).reduce(0) { $0 + encoding.stream(of: bits, row: $1, from: 0, to: 256).wavelets }
        }
        // A 16-wide block row: one header and 8 packed wavelets instead of 16 indexed ones.
        #expect(Double(wavelets(true)) < 0.6 * Double(wavelets(false)))
        #expect(wavelets(false) == bits.nonzeros)
    }

    /// The smallest largest-piece sum over every way to cut `loads` (brute force).
    func bestBottleneck(_ loads: [Double], parts: Int, maxLength: Int) -> Double {
        var best = Double.infinity
        func search(_ start: Int, _ partsLeft: Int, _ worst: Double) {
            if start == loads.count { best = min(best, worst); return }
            guard partsLeft > 0 else { return }
            var sum = 0.0
            for end in (start + 1)...min(loads.count, start + maxLength) {
                sum += loads[end - 1]
                search(end, partsLeft - 1, max(worst, sum))
            }
        }
        search(0, parts, 0)
        return best
    }

    @Test func contiguousPartitionsAreOptimal() {
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<60 {
            let count = 1 + generator.nextIndex(below: 12)
            let parts = 1 + generator.nextIndex(below: 5)
            let maxLength = max((count + parts - 1) / parts, 1 + generator.nextIndex(below: count))
            let loads = (0..<count).map { _ in Double(generator.nextIndex(below: 20)) }
            let cuts = Partition.contiguous(loads, parts: parts, maxLength: maxLength)
            #expect(cuts.first == 0 && cuts.last == count && cuts.count - 1 <= parts)
            #expect(zip(cuts.dropFirst(), cuts).allSatisfy { $0 - $1 >= 1 && $0 - $1 <= maxLength })
            let worst = zip(cuts.dropFirst(), cuts).map { end, start in loads[start..<end].reduce(0, +) }.max() ?? 0
            let best = bestBottleneck(loads, parts: parts, maxLength: maxLength)
            #expect(worst <= best + 1e-6, "\(loads) in \(parts) of <= \(maxLength): \(worst) vs best \(best)")
        }
    }

    @Test func alignedSlicesFollowTheBlockGrid() throws {
        let machine = try machine("wse2", ["mapping.region_width=32", "mapping.region_height=96", "mapping.slicing=aligned"])
        let report = try MatmulSimulation.run(MatmulRequest(m: 512, k: 1000, n: 2048, sparsity: 0.75,
                                                            pattern: .block(rows: 8, columns: 8),
                                                            passes: [.forward, .inputGradient]), machine: machine)
        for product in report.products { #expect(product.mapping.reductionPerRow % 8 == 0, "\(product.pass)") }
        #expect(report.products.allSatisfy { $0.mapping.slicing == "aligned" })
    }

    @Test func balancedSlicingRemovesMostOfTheBlockImbalance() throws {
        func run(_ slicing: String) throws -> MatmulReport {
            let machine = try machine("wse2", ["mapping.region_width=32", "mapping.region_height=128", "mapping.slicing=\(slicing)"])
            return try MatmulSimulation.run(MatmulRequest(m: 1024, k: 768, n: 2816, sparsity: 0.75,
                                                          pattern: .block(rows: 8, columns: 8)), machine: machine)
        }
        let uniform = try run("uniform")
        let balanced = try run("balanced")
        // The most loaded core row's total (the closed form) comes close to the average...
        let unstructured = try MatmulSimulation.run(MatmulRequest(m: 1024, k: 768, n: 2816, sparsity: 0.75),
                                                    machine: try machine("wse2", ["mapping.region_width=32", "mapping.region_height=128"]))
        #expect(balanced.products[0].analyticalCycles < 0.8 * uniform.products[0].analyticalCycles)
        // ...and the cycle-level time follows: blocks cost about what unstructured costs.
        #expect(balanced.cycles < 0.8 * uniform.cycles, "\(balanced.cycles) vs uniform \(uniform.cycles)")
        #expect(balanced.cycles < 1.1 * unstructured.cycles, "\(balanced.cycles) vs unstructured \(unstructured.cycles)")
        #expect(balanced.products[0].mapping.accumulatorBuffers > 2)
    }

    @Test func balancedPipelinedBoundsCoverTheWeight() throws {
        let machine = try machine("research-mesh", ["mapping.slicing=balanced"])
        let bits = try mask(rows: 96, columns: 160, sparsity: 0.75, pattern: .block(rows: 8, columns: 8))
        let product = LoweredProduct(node: "fc", kind: .linear, M: 96, K: 160, N: 32, groups: 1,
                                     weight: WeightSparsity(role: .body, sparsity: 0.75, pattern: .block(rows: 8, columns: 8)),
                                     weightRows: 96, inputFromReLU: false, outputToReLU: false, needsInputGradient: true)
        let stage = try PipelinedMapper.stage(index: 0, product: product, mask: bits, zeros: .init(input: 0, gradient: 0), cores: 64,
                                              machine: machine)
        #expect(stage.reductionBounds.first == 0 && stage.reductionBounds.last == 160 && stage.reductionBounds.count == stage.rows + 1)
        #expect(stage.outputBounds.first == 0 && stage.outputBounds.last == 96 && stage.outputBounds.count == stage.columns + 1)
        #expect(zip(stage.reductionBounds.dropFirst(), stage.reductionBounds).allSatisfy { $0 >= $1 })
        #expect(zip(stage.outputBounds.dropFirst(), stage.outputBounds).allSatisfy { $0 >= $1 })
    }
}
