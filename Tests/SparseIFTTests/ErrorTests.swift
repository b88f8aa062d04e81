import Testing
@testable import SparseIFT

@Suite struct ErrorTests {
    @Test func unknownModel() {
        #expect(throws: SparseIFTError.self) { try ModelZoo.build("resnet50") }
    }

    @Test func unknownTransform() {
        #expect(throws: SparseIFTError.self) { try TransformKind(parsing: "deep") }
    }

    @Test(arguments: [-0.1, 1.0, 1.5, Double.nan, Double.infinity])
    func sparsityOutsideTheRange(s: Double) throws {
        let network = try Small.mlp()
        #expect(throws: SparseIFTError.self) { try SparseIFT.transform(network, kind: .wide, sparsity: s) }
        var generator = SeededGenerator(seed: 1)
        #expect(throws: SiftCoreError.self) {
            try MaskSampler.mask(rows: 4, reduction: 4, sparsity: s, pattern: .unstructured, generator: &generator)
        }
    }

    /// Any layer takes any pattern: the edges are ragged (short last N:M group, clipped
    /// blocks), so a 2:4 on K = 6 or 3x4 blocks on an 8x6 layer are accepted and counted.
    @Test func patternsApplyToLayersTheyDoNotTile() throws {
        let network = try MLP.build(widths: [6, 8, 3])
        let nm = try SparseIFT.transform(network, kind: .dense, sparsity: 0.5, options: TransformOptions(pattern: .nOfM(n: 2, m: 4)))
        // fc1: 8 rows of K = 6: one full group (2 kept) and a short group of 2 (1 kept).
        #expect(Accounting.account(nm.network).layers.first { $0.name == "fc1" }?.nonzeroWeights == 8 * 3)
        let block = try SparseIFT.transform(network, kind: .dense, sparsity: 0.5, options: TransformOptions(pattern: .block(rows: 3, columns: 4)))
        // fc1 is 8x6: blocks 3x4 (2), 3x2 (2), 2x4 (1), 2x2 (1); round(half) of each shape kept
        // (a lone edge block rounds up: 0.5 -> 1).
        #expect(Accounting.account(block.network).layers.first { $0.name == "fc1" }?.nonzeroWeights == 12 + 6 + 8 + 4)
    }

    /// A pattern no specialised kernel runs is accepted, and the notes say so.
    @Test func patternsWithoutAKernelAreNoted() throws {
        let network = try MLP.build(widths: [64, 64, 64, 10])
        let nm = try SparseIFT.transform(network, kind: .dense, sparsity: 1 - 2.0 / 32, options: TransformOptions(pattern: .nOfM(n: 2, m: 32)))
        #expect(nm.notes.contains { $0.contains("2:32") && $0.contains("CSR or dense") })
        let block = try SparseIFT.transform(network, kind: .parallel, sparsity: 0.5, options: TransformOptions(pattern: .block(rows: 64, columns: 64)))
        #expect(block.notes.contains { $0.contains("64x64") && $0.contains("CSR or dense") })
        let supported = try SparseIFT.transform(network, kind: .parallel, sparsity: 0.5, options: TransformOptions(pattern: .block(rows: 16, columns: 16)))
        #expect(!supported.notes.contains { $0.contains("CSR or dense") })
    }

    @Test func nOfMSparsityMustMatchThePattern() throws {
        let network = try Small.mlp()
        #expect(throws: SparseIFTError.self) {
            try SparseIFT.transform(network, kind: .parallel, sparsity: 0.9, options: TransformOptions(pattern: .nOfM(n: 2, m: 4)))
        }
    }

    @Test func badShapesAreRefused() {
        var builder = NetworkBuilder()
        #expect(throws: SparseIFTError.self) { try builder.add("x", .relu) }
        let input = try! builder.add("input", .input(shape: [3, 8, 8]))
        #expect(throws: SparseIFTError.self) {
            try builder.add("conv", .conv2d(Conv2dSpec(inChannels: 4, outChannels: 8, kernel: 3)), inputs: [input])
        }
        #expect(throws: SparseIFTError.self) {
            try builder.add("conv", .conv2d(Conv2dSpec(inChannels: 3, outChannels: 8, kernel: 9)), inputs: [input])
        }
        #expect(throws: SparseIFTError.self) { try MLP.build(widths: [5]) }
        #expect(throws: SparseIFTError.self) { try GPT.build(GPT.Config(name: "g", dModel: 10, dFF: 40, layers: 1, heads: 3)) }
        #expect(throws: SparseIFTError.self) { try ModelZoo.build("gpt3-small", options: ModelZoo.Options(sequenceLength: 0)) }
    }
}
