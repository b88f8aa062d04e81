import SiftCore
import SparseIFT
import Testing
@testable import DataflowSim

/// Horizontal fusion: weight products that read the same activation, stacked along M.
@Suite("Horizontal fusion of products that share an input")
struct FusionTests {
    func gpt() throws -> Network {
        try GPT.build(GPT.Config(name: "gpt-tiny", dModel: 64, dFF: 256, layers: 2, heads: 4, vocabulary: 512, sequenceLength: 32))
    }

    func mlp() throws -> Network {
        try ModelZoo.build("mlp", options: ModelZoo.Options(mlpWidths: [64, 128, 128, 10]))
    }

    @Test func gptQKVBecomeOneProductPerLayer() throws {
        let lowered = Lowering.lower(try gpt())
        let fused = Lowering.fuseSharedInputs(lowered)
        let stacks = fused.products.filter { !$0.members.isEmpty }
        #expect(stacks.count == 2)
        for stack in stacks {
            #expect(stack.members.map(\.node).map { $0.split(separator: ".").last.map(String.init) ?? "" } == ["q_proj", "k_proj", "v_proj"])
            #expect(stack.M == 3 * 64 && stack.K == 64)
            #expect(stack.node.hasSuffix("q_proj+k_proj+v_proj"))
        }
        // Nothing lost: the same multiply-adds, two products fewer per layer, steps in order.
        #expect(fused.products.reduce(0) { $0 + $1.denseMACs } == lowered.products.reduce(0) { $0 + $1.denseMACs })
        #expect(fused.products.count == lowered.products.count - 4)
        #expect(fused.steps.count == lowered.steps.count - 4)
        #expect(fused.operations == lowered.operations)
    }

    @Test func parallelBranchesAndDopedPathsAreStacked() throws {
        let parallel = try SparseIFT.transform(try mlp(), kind: .parallel, sparsity: 0.75)
        let lowered = Lowering.fuseSharedInputs(Lowering.lower(parallel.network))
        let stacks = lowered.products.filter { !$0.members.isEmpty }
        #expect(!stacks.isEmpty)
        for stack in stacks {
            #expect(stack.members.allSatisfy { $0.node.contains(".branch") })
            #expect(stack.isSparse)
        }
        // Every branch's sum stays non-matmul work.
        #expect(lowered.operations.contains { $0.node.hasSuffix(".sum") && $0.kind == .elementwise })

        let doped = try SparseIFT.transform(try mlp(), kind: .doped, sparsity: 0.75)
        let dopedLowered = Lowering.fuseSharedInputs(Lowering.lower(doped.network))
        let pairs = dopedLowered.products.filter { !$0.members.isEmpty }
        #expect(!pairs.isEmpty)
        for pair in pairs {
            // The sparse W and its dense low-rank U read the same input; V reads U.
            #expect(pair.members.count == 2 && pair.members[1].node.hasSuffix(".U"))
            #expect(pair.members[0].isSparse && !pair.members[1].isSparse)
        }
        #expect(dopedLowered.products.contains { $0.node.hasSuffix(".V") && $0.members.isEmpty })
    }

    @Test func aStackedMaskIsItsMembersMasks() throws {
        let doped = try SparseIFT.transform(try mlp(), kind: .doped, sparsity: 0.75)
        let lowered = Lowering.fuseSharedInputs(Lowering.lower(doped.network))
        let pair = try #require(lowered.products.first { !$0.members.isEmpty })
        let stacked = try #require(try MaskSource.mask(of: pair, seed: 4))
        let sparse = try #require(try MaskSource.mask(of: pair.members[0], seed: 4))
        #expect(stacked.rows == pair.M && stacked.columns == pair.K)
        for row in 0..<sparse.rows {
            #expect(stacked.count(row: row, from: 0, to: pair.K) == sparse.count(row: row, from: 0, to: pair.K))
            #expect(stacked.contains(row: row, column: row % pair.K) == sparse.contains(row: row, column: row % pair.K))
        }
        for row in sparse.rows..<stacked.rows { #expect(stacked.count(row: row, from: 0, to: pair.K) == pair.K) }
        #expect(stacked.nonzeros == sparse.nonzeros + pair.members[1].M * pair.K)
    }

    @Test func fusionSavesSetupsAndKeepsTheWork() throws {
        let machine = try machine("research-mesh")
        let parallel = try SparseIFT.transform(try mlp(), kind: .parallel, sparsity: 0.75)
        func run(_ fuse: Bool) throws -> NetworkReport {
            try NetworkSimulation.run(NetworkRequest(model: "mlp", transformed: parallel, batch: 8, fuseSharedInputs: fuse),
                                      machine: machine).report
        }
        let fused = try run(true)
        let separate = try run(false)
        #expect(fused.fuseSharedInputs && !separate.fuseSharedInputs)
        #expect(abs(fused.trainingMACs - separate.trainingMACs) < 1e-9 * separate.trainingMACs)
        #expect(fused.layers.filter { $0.pass == .forward && $0.effectiveMACs != nil }.count
                < separate.layers.filter { $0.pass == .forward && $0.effectiveMACs != nil }.count)
        #expect(fused.breakdown.fixedOverhead < separate.breakdown.fixedOverhead)
        #expect(fused.cycles < separate.cycles)
        #expect(fused.notes.contains { $0.hasPrefix("horizontal fusion") })
        // The same non-matmul work (each branch's epilogue, the sums).
        #expect(abs(fused.breakdown.nonMatmul - separate.breakdown.nonMatmul) < 1e-6 * max(1, separate.breakdown.nonMatmul))
    }

    @Test func aFusedLayerCanBeTraced() throws {
        let parallel = try SparseIFT.transform(try mlp(), kind: .parallel, sparsity: 0.75)
        let run = try NetworkSimulation.run(NetworkRequest(model: "mlp", transformed: parallel, batch: 4, traceLayer: "fc2.branch1",
                                                           compareWithDense: false), machine: try machine("research-mesh"))
        #expect(run.regionTimelineProduct.contains("fc2.branch0+branch1"))
    }

    @Test func pipelinedExecutionRunsFusedStages() throws {
        let parallel = try SparseIFT.transform(try mlp(), kind: .parallel, sparsity: 0.75)
        let report = try NetworkSimulation.run(NetworkRequest(model: "mlp", transformed: parallel, batch: 4, execution: .pipelined,
                                                              activationSparsity: .fixed(0.5), compareWithDense: false),
                                               machine: try machine("research-mesh")).report
        let stacked = try #require(report.layers.first { $0.name.hasPrefix("fc2.branch0+") && $0.pass == .forward })
        #expect(stacked.skippedZeroFraction ?? 0 > 0.3)
    }
}
