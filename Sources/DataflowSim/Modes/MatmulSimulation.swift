import Foundation
import SiftCore
import SparseIFT

/// What the simulator itself cost: its speed in simulated cycles per second.
public struct SimulatorStats: Sendable, Codable {
    public var wallSeconds: Double
    /// Cycles simulated cycle by cycle (windows of the critical panels), summed over products.
    public var simulatedCycles: Double
    public var events: Int
    public var simulatedCyclesPerSecond: Double { wallSeconds > 0 ? simulatedCycles / wallSeconds : 0 }

    enum CodingKeys: String, CodingKey {
        case wallSeconds = "wall_seconds", simulatedCycles = "simulated_cycles", events
        case simulatedCyclesPerSecond = "simulated_cycles_per_second"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(wallSeconds, forKey: .wallSeconds)
        try container.encode(simulatedCycles, forKey: .simulatedCycles)
        try container.encode(events, forKey: .events)
        try container.encode(simulatedCyclesPerSecond, forKey: .simulatedCyclesPerSecond)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        wallSeconds = try container.decode(Double.self, forKey: .wallSeconds)
        simulatedCycles = try container.decode(Double.self, forKey: .simulatedCycles)
        events = try container.decode(Int.self, forKey: .events)
    }

    init(wallSeconds: Double, simulatedCycles: Double, events: Int) {
        self.wallSeconds = wallSeconds
        self.simulatedCycles = simulatedCycles
        self.events = events
    }
}

/// A single matrix product `Y (M×N) = W (M×K) · X (K×N)` with a seeded mask, against the
/// same product with every weight present, on the same machine.
public struct MatmulRequest: Sendable {
    public var m: Int
    public var k: Int
    public var n: Int
    public var sparsity: Double
    public var pattern: SparsityPattern
    public var passes: [Pass]
    public var mode: SimulationMode
    public var execution: Execution
    /// Pipelined execution: the fraction of the input activations that are zero (skipped).
    public var activationSparsity: Double
    /// Also run every pass functionally (values carried by the wavelets) and check it.
    public var functional: Bool
    public var seed: UInt64

    public init(m: Int, k: Int, n: Int, sparsity: Double, pattern: SparsityPattern = .unstructured,
                passes: [Pass] = [.forward], mode: SimulationMode = .cycle, execution: Execution = .weightStreaming,
                activationSparsity: Double = 0, functional: Bool = false, seed: UInt64 = 0) {
        self.m = m
        self.k = k
        self.n = n
        self.sparsity = sparsity
        self.pattern = pattern
        self.passes = passes
        self.mode = mode
        self.execution = execution
        self.activationSparsity = activationSparsity
        self.functional = functional
        self.seed = seed
    }

    /// The largest side accepted (the mask is held in memory as bits; products beyond 2^31
    /// multiply-adds per side pair would exceed what a mask sampler can hold anyway).
    public static let maximumSide = 1 << 20

    func validate() throws {
        for (name, value) in [("m", m), ("k", k), ("n", n)] where value < 1 || value > Self.maximumSide {
            throw SimulatorError.invalidArgument("--\(name) must be in 1...\(Self.maximumSide), got \(value)")
        }
        guard m.multipliedReportingOverflow(by: k).partialValue <= 1 << 31, m * k <= 1 << 31 else {
            throw SimulatorError.invalidArgument("the weight \(m)x\(k) has more than 2^31 entries")
        }
        guard !sparsity.isNaN, sparsity >= 0, sparsity < 1 else {
            throw SimulatorError.invalidArgument("--sparsity must be in [0, 1), got \(sparsity)")
        }
        guard !passes.isEmpty else { throw SimulatorError.invalidArgument("at least one pass is needed") }
        guard !activationSparsity.isNaN, activationSparsity >= 0, activationSparsity < 1 else {
            throw SimulatorError.invalidArgument("--activation-sparsity must be in [0, 1), got \(activationSparsity)")
        }
        if functional, execution == .pipelined {
            throw SimulatorError.invalidArgument("functional mode runs the weight-streaming dataflow; drop --execution pipelined")
        }
    }
}

