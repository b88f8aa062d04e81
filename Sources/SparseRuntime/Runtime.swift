import Foundation
import SparseIFT
import SparseKernels

/// How a convolution's im2col blocks are shared between threads (`GemmStep`).
public enum ConvolutionSchedule: String, Sendable, CaseIterable {
    /// Per-thread columns when every thread gets enough of them, else shared chunks.
    case automatic
    /// Each thread copies and multiplies its own columns (one-thread kernel calls).
    case perThreadColumns
    /// One multi-threaded kernel call per im2col chunk.
    case sharedChunks
}

/// The kernel tuning a plan uses.
public enum TuningUse: Sendable {
    /// The kernels' defaults.
    case none
    /// This machine's record in the tuning file (nil: `TuningFile.defaultPath()`), when it
    /// has one for this CPU, ISA and thread count (`sift kernels tune`); else the defaults.
    /// Never starts a search; `SIFT_TUNING=defaults` means the defaults.
    case machine(file: String?)
    /// This record (tests, studies).
    case given(KernelTuning)
}

/// How to compile a network.
public struct RuntimeOptions: Sendable {
    /// Samples per run; every buffer and kernel shape is sized for it.
    public var batchSize: Int
    public var execution: ExecutionOptions
    /// Refuse plans whose activation arena plus prepared weights exceed this many bytes.
    public var memoryLimitBytes: Int?
    /// Where kernel decisions are read and written (nil: time every layer, keep nothing).
    public var planCache: PlanCache?
    /// Time every layer again, replacing the cached decisions.
    public var retune: Bool
    /// Run every weight layer on this family where its weights allow (tests, studies).
    public var forcedFamily: KernelFamily?
    /// Pin the OpenMP threads to cores with hwloc.
    public var bindThreads: Bool
    /// Bytes of one thread's im2col block (see `Lowering.chunkBytes`).
    public var convolutionChunkBytes: Int
    /// Seconds of timing per kernel candidate (at least 3 calls are always timed).
    public var timingSecondsPerCandidate: Double
    public var convolutionSchedule: ConvolutionSchedule = .automatic
    /// Which kernel tuning (blockings for every candidate kernel, the CSR K block) the
    /// plan's kernels run with.
    public var tuning: TuningUse = .machine(file: nil)

    public static let maxBatchSize = 1 << 20
    /// Half the L2 of a core as hwloc reports it (512 KiB when it reports none): the block
    /// a thread copies and then multiplies stays in its L2 with room for the weights.
    public static var defaultChunkBytes: Int {
        let l2 = Machine.topology.l2Bytes
        return l2 > 0 ? l2 / 2 : 512 << 10
    }

    public init(batchSize: Int, execution: ExecutionOptions, memoryLimitBytes: Int? = nil, planCache: PlanCache? = nil,
                retune: Bool = false, forcedFamily: KernelFamily? = nil, bindThreads: Bool = true,
                convolutionChunkBytes: Int = RuntimeOptions.defaultChunkBytes, timingSecondsPerCandidate: Double = 0.05) {
        self.batchSize = batchSize
        self.execution = execution
        self.memoryLimitBytes = memoryLimitBytes
        self.planCache = planCache
        self.retune = retune
        self.forcedFamily = forcedFamily
        self.bindThreads = bindThreads
        self.convolutionChunkBytes = convolutionChunkBytes
        self.timingSecondsPerCandidate = timingSecondsPerCandidate
    }
}

