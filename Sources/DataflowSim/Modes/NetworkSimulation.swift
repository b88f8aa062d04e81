import Foundation
import SparseIFT

public enum Execution: String, Sendable, Hashable, Codable, CaseIterable {
    case weightStreaming = "weight-streaming"
    case pipelined
}

/// Where the zeros of the activations come from in pipelined execution.
public enum ActivationSparsitySetting: Sendable, Hashable {
    /// This fraction of every ReLU output is zero (0: none skipped).
    case fixed(Double)
    /// Measured: the fraction of zeros each ReLU produces in a reference forward pass of the
    /// network with its seeded weights on one seeded random input.
    case measured
}

public struct NetworkRequest: Sendable {
    public var model: String
    public var transformed: TransformedNetwork
    public var batch: Int
    public var execution: Execution
    public var mode: SimulationMode
    public var activationSparsity: ActivationSparsitySetting
    public var seed: UInt64
    /// The layer whose product the region timeline shows (default: the slowest product).
    public var traceLayer: String?
    public var compareWithDense: Bool
    public var progress: (@Sendable (String) -> Void)?

    public init(model: String, transformed: TransformedNetwork, batch: Int = 1, execution: Execution = .weightStreaming,
                mode: SimulationMode = .cycle, activationSparsity: ActivationSparsitySetting = .fixed(0), seed: UInt64 = 0,
                traceLayer: String? = nil, compareWithDense: Bool = true, progress: (@Sendable (String) -> Void)? = nil) {
        self.model = model
        self.transformed = transformed
        self.batch = batch
        self.execution = execution
        self.mode = mode
        self.activationSparsity = activationSparsity
        self.seed = seed
        self.traceLayer = traceLayer
        self.compareWithDense = compareWithDense
        self.progress = progress
    }

    public static let maximumBatch = 1 << 20
}

/// A network's simulated training step, with its timelines.
public struct NetworkRun: Sendable {
    public let report: NetworkReport
    public let stepTimeline: [StepSpanRecord]
    public let regionTimeline: [RegionSpanRecord]
    public let regionTimelineProduct: String
}

/// One span of the step timeline (a product or an operation, in execution order).
public struct StepSpanRecord: Sendable {
    public let name: String
    public let pass: Pass
    public let category: String
    public let start: Double
    public let cycles: Double
}

/// One span of a core's cycle-level timeline.
public struct RegionSpanRecord: Sendable {
    public let row: Int
    public let column: Int
    public let kind: String
    public let group: Int
    public let start: Int64
    public let end: Int64
}

/// What both executions return for one network.
struct StepOutcome: Sendable {
    var cycles: Double
    var breakdown: Breakdown
    var rows: [NetworkReport.Row]
    var trainingMACs: Double
    var spans: [(name: String, pass: Pass, category: String, cycles: Double)]
    var regionTimeline: [TimelineSpan]
    var regionTimelineProduct: String
    var simulatedCycles: Double
    var events: Int
    var notes: [String]
    var activationNote: String?
    var fidelityNote: String
}

public enum NetworkSimulation {
    public static let formatVersion = 1

    public static func run(_ request: NetworkRequest, machine: DataflowMachine) throws -> NetworkRun {
        var baseline: StepOutcome?
        return try run(request, machine: machine, denseBaseline: &baseline)
    }

