import Foundation
import Testing
import SparseIFT
import SparseKernels
@testable import SparseRuntime

@Suite(.serialized) struct CompilerTests {
    /// conv → BN → ReLU → conv(bias) → BN, summed with a BatchNorm of the input (which has
    /// no weight layer to fold into) → ReLU.
    static func foldingNetwork() throws -> Network {
        var b = NetworkBuilder()
        let x = try b.add("input", .input(shape: [3, 6, 6]))
        var y = try b.conv("conv1", x, out: 5, kernel: 3, padding: 1)
        y = try b.unary("bn1", .batchNorm, y)
        y = try b.unary("relu1", .relu, y)
        y = try b.conv("conv2", y, out: 3, kernel: 3, padding: 1, bias: true)
        y = try b.unary("bn2", .batchNorm, y)
        let shortcut = try b.unary("bn3", .batchNorm, x)
        y = try b.add("add", .add, inputs: [y, shortcut])
        _ = try b.unary("relu2", .relu, y)
        return try b.build(name: "folding")
    }

    @Test func batchNormFoldsIntoTheLayerBeforeIt() throws {
        let network = try Self.foldingNetwork()
        let parameters = try Harness.parameters(network)
        var graph = try Graph(network, parameters: parameters)
        try graph.foldBatchNorms()
        // bn1 and bn2 are gone into conv1 and conv2; bn3 reads the input and stays.
        let live = graph.nodes.filter { !$0.removed }.map(\.name)
        #expect(!live.contains("bn1") && !live.contains("bn2") && live.contains("bn3"))
        // The folded numbers: W' = W·s per output row, b' = (b - mean)·s + beta.
        for (conv, bn) in [("conv1", "bn1"), ("conv2", "bn2")] {
            guard let node = graph.nodes.first(where: { $0.name == conv }), case .gemm(let layer) = node.op else {
                Issue.record("\(conv) is not a weight layer")
                continue
            }
            #expect(node.fused == [bn])
            let w = parameters["\(conv).weight"]!.values
            let bias = parameters["\(conv).bias"]?.values
            let gamma = parameters["\(bn).weight"]!.values, beta = parameters["\(bn).bias"]!.values
            let mean = parameters["\(bn).running_mean"]!.values, variance = parameters["\(bn).running_var"]!.values
            for row in 0..<layer.outputs {
                let s = Double(gamma[row]) / (Double(variance[row]) + 1e-5).squareRoot()
                for k in 0..<layer.reduction {
                    let expected = Double(w[row * layer.reduction + k]) * s
                    #expect(abs(Double(layer.weights[row * layer.reduction + k]) - expected) <= 1e-6 * abs(expected) + 1e-30)
                }
                let expectedBias = (Double(bias?[row] ?? 0) - Double(mean[row])) * s + Double(beta[row])
                #expect(abs(Double(layer.bias![row]) - expectedBias) <= 1e-5 * max(1, abs(expectedBias)))
            }
        }
        // And the compiled plan computes the network: conv1 with its ReLU, conv2 carrying
        // the sum with bn3's output and the last ReLU, bn3 as a per-channel operator.
        let input = try Small.input(for: network, batch: 2)
        let plan = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: 2))
        let kinds = plan.layers.map(\.kind)
        // conv2 carries bn3's output as its residual, so bn3 runs before it.
        #expect(kinds == ["layout", "conv2d", "batchnorm", "conv2d", "layout"], "\(kinds)")
        #expect(plan.layers.first { $0.name == "conv2" }?.fused.sorted() == ["add", "bn2", "relu2"])
        let expected = try ReferenceExecution.run(network, parameters: parameters, input: input)
        #expect(Tolerance(network).worstRatio(try plan.run(input).values, expected.values) <= 1)
    }

    /// Every BatchNorm of every transformed ResNet and MobileNetV2 folds (Sparse Doped's
    /// BatchNorm after `W_sparse x + V U x` folds into both terms).
    @Test func everyZooBatchNormFolds() throws {
        for dense in [try Small.resnet(), try Small.resnet(.imagenet), try Small.mobilenet()] {
            for kind in TransformKind.allCases {
                let network = try SparseIFT.transform(dense, kind: kind, sparsity: 0.75, options: TransformOptions(matchDenseFLOPs: false)).network
                let plan = try Runtime.compile(network, parameters: try Harness.parameters(network), options: try Harness.options(batch: 1))
                #expect(!plan.layers.contains { $0.kind == "batchnorm" }, "\(network.name) keeps an unfolded BatchNorm")
                // Every add was absorbed into a weight layer's epilogue, except Sparse
                // Parallel's per-branch sums (each branch ends in its own activation).
                let adds = plan.layers.filter { $0.kind == "add" }.count
                #expect(adds == 0 || (kind == .parallel && dense.metadata.parallelActivation == .perBranch), "\(network.name): \(adds) adds \(plan.layers.filter { $0.kind == "add" }.map(\.name))")
            }
        }
    }

    /// Whatever the toolkit's GEMM lowering declares fusable after a product (bias,
    /// BatchNorm, residual add, activation), the runtime fuses: no step of its own computes
    /// it. (The runtime fuses more: chains of sums, BatchNorm through sums; a sum may then
    /// ride another term of the chain than the one the lowering names.)
    @Test func theRuntimeFusesEveryEpilogueTheLoweringDeclares() throws {
        for dense in [try Small.resnet(), try Small.resnet(.imagenet), try Small.mobilenet(), try Small.gpt(), try Small.mlp()] {
            for kind in TransformKind.allCases {
                let network = try SparseIFT.transform(dense, kind: kind, sparsity: 0.5, options: TransformOptions(matchDenseFLOPs: false)).network
                let plan = try Runtime.compile(network, parameters: try Harness.parameters(network), options: try Harness.options(batch: 1))
                let fusedAnywhere = Set(plan.layers.flatMap(\.fused))
                for product in GEMMLowering(network).products where product.kind == .weight {
                    let declared = Set(product.epilogue.absorbedNodes.map { network.nodes[$0].name })
                    guard let step = plan.layers.first(where: { $0.name == product.name }) else {
                        Issue.record("\(network.name): no step computes \(product.name)")
                        continue
                    }
                    #expect(declared.isSubset(of: fusedAnywhere), "\(network.name) \(product.name): \(declared.subtracting(fusedAnywhere)) not fused")
                    if let shape = step.gemmShape {
                        #expect(shape.m == product.M && shape.k == product.K, "\(product.name)")
                    }
                }
            }
        }
    }

    @Test func gptAttentionIsFusedAndActivationsRideTheEpilogue() throws {
        let network = try Small.gpt()
        let plan = try Runtime.compile(network, parameters: try Harness.parameters(network), options: try Harness.options(batch: 1))
        let kinds = plan.layers.map(\.kind)
        #expect(kinds.filter { $0 == "attention" }.count == 2)
        #expect(!kinds.contains("softmax") && !kinds.contains("attention_scores") && !kinds.contains("gelu") && !kinds.contains("add"))
        #expect(plan.layers.first { $0.name == "h.0.mlp.c_fc" }?.fused == ["h.0.mlp.gelu"])
    }

    /// Buffers alive at the same time never share bytes; the arena is no larger than all
    /// buffers side by side and no smaller than what one step needs at once.
    @Test func theArenaNeverOverlapsLiveBuffers() throws {
        for network in [try Small.resnet(), try Small.mobilenet(), try Small.gpt(),
                        try SparseIFT.transform(try Small.resnet(), kind: .parallel, sparsity: 0.9).network] {
            let plan = try Runtime.compile(network, parameters: try Harness.parameters(network), options: try Harness.options(batch: 2))
            let memory = plan.memory
            let size = plan.buffers.map { ($0.floats + 15) / 16 * 16 }
            for a in plan.buffers.indices {
                guard let la = memory.lifetimes[a] else { continue }
                #expect(memory.offsets[a] + size[a] <= memory.totalFloats)
                for b in plan.buffers.indices where b > a {
                    guard let lb = memory.lifetimes[b], la.overlaps(lb) else { continue }
                    let disjoint = memory.offsets[a] + size[a] <= memory.offsets[b] || memory.offsets[b] + size[b] <= memory.offsets[a]
                    #expect(disjoint, "\(plan.buffers[a].label) and \(plan.buffers[b].label) overlap in time and space")
                }
            }
            #expect(memory.totalFloats <= size.reduce(0, +))
            for (index, step) in plan.steps.enumerated() {
                let touched = Set(step.reads + [step.writes] + step.scratch).filter { $0 >= 0 }
                #expect(touched.reduce(0) { $0 + size[$1] } <= memory.totalFloats, "step \(index)")
                #expect(touched.allSatisfy { memory.lifetimes[$0]?.contains(index) ?? false })
            }
            // Reuse is real: the arena is smaller than every value kept for the whole run.
            #expect(memory.totalFloats < size.reduce(0, +))
        }
    }

    @Test func aPlanAboveTheMemoryLimitIsRefusedBeforeAllocating() throws {
        let network = try Small.resnet()
        let parameters = try Harness.parameters(network)
        var options = try Harness.options(batch: 64)
        let plan = try Runtime.compile(network, parameters: parameters, options: options)
        options.memoryLimitBytes = plan.peakMemoryBytes / 2
        #expect {
            _ = try Runtime.compile(network, parameters: parameters, options: options)
        } throws: { error in
            guard case RuntimeError.memoryLimit(let message) = error else { return false }
            return message.contains("above the limit")
        }
        options.memoryLimitBytes = plan.peakMemoryBytes + plan.weightBytes
        _ = try Runtime.compile(network, parameters: parameters, options: options)
    }
}