public struct MatmulReport: Sendable, Codable {
    public let formatVersion: Int
    public let config: String
    public let mode: SimulationMode
    public let execution: String
    public let m: Int
    public let k: Int
    public let n: Int
    public let sparsity: Double
    public let pattern: String
    public let nonzeros: Int
    public let cycles: Double
    public let seconds: Double
    public let denseCycles: Double
    public let denseSeconds: Double
    public let speedupVsDense: Double
    /// `1 / (1 - s)`: the speedup if only the skipped multiply-adds mattered.
    public let idealSpeedup: Double
    public let breakdown: Breakdown
    public let denseBreakdown: Breakdown
    public let utilisation: Double
    public let products: [ProductResult]
    public let denseProducts: [ProductResult]
    /// Functional mode: each pass's values against the dense reference product.
    public let functional: FunctionalResult?
    public let simulator: SimulatorStats

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", config, mode, execution, m, k, n, sparsity, pattern, nonzeros, cycles, seconds
        case denseCycles = "dense_cycles", denseSeconds = "dense_seconds", speedupVsDense = "speedup_vs_dense"
        case idealSpeedup = "ideal_speedup", breakdown, denseBreakdown = "dense_breakdown", utilisation, products
        case denseProducts = "dense_products", functional, simulator
    }
}

public enum MatmulSimulation {
    public static let formatVersion = 1

    public static func run(_ request: MatmulRequest, machine: DataflowMachine, compareWithDense: Bool = true) throws -> MatmulReport {
        try request.validate()
        let clock = ContinuousClock()
        let start = clock.now
        var sparse: ProductTask.Weights = .dense
        var nonzeros = request.m * request.k
        let s = request.pattern.fixedSparsity ?? request.sparsity
        if s > 0 {
            do {
                let mask = try MaskSource.mask(layer: "matmul", rows: request.m, reduction: request.k, sparsity: s,
                                               pattern: request.pattern, seed: request.seed)
                nonzeros = mask.nonzeros
                sparse = .sparse(mask)
            } catch let error as SiftCoreError {
                throw SimulatorError.invalidArgument(error.description)
            }
        }
        let simulator = ProductSimulator(machine: machine, mode: request.mode, seed: request.seed)
        let label = s > 0 ? request.pattern.description : "dense"
        func products(_ weights: ProductTask.Weights, sparsity: Double, pattern: String) throws -> [ProductResult] {
            if request.execution == .pipelined {
                var mask: MaskBits?
                if case .sparse(let bits) = weights { mask = bits }
                return try pipelined(request, mask: mask, sparsity: sparsity, pattern: pattern, machine: machine)
            }
            return try request.passes.map { pass in
                try simulator.simulate(task(pass: pass, request: request, weights: weights, sparsity: sparsity, pattern: pattern)).result
            }
        }
        var functional: FunctionalResult?
        if request.functional {
            var mask: MaskBits?
            if case .sparse(let bits) = sparse { mask = bits }
            // The pass furthest from its tolerance speaks for all.
            let results = try request.passes.map { pass in
                try Functional.weightStreaming(m: request.m, k: request.k, n: request.n, mask: mask, pass: pass,
                                               machine: machine, seed: request.seed)
            }
            functional = results.max { $0.maxError / $0.tolerance < $1.maxError / $1.tolerance }
        }
        let sparseResults = try products(sparse, sparsity: s, pattern: label)
        let denseResults = s > 0 && compareWithDense ? try products(.dense, sparsity: 0, pattern: "dense") : sparseResults
        let cycles = sparseResults.reduce(0) { $0 + $1.cycles }
        let denseCycles = denseResults.reduce(0) { $0 + $1.cycles }
        let clockHz = machine.config.clockHz
        let wall = clock.now - start
        let all = sparseResults + (s > 0 ? denseResults : [])
        let stats = SimulatorStats(wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18,
                                   simulatedCycles: all.reduce(0) { $0 + $1.simulatedCycles },
                                   events: all.reduce(0) { $0 + $1.events })
        let macs = sparseResults.reduce(0) { $0 + $1.effectiveMACs }
        let peak = Double(machine.config.regionWidth * machine.config.regionHeight * machine.components.core.lanes)
        return MatmulReport(
            formatVersion: formatVersion, config: machine.config.name, mode: request.mode,
            execution: request.execution.rawValue, m: request.m, k: request.k,
            n: request.n, sparsity: s, pattern: label, nonzeros: nonzeros, cycles: cycles, seconds: cycles / clockHz,
            denseCycles: denseCycles, denseSeconds: denseCycles / clockHz,
            speedupVsDense: cycles > 0 ? denseCycles / cycles : 0, idealSpeedup: 1 / (1 - s),
            breakdown: sparseResults.reduce(Breakdown()) { $0 + $1.breakdown },
            denseBreakdown: denseResults.reduce(Breakdown()) { $0 + $1.breakdown },
            utilisation: cycles > 0 ? macs / (cycles * peak) : 0,
            products: sparseResults, denseProducts: denseResults, functional: functional, simulator: stats)
    }