    /// As `run`, reusing `denseBaseline` when given and filling it otherwise (a sweep
    /// simulates the dense network once).
    static func run(_ request: NetworkRequest, machine: DataflowMachine, denseBaseline cached: inout StepOutcome?) throws -> NetworkRun {
        guard request.batch >= 1, request.batch <= NetworkRequest.maximumBatch else {
            throw SimulatorError.invalidArgument("--batch-size must be in 1...\(NetworkRequest.maximumBatch), got \(request.batch)")
        }
        if case .fixed(let value) = request.activationSparsity, value.isNaN || value < 0 || value >= 1 {
            throw SimulatorError.invalidArgument("--activation-sparsity must be in [0, 1) or 'measured', got \(value)")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let transformed = request.transformed
        let network = transformed.network
        let sparse = try step(network, request: request, machine: machine, label: "", traceLayer: request.traceLayer)
        let isDense = transformed.kind == .dense && transformed.sparsity == 0
        var dense: StepOutcome?
        if request.compareWithDense {
            if isDense {
                dense = sparse
            } else if let cached {
                dense = cached
            } else {
                dense = try step(transformed.dense, request: request, machine: machine, label: "dense baseline: ", traceLayer: nil)
            }
            cached = dense
        }
        let wall = clock.now - start
        let clockHz = machine.config.clockHz
        let seconds = sparse.cycles / clockHz
        let peak = machine.config.peakMACsPerSecond
        let denseBaseline = dense.map {
            NetworkReport.DenseBaseline(network: transformed.dense.name, cycles: $0.cycles, seconds: $0.cycles / clockHz,
                                        samplesPerSecond: Double(request.batch) / ($0.cycles / clockHz),
                                        trainingMACs: $0.trainingMACs, breakdown: $0.breakdown)
        }
        let sequence = network.metadata.transformer != nil ? network.input.shape.first : nil
        let stats = SimulatorStats(wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18,
                                   simulatedCycles: sparse.simulatedCycles + (isDense ? 0 : dense?.simulatedCycles ?? 0),
                                   events: sparse.events + (isDense ? 0 : dense?.events ?? 0))
        let report = NetworkReport(
            formatVersion: formatVersion, model: request.model, network: network.name, transform: transformed.kind.rawValue,
            requestedSparsity: transformed.requestedSparsity, sparsity: transformed.sparsity,
            pattern: transformed.sparsity > 0 ? transformed.options.pattern.description : "dense", base: transformed.base,
            batchSize: request.batch, sequenceLength: sequence, execution: request.execution.rawValue, mode: request.mode,
            config: machine.config.name, seed: request.seed, cycles: sparse.cycles, seconds: seconds, stepSeconds: seconds,
            samplesPerSecond: Double(request.batch) / seconds,
            speedupVsDense: dense.map { $0.cycles / sparse.cycles },
            idealSpeedup: dense.map { $0.trainingMACs / sparse.trainingMACs },
            breakdown: sparse.breakdown, utilisation: sparse.trainingMACs / (seconds * peak), trainingMACs: sparse.trainingMACs,
            dense: denseBaseline, activationSparsity: sparse.activationNote, layers: sparse.rows,
            fidelityNote: sparse.fidelityNote, notes: transformed.notes + sparse.notes, simulator: stats)
        var time = 0.0
        var spans: [StepSpanRecord] = []
        for span in sparse.spans {
            spans.append(StepSpanRecord(name: span.name, pass: span.pass, category: span.category, start: time, cycles: span.cycles))
            time += span.cycles
        }
        let region = sparse.regionTimeline.map {
            RegionSpanRecord(row: $0.row, column: $0.column, kind: $0.kind.rawValue, group: $0.group, start: $0.start, end: $0.end)
        }
        return NetworkRun(report: report, stepTimeline: spans, regionTimeline: region, regionTimelineProduct: sparse.regionTimelineProduct)
    }

    static func step(_ network: Network, request: NetworkRequest, machine: DataflowMachine, label: String,
                     traceLayer: String?) throws -> StepOutcome {
        let lowered = Lowering.lower(network)
        if let traceLayer, !lowered.products.contains(where: { $0.node == traceLayer }) {
            let names = lowered.products.map(\.node)
            throw SimulatorError.invalidArgument(
                "--trace-layer \(traceLayer) is not a matrix product of \(network.name); its products include \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", ..." : "")")
        }
        let progress = request.progress.map { report in { @Sendable (text: String) in report("\(label)\(text)") } }
        switch request.execution {
        case .weightStreaming:
            let result = try WeightStreaming.simulate(lowered, batch: request.batch, machine: machine, mode: request.mode,
                                                      seed: request.seed, traceLayer: traceLayer, progress: progress)
            return outcome(result, lowered: lowered, machine: machine, mode: request.mode)
        case .pipelined:
            let zeros = try ActivationZeros.perProduct(lowered, network: network, setting: request.activationSparsity,
                                                        seed: request.seed)
            return try Pipelined.simulate(lowered, batch: request.batch, machine: machine, mode: request.mode, seed: request.seed,
                                          activation: zeros, traceLayer: traceLayer, progress: progress)
        }
    }

    static func outcome(_ result: WeightStreaming.StepResult, lowered: LoweredNetwork, machine: DataflowMachine,
                        mode: SimulationMode) -> StepOutcome {
        let clockHz = machine.config.clockHz
        let kinds = Dictionary(lowered.products.map { ($0.node, $0.kind.rawValue) }, uniquingKeysWith: { first, _ in first })
        var rows: [NetworkReport.Row] = result.products.map { product in
            NetworkReport.Row(
                name: product.layer, kind: kinds[product.layer] ?? "product", pass: product.pass, label: product.label,
                fidelity: product.fidelity, cycles: product.cycles, seconds: product.cycles / clockHz, breakdown: product.breakdown,
                utilisation: product.utilisation, outRows: product.outRows, reduction: product.reduction,
                positions: product.positions, copies: product.copies, sparsity: product.sparsity, pattern: product.pattern,
                effectiveMACs: product.effectiveMACs, analyticalCycles: product.analyticalCycles, mapping: product.mapping,
                regionCores: nil, skippedZeroFraction: nil)
        }
        for operation in result.operations {
            var breakdown = Breakdown()
            breakdown.nonMatmul = operation.cycles
            rows.append(NetworkReport.Row(
                name: operation.node, kind: operation.kind, pass: operation.pass, label: operation.kind, fidelity: .composed,
                cycles: operation.cycles, seconds: operation.cycles / clockHz, breakdown: breakdown, utilisation: nil,
                outRows: nil, reduction: nil, positions: nil, copies: nil, sparsity: nil, pattern: nil, effectiveMACs: nil,
                analyticalCycles: nil, mapping: nil, regionCores: nil, skippedZeroFraction: nil))
        }
        let config = machine.config
        let note = mode == .cycle
            ? "weight streaming. Cycle-level (event-driven, cycle timestamps): each product's most loaded panel by the analytical estimate (sampling.critical_panels) and sampling.random_panels seeded random panels, each simulated on a window of up to \(config.maxGroups) output rows (sampling.max_groups) and extrapolated to all rows; the cores of a panel row receive identical streams, so one column (the farthest from the stream's source) stands for all. Composed: the remaining panels (closed form of the same counts), the weight gradients' outflow and output-gradient broadcast bounds, non-matmul work (per element), fixed per-product and per-step overheads."
            : "weight streaming. Analytical: every panel by the closed form of the same mapping and per-core counts (max over core rows of their summed task costs, the stream and chain bounds, plus fill and drain); no event simulation. Non-matmul work and fixed overheads are composed per element as in cycle mode."
        return StepOutcome(
            cycles: result.cycles, breakdown: result.breakdown, rows: rows,
            trainingMACs: result.products.reduce(0) { $0 + $1.effectiveMACs },
            spans: result.spans.map { ($0.name, $0.pass, $0.category, $0.cycles) },
            regionTimeline: result.regionTimeline, regionTimelineProduct: result.regionTimelineProduct,
            simulatedCycles: result.simulatedCycles, events: result.events, notes: [], activationNote: nil, fidelityNote: note)
    }
}
