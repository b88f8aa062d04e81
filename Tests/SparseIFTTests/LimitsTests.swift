import Foundation
import Testing
@testable import SparseIFT

/// Inputs at and beyond the toolkit's limits: each is refused with a SparseIFTError (never
/// a trap), and the largest accepted ones account without overflow.
@Suite struct LimitsTests {
    @Test func baseIsCappedAndValidated() throws {
        #expect(try SparseIFT.base(sparsity: 0.999) == 1000)
        for bad in [0.9995, 0.9999, 0.9999999999999999, 1.0, .nan, .infinity, -0.1] {
            #expect(throws: SparseIFTError.self, "\(bad)") { try SparseIFT.base(sparsity: bad) }
        }
        // The message names the value and the limit.
        do {
            _ = try SparseIFT.base(sparsity: 0.9999)
            Issue.record("0.9999 was accepted")
        } catch let error as SparseIFTError {
            #expect(error.description.contains("0.9999") && error.description.contains("10000 parallel branches")
                    && error.description.contains("base <= 1000"))
        }
    }

    @Test func rankFormulasRefuseBadInputs() throws {
        for (k, c, s) in [(576, 64, 1.0), (576, 64, Double.nan), (0, 64, 0.5), (576, 0, 0.5), (-1, 64, 0.5), (576, 64, 0.9999)] {
            #expect(throws: SparseIFTError.self) { try SparseIFT.factorizedRank(reduction: k, outputs: c, sparsity: s) }
            #expect(throws: SparseIFTError.self) { try SparseIFT.dopedRank(reduction: k, outputs: c, sparsity: s) }
        }
        // At the cap: d = ceil(1000 · 576·64/640) = 57600.
        #expect(try SparseIFT.factorizedRank(reduction: 576, outputs: 64, sparsity: 0.999) == 57600)
    }

    @Test func everyMemberAtTheCapOnTheBiggestZooModelsAccountsWithoutOverflow() throws {
        for (name, sequence) in [("resnet18-imagenet", 2048), ("gpt3-medium", GPT.maxSequenceLength)] {
            let dense = try ModelZoo.build(name, options: ModelZoo.Options(sequenceLength: sequence))
            for kind in TransformKind.allCases {
                let transformed = try SparseIFT.transform(dense, kind: kind, sparsity: 0.999,
                                                          options: TransformOptions(matchDenseFLOPs: false))
                let report = TransformReport(model: name, transformed: transformed)
                #expect(report.totals.training_flops > 0 && report.totals.forward_flops > 0, "\(name) \(kind)")
                _ = try report.json()
            }
            #expect(throws: SparseIFTError.self) { try SparseIFT.transform(dense, kind: .wide, sparsity: 0.9999) }
        }
    }

    @Test func sequenceAndSizeLimits() throws {
        #expect(throws: SparseIFTError.self) { try ModelZoo.build("gpt3-medium", options: ModelZoo.Options(sequenceLength: GPT.maxSequenceLength + 1)) }
        // Two 2^24-wide layers: 2^48 weights each, allowed by the builder...
        let huge = try MLP.build(widths: [1 << 24, 1 << 24, 1 << 24])
        #expect(Accounting.account(huge).macs == 2 << 48)
        // ...but far too many floats to initialise: refused before any allocation.
        #expect(throws: SparseIFTError.self) { try ParameterStore.initialize(huge) }
        // Widened past 2^50 weights per layer, or past 2^58 MACs in total: refused.
        #expect(throws: SparseIFTError.self) {
            try SparseIFT.transform(huge, kind: .wide, sparsity: 0.999, options: TransformOptions(matchDenseFLOPs: false))
        }
        #expect(throws: SparseIFTError.self) { try MLP.build(widths: [Int](repeating: 1 << 24, count: 20_000)) }
        var builder = NetworkBuilder()
        let x = try builder.add("input", .input(shape: [1, 4, 4]))
        #expect(throws: SparseIFTError.self) { try builder.conv("c", x, out: 1, kernel: 1, padding: Int.max) }
        #expect(throws: SparseIFTError.self) { try builder.conv("d", x, out: Int.max, kernel: 3, padding: 1) }
    }

    @Test func patternsAndMasksRefuseBadSizes() throws {
        #expect(SparsityPattern.nOfM(n: 1, m: 0).nonzeroCount(rows: 4, reduction: 8, sparsity: 0.5) == 32)
        #expect(SparsityPattern.block(rows: 0, columns: 4).nonzeroCount(rows: 4, reduction: 8, sparsity: 0.5) == 32)
        #expect(SparsityPattern.unstructured.nonzeroCount(rows: Int.max, reduction: 2, sparsity: 0.5) > 0)
        #expect(SparsityPattern.unstructured.nonzeroCount(rows: -1, reduction: 2, sparsity: 0.5) == 0)
        #expect(throws: SiftCoreError.self) { try SparsityPattern.nOfM(n: 1, m: 0).validateParameters() }
        #expect(throws: SparseIFTError.self) {
            try SparseIFT.transform(try MLP.build(widths: [8, 8, 2]), kind: .dense, sparsity: 0.5, options: TransformOptions(pattern: .nOfM(n: 1, m: 0)))
        }
        var generator = SeededGenerator(seed: 1)
        for (rows, reduction) in [(-1, 4), (4, 0), (1 << 40, 1 << 40)] {
            #expect(throws: SiftCoreError.self) {
                try MaskSampler.mask(rows: rows, reduction: reduction, sparsity: 0.5, pattern: .unstructured, generator: &generator)
            }
        }
        #expect(throws: SiftCoreError.self) {
            try MaskSampler.mask(rows: 4, reduction: 4, sparsity: 0.5, pattern: .block(rows: 0, columns: 2), generator: &generator)
        }
    }

    @Test func badTransformerMetadataIsRefused() throws {
        var network = try MLP.build(widths: [8, 8, 2])
        network.metadata.transformer = TransformerShape(dModel: 8, heads: 0)
        #expect(throws: SparseIFTError.self) { try SparseIFT.transform(network, kind: .wide, sparsity: 0.5) }
        network.metadata.transformer = TransformerShape(dModel: 0, heads: 1)
        #expect(throws: SparseIFTError.self) { try SparseIFT.transform(network, kind: .wide, sparsity: 0.5) }
        // Table 1's formulas take any sizes without overflowing.
        #expect(Accounting.table1SearchSpace(.factorized, dIn: Int.max, dOut: Int.max, sparsity: 0.5) > 0)
    }

    @Test func mobileNetRefusesBadStages() throws {
        var config = MobileNetV2.Config()
        config.stages = [(1, 16, -1, 1)]
        #expect(throws: SparseIFTError.self) { try MobileNetV2.build(config) }
        config.stages = [(0, 16, 1, 1)]
        #expect(throws: SparseIFTError.self) { try MobileNetV2.build(config) }
    }

    /// Sparse Parallel, Factorized and Doped say when they are not iso-FLOP.
    @Test func notIsoFLOPNotes() throws {
        let dense = try ModelZoo.build("resnet18-cifar")
        let parallel = try SparseIFT.transform(dense, kind: .parallel, sparsity: 0.2)
        #expect(parallel.notes.contains { $0.contains("not iso-FLOP") && $0.contains("1.25") && $0.contains("x0.80") })
        #expect(try SparseIFT.transform(dense, kind: .parallel, sparsity: 0.5).notes.isEmpty)
        // Factorized at 0.9: the ranks are exact, but the 1x1 shortcuts the authors keep as
        // single sparse convs cost 1-s of their FLOPs: just over the 1% threshold, named.
        let factorized = try SparseIFT.transform(dense, kind: .factorized, sparsity: 0.9)
        #expect(factorized.notes.count == 1)
        #expect(factorized.notes[0].contains("not iso-FLOP: the 3 1x1 projection shortcuts stay single sparse convs"))
        #expect(!factorized.notes[0].contains("ranks"))
        #expect(try SparseIFT.transform(dense, kind: .factorized, sparsity: 0.9, options: TransformOptions(transformShortcuts: true))
            .notes == ["--transform-shortcuts: the 1x1 projection shortcuts are transformed too; the authors' ResNets keep each one a single sparse conv + BN"])
        let erk = try SparseIFT.transform(dense, kind: .factorized, sparsity: 0.9, options: TransformOptions(distribution: .erk))
        #expect(erk.notes.contains { $0.contains("ERK") && $0.contains("parameter count") && $0.contains("x2.1") })
        let report = try TransformReport(model: "resnet18-cifar", transformed: parallel).json()
        #expect(report.contains("not iso-FLOP"))
    }

    @Test func parametersMustBeFiniteAndMasksBinary() throws {
        let network = try SparseIFT.transform(try MLP.build(widths: [4, 8, 2]), kind: .dense, sparsity: 0.5).network
        let good = try ParameterStore.initialize(network)
        try good.validate(for: network)
        var nonFinite = good
        nonFinite["fc2.weight"]!.values[0] = .nan
        #expect(throws: SparseIFTError.self) { try nonFinite.validate(for: network) }
        var infinite = good
        infinite["fc1.bias"]!.values[1] = .infinity
        #expect(throws: SparseIFTError.self) { try infinite.validate(for: network) }
        var notBinary = good
        notBinary["fc1.mask"]!.values[0] = 0.5
        #expect(throws: SparseIFTError.self) { try notBinary.validate(for: network) }
    }

    @Test func kernelErrorsArePrefixedOnce() {
        #expect(SparseIFTError(SiftCoreError.io("cannot read x")).description == "I/O error: cannot read x")
        #expect(SparseIFTError(SiftCoreError.malformedFile("x: bad")).description == "malformed file: x: bad")
    }
}