    /// The product in pipelined execution on the whole region: weights resident, the
    /// input streamed with its zeros skipped.
    static func pipelined(_ request: MatmulRequest, mask: MaskBits?, sparsity: Double, pattern: String,
                          machine: DataflowMachine) throws -> [ProductResult] {
        let weight = WeightSparsity(role: .body, sparsity: sparsity, pattern: sparsity > 0 ? request.pattern : .unstructured)
        let product = LoweredProduct(node: "matmul", kind: .linear, M: request.m, K: request.k, N: request.n, groups: 1,
                                     weight: weight, weightRows: request.m, inputFromReLU: request.activationSparsity > 0,
                                     outputToReLU: false, needsInputGradient: true)
        let zeros = ActivationZeros.Product(input: request.activationSparsity, gradient: 0)
        let config = machine.config
        let cores = config.regionWidth * config.regionHeight
        let stage = try PipelinedMapper.stage(index: 0, product: product, mask: mask, zeros: zeros, cores: cores, machine: machine)
        return request.passes.map { pass in
            let outcome = Pipelined.pass(stage, pass, machine: machine, mode: request.mode, seed: request.seed, timeline: false)
            var breakdown = outcome.breakdown
            breakdown.fixedOverhead = 0
            let macs = Double(request.m * request.k * request.n) * stage.density
                * (1 - (pass == .inputGradient ? 0 : request.activationSparsity))
            return ProductResult(
                layer: "matmul", pass: pass, label: pass.rawValue, fidelity: request.mode == .cycle ? .cycle : .analytical,
                outRows: request.m, reduction: request.k, positions: request.n, copies: 1, sparsity: sparsity, pattern: pattern,
                mapping: stage.mapping, cycles: outcome.cycles, breakdown: breakdown, effectiveMACs: macs,
                denseMACs: Double(request.m * request.k * request.n),
                utilisation: macs / (outcome.cycles * Double(cores * machine.components.core.lanes)),
                analyticalCycles: 0, sampledGroups: min(request.n, config.maxGroups), simulatedPanels: 1,
                simulatedCycles: outcome.simulatedCycles, events: outcome.events)
        }
    }

    static func task(pass: Pass, request: MatmulRequest, weights: ProductTask.Weights, sparsity: Double,
                     pattern: String) -> ProductTask {
        switch pass {
        case .forward, .weightGradient:
            return ProductTask(layer: "matmul", pass: pass, label: pass.rawValue, op: pass == .forward ? .axpy : .dot,
                               outRows: request.m, reduction: request.k, positions: request.n, copies: 1, weights: weights,
                               fromWeightStore: true, isWeightGradient: pass == .weightGradient, sparsity: sparsity,
                               pattern: pattern)
        case .inputGradient:
            let transposed: ProductTask.Weights
            if case .sparse(let mask) = weights { transposed = .sparse(mask.transposed()) } else { transposed = .dense }
            return ProductTask(layer: "matmul", pass: pass, label: pass.rawValue, op: .axpy, outRows: request.k,
                               reduction: request.m, positions: request.n, copies: 1, weights: transposed,
                               fromWeightStore: true, isWeightGradient: false, sparsity: sparsity, pattern: pattern)
        }
    }
}
