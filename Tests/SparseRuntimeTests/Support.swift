import Foundation
import SparseIFT
import SparseKernels
@testable import SparseRuntime

/// Networks small enough for the reference execution (plain Swift loops, slow in debug).
enum Small {
    static func resnet(_ variant: ResNet.Variant = .cifar, widths: [Int] = [4, 8, 8, 16], imageSize: Int? = nil) throws -> Network {
        try ResNet.build(ResNet.Config(depth: .resnet18, variant: variant, stageWidths: widths, classes: 10,
                                       imageSize: imageSize ?? (variant == .cifar ? 8 : 32)))
    }

    /// GPT-3-Small-shaped but narrow: 2 pre-LayerNorm blocks of 12 heads, d_ff = 4 d_model, sequence 64.
    static func gpt(dModel: Int = 48, sequence: Int = 64, vocabulary: Int = 50) throws -> Network {
        try GPT.build(GPT.Config(name: "gpt-small-2", dModel: dModel, dFF: 4 * dModel, layers: 2, heads: 12,
                                 vocabulary: vocabulary, sequenceLength: sequence))
    }

    static func mlp() throws -> Network { try MLP.build(widths: [24, 32, 32, 10]) }

    static func mobilenet() throws -> Network {
        var config = MobileNetV2.Config()
        config.imageSize = 16
        config.classes = 6
        config.stemChannels = 8
        config.lastChannels = 32
        config.stages = [(1, 8, 1, 1), (4, 8, 2, 2), (4, 16, 1, 1), (4, 16, 1, 2)]
        return try MobileNetV2.build(config)
    }

    /// A deterministic input: images and vectors in [-1, 1), token ids in range.
    static func input(for network: Network, batch: Int, seed: UInt64 = 7) throws -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let count = batch * network.input.shape.reduce(1, *)
        let values: [Float]
        if case .embedding(let vocabulary, _) = network.nodes[1].op {
            values = (0..<count).map { _ in Float(generator.nextIndex(below: vocabulary)) }
        } else {
            values = (0..<count).map { _ in Float(generator.nextUnit() * 2 - 1) }
        }
        return try Tensor(shape: [batch] + network.input.shape, values: values)
    }
}

/// Builds and runs plans the way the tests need: no plan cache on disk, no thread pinning.
enum Harness {
    /// Two threads split convolution columns per thread, one thread uses shared chunks,
    /// unless a schedule is given: every test running both thread counts covers both.
    static func options(batch: Int, threads: Int = 1, isa: ISA? = nil, forced: KernelFamily? = nil,
                        chunkBytes: Int = RuntimeOptions.defaultChunkBytes, schedule: ConvolutionSchedule? = nil) throws -> RuntimeOptions {
        var options = RuntimeOptions(batchSize: batch, execution: try ExecutionOptions(isa: isa ?? Machine.bestISA, threads: threads),
                                     planCache: PlanCache(path: nil), forcedFamily: forced, bindThreads: false,
                                     convolutionChunkBytes: chunkBytes, timingSecondsPerCandidate: 0)
        options.convolutionSchedule = schedule ?? (threads > 1 ? .perThreadColumns : .sharedChunks)
        return options
    }

    static func parameters(_ network: Network, seed: UInt64 = 3) throws -> ParameterStore {
        try ParameterStore.initialize(network, options: .init(seed: seed, randomizeAffine: true))
    }

    /// Runs the plan and the reference on the same weights and input; returns the largest
    /// error relative to the tolerance (<= 1 passes) and the plan.
    static func compare(_ network: Network, parameters: ParameterStore, input: Tensor, options: RuntimeOptions) throws
        -> (ratio: Double, plan: Plan, output: Tensor) {
        let plan = try Runtime.compile(network, parameters: parameters, options: options)
        let output = try plan.run(input)
        let expected = try ReferenceExecution.run(network, parameters: parameters, input: input)
        let tolerance = Tolerance(network)
        return (tolerance.worstRatio(output.values, expected.values), plan, output)
    }
}