/// The runtime's entry point: compiles a network and its weights into a `Plan`.
public enum Runtime {
    /// Passes, in order: BatchNorm folding, attention fusion, sum flattening, residual-add and activation
    /// fusion into epilogues, scheduling, lowering to steps, memory planning (refused
    /// above the limit before anything is allocated), kernel choice per weight layer
    /// (timed, or from the plan cache), then the arena.
    public static func compile(_ network: Network, parameters: ParameterStore, options: RuntimeOptions) throws -> Plan {
        let start = Clock.now()
        var phases: [(String, Double)] = []
        var phaseStart = start
        func phase(_ name: String) {
            let now = Clock.now()
            phases.append((name, now - phaseStart))
            phaseStart = now
        }
        guard (1...RuntimeOptions.maxBatchSize).contains(options.batchSize) else {
            throw RuntimeError.invalidArgument("batch size must be in 1...\(RuntimeOptions.maxBatchSize), got \(options.batchSize)")
        }
        if let limit = options.memoryLimitBytes, limit <= 0 {
            throw RuntimeError.invalidArgument("the memory limit must be positive, got \(limit) bytes")
        }
        do {
            try parameters.validate(for: network)
        } catch {
            throw RuntimeError.invalidInput("weights do not fit \(network.name): \(RuntimeError(error).message)")
        }
        var warnings = options.planCache?.warnings ?? []
        let (execution, kernelTuning) = try resolveTuning(options, warnings: &warnings)
        phase("validate weights, read tuning")
        var graph = try Graph(network, parameters: parameters)
        phase("attach weights")
        try graph.foldBatchNorms()
        graph.fuseAttention()
        graph.flattenSums()
        graph.fuseResidualAdds()
        graph.fuseActivations()
        let order = try graph.schedule()
        phase("fold and fuse")

        let threads = options.execution.threads
        var lowering = Lowering(graph: graph, batch: options.batchSize, threads: threads,
                                chunkBytes: max(1, options.convolutionChunkBytes), schedule: options.convolutionSchedule)
        try lowering.lower(order: order)
        let memory = MemoryPlanner.plan(buffers: lowering.buffers, steps: lowering.steps)
        try checkMemory(arena: memory.totalBytes, weights: 0, limit: options.memoryLimitBytes, network: network, batch: options.batchSize)
        phase("lower and plan memory")

        let selector = KernelSelector(machine: .current(options.execution), forced: options.forcedFamily,
                                      cache: options.planCache, retune: options.retune,
                                      secondsPerCandidate: max(0, options.timingSecondsPerCandidate), tuning: execution.tuning)
        var weightBytes = 0
        for (step, layer) in lowering.pending {
            let perGroup = step.rowsPerGroup * step.reduction
            var nonzeros = 0
            for g in 0..<step.groups {
                try layer.weights.withUnsafeBufferPointer { all in
                    let slice = UnsafeBufferPointer(rebasing: all[(g * perGroup)..<((g + 1) * perGroup)])
                    let structure = try WeightStructure.detect(slice, rows: step.rowsPerGroup, columns: step.reduction,
                                                               declared: layer.declared.pattern)
                    let (choice, prepared) = try selector.select(slice, structure: structure, columns: step.callColumns,
                                                                 threads: step.callThreads(threads))
                    step.kernels.append(prepared)
                    step.choices.append(choice)
                    nonzeros += structure.nonzeros
                    weightBytes += prepared.storageBytes
                }
            }
            step.work.nonzeroFLOPs = 2 * Double(nonzeros) * Double(step.columns)
            do {
                var callOptions = try ExecutionOptions(isa: options.execution.isa, threads: step.callThreads(threads))
                callOptions.tuning = execution.tuning
                step.callOptions = callOptions
            } catch {
                throw RuntimeError(error)
            }
        }
        phase("choose and prepare kernels")
        for step in lowering.steps {
            if let depthwise = step as? DepthwiseStep { weightBytes += depthwise.weights.count * MemoryLayout<Float>.size }
        }
        try checkMemory(arena: memory.totalBytes, weights: weightBytes, limit: options.memoryLimitBytes, network: network,
                        batch: options.batchSize)

        do {
            try options.planCache?.save()
        } catch {
            warnings.append("could not save the plan cache: \(RuntimeError(error).message)")
        }
        guard let arena = aligned_alloc(64, max(64, memory.totalBytes)) else {
            throw RuntimeError.memoryLimit("cannot allocate the \(memory.totalBytes)-byte activation arena")
        }
        if options.bindThreads { Machine.bindThreads(threads) }
        phase("save cache, allocate, bind")
        var vocabulary: Int?
        if graph.tokenInput, let embedding = network.nodes.first(where: { if case .embedding = $0.op { true } else { false } }),
           case .embedding(let size, _) = embedding.op {
            vocabulary = size
        }
        return Plan(network: network, batchSize: options.batchSize, execution: execution, steps: lowering.steps,
                    buffers: lowering.buffers, memory: memory, arena: arena, weightBytes: weightBytes,
                    timedLayers: selector.timedLayers, cachedLayers: selector.cachedLayers,
                    compileSeconds: Clock.now() - start, compilePhases: phases, warnings: warnings, kernelTuning: kernelTuning,
                    vocabulary: vocabulary)
    }

    /// The execution options with this machine's kernel tuning, if asked for and a tuning
    /// file has a record for it (no search), and what was used, for the user.
    private static func resolveTuning(_ options: RuntimeOptions, warnings: inout [String]) throws -> (ExecutionOptions, String) {
        var execution = options.execution
        let path: String?
        switch options.tuning {
        case .none:
            execution.tuning = nil
            return (execution, "default parameters (tuning not used)")
        case .given(let record):
            do {
                try record.validate()
            } catch {
                throw RuntimeError(error)
            }
            execution.tuning = record
            return (execution, "tuned parameters (given)")
        case .machine(let file):
            path = file
        }
        let log = MessageLog()
        do {
            let (tuned, source) = try TuningSession.resolve(options.execution, path: path, searchIfMissing: false,
                                                            warn: { log.append($0) })
            warnings += log.messages.map { $0.hasPrefix("warning: ") ? String($0.dropFirst(9)) : $0 }
            return (tuned, source.description)
        } catch {
            throw RuntimeError(error)
        }
    }

    private static func checkMemory(arena: Int, weights: Int, limit: Int?, network: Network, batch: Int) throws {
        let total = arena + weights
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        func size(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }
        if let limit, total > limit {
            throw RuntimeError.memoryLimit(
                "\(network.name) at batch \(batch) needs \(size(total)) (activations \(size(arena))\(weights > 0 ? ", weights \(size(weights))" : ", weights not yet counted")), above the limit of \(size(limit))")
        }
        if physical > 0, total > physical {
            throw RuntimeError.memoryLimit(
                "\(network.name) at batch \(batch) needs \(size(total)) of memory; this machine has \(size(physical))")
        }
    }
}

extension RuntimeError {
    /// The message without the category prefix.
    var message: String {
        switch self {
        case .invalidArgument(let m), .invalidInput(let m), .unsupported(let m), .memoryLimit(let m), .io(let m): m
        }
    }
}

/// Collects the messages a `@Sendable` callback reports.
private final class MessageLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var messages: [String] { lock.withLock { lines } }
}
