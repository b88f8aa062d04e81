import Foundation
import SparseIFT
import SparseKernels

/// One row of a plan's description: a step, what it computes and on which kernel.
public struct PlanLayer: Sendable {
    public let index: Int
    /// The IR node the step computes, and the IR nodes fused into it.
    public let name: String
    public let fused: [String]
    public let kind: String
    public let kernel: String
    /// `M x K x N` of each kernel call (weight layers only).
    public let gemmShape: (m: Int, k: Int, n: Int)?
    /// Kernel calls per run (im2col chunks times groups).
    public let calls: Int
    public let nonzeroFLOPs: Double
    public let denseFLOPs: Double
    public let choice: KernelChoice?
}

/// A compiled network: steps, the arena they run in, and the prepared weights. Built by
/// `Runtime.compile`; `run` executes one batch. A plan runs one batch at a time (its
/// arena is reused): concurrent calls wait for each other.
public final class Plan: @unchecked Sendable {
    public let network: Network
    public let batchSize: Int
    public let execution: ExecutionOptions
    /// `[batch] + input shape` and `[batch] + output shape`.
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// Peak activation memory: the arena (every value, im2col chunk and score buffer).
    public let peakMemoryBytes: Int
    /// Bytes of the prepared weights (all formats' values, indices and pointers).
    public let weightBytes: Int
    /// Weight layers whose kernel was timed in this build, and those that reused a cached
    /// (or earlier identical) decision.
    public let timedLayers: Int
    public let cachedLayers: Int
    /// Seconds spent building the plan (including kernel timing), and by phase.
    public let compileSeconds: Double
    public let compilePhases: [(name: String, seconds: Double)]
    /// Things the caller should show the user (an untrusted plan cache...).
    public let warnings: [String]
    /// Where the kernels' blockings came from: "tuned parameters (file)" or "default
    /// parameters (why)" (`TuningSession.Source`).
    public let kernelTuning: String
    public let layers: [PlanLayer]

    let steps: [Step]
    let memory: MemoryPlan
    let buffers: [BufferSpec]
    private let arena: UnsafeMutableRawPointer
    private let running = NSLock()
    /// Vocabulary size when the input is token ids (they are validated against it).
    private let vocabulary: Int?

    init(network: Network, batchSize: Int, execution: ExecutionOptions, steps: [Step], buffers: [BufferSpec],
         memory: MemoryPlan, arena: UnsafeMutableRawPointer, weightBytes: Int, timedLayers: Int, cachedLayers: Int,
         compileSeconds: Double, compilePhases: [(String, Double)], warnings: [String], kernelTuning: String, vocabulary: Int?) {
        self.network = network
        self.batchSize = batchSize
        self.execution = execution
        self.inputShape = [batchSize] + network.input.shape
        self.outputShape = [batchSize] + network.output.shape
        self.steps = steps
        self.buffers = buffers
        self.memory = memory
        self.arena = arena
        self.peakMemoryBytes = memory.totalBytes
        self.weightBytes = weightBytes
        self.timedLayers = timedLayers
        self.cachedLayers = cachedLayers
        self.compileSeconds = compileSeconds
        self.compilePhases = compilePhases.map { (name: $0.0, seconds: $0.1) }
        self.warnings = warnings
        self.kernelTuning = kernelTuning
        self.vocabulary = vocabulary
        self.layers = steps.enumerated().map { index, step in
            guard let gemm = step as? GemmStep else {
                return PlanLayer(index: index, name: step.node, fused: step.fused, kind: step.kind, kernel: step.kernel,
                                 gemmShape: nil, calls: 1, nonzeroFLOPs: step.work.nonzeroFLOPs,
                                 denseFLOPs: step.work.denseFLOPs, choice: nil)
            }
            let chunks = (gemm.columns + gemm.callColumns - 1) / gemm.callColumns
            return PlanLayer(index: index, name: step.node, fused: step.fused, kind: step.kind, kernel: step.kernel,
                             gemmShape: (gemm.rowsPerGroup, gemm.reduction, gemm.callColumns), calls: chunks * gemm.groups,
                             nonzeroFLOPs: step.work.nonzeroFLOPs, denseFLOPs: step.work.denseFLOPs, choice: gemm.choices.first)
        }
    }

    deinit { free(arena) }

    /// Runs one batch: `input` of shape `[batch] + network input shape` (token ids as
    /// integral floats for GPT), returns `[batch] + output shape`.
    public func run(_ input: Tensor) throws -> Tensor {
        try validate(input)
        var output = [Float](repeating: 0, count: outputShape.reduce(1, *))
        try input.values.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                try execute(x.baseAddress!, y.baseAddress!, stepSeconds: nil)
            }
        }
        return try Tensor(shape: outputShape, values: output)
    }

    /// Checks an input before it reaches any kernel: shape, finiteness, token ids.
    public func validate(_ input: Tensor) throws {
        guard input.shape == inputShape else {
            throw RuntimeError.invalidInput("the input has shape \(input.shape); this plan runs \(inputShape) (batch \(batchSize))")
        }
        if let bad = input.values.firstIndex(where: { !$0.isFinite }) {
            throw RuntimeError.invalidInput("the input has the non-finite value \(input.values[bad]) at index \(bad)")
        }
        if let vocabulary,
           let bad = input.values.firstIndex(where: { $0 < 0 || $0 >= Float(vocabulary) || $0 != $0.rounded() }) {
            throw RuntimeError.invalidInput("token id \(input.values[bad]) at index \(bad) is not an integer in 0..<\(vocabulary)")
        }
    }

    /// Runs every step; `stepSeconds`, when given, accumulates each step's wall time.
    func execute(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                 stepSeconds: UnsafeMutablePointer<Double>?) throws {
        running.lock()
        defer { running.unlock() }
        let context = ExecutionContext(arena: arena.assumingMemoryBound(to: Float.self), offsets: memory.offsets,
                                       isa: execution.isa, threads: execution.threads, userInput: input, userOutput: output)
        guard let stepSeconds else {
            for step in steps { try step.run(context) }
            return
        }
        var previous = Clock.now()
        for (index, step) in steps.enumerated() {
            try step.run(context)
            let now = Clock.now()
            stepSeconds[index] += now - previous
            previous = now
        }
    }
}

extension Plan {
    /// A deterministic input of the plan's shape for benchmarks: values uniform in [-1, 1)
    /// (images, vectors) or token ids uniform over the vocabulary.
    public func syntheticInput(seed: UInt64 = 0) -> Tensor {
        var generator = SeededGenerator(seed: seed, stream: "sift run input")
        let count = inputShape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for index in values.indices {
            if let vocabulary {
                values[index] = Float(generator.nextIndex(below: vocabulary))
            } else {
                values[index] = Float(generator.nextUnit() * 2 - 1)
            }
        }
        // The shape is the plan's own, so the count always matches.
        return (try? Tensor(shape: inputShape, values: values)) ?? Tensor(zeros: inputShape)
    }
}
