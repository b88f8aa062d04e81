import Foundation
import SparseIFT
import SparseKernels

// The report does not know how the runtime runs a network or how the simulator models a
// training step: it asks these two small protocols, and `sift` hands it adapters over the
// real libraries (Sources/sift/ReportBackends.swift, the one file that wires them).

/// The CPU inference runtime, as the report uses it: measure one network point.
public protocol CPURuntimeBackend {
    /// Says what ran the networks, for the page ("sift runtime, plan cache on").
    var name: String { get }
    /// Builds the point's network with seeded weights, compiles it, and measures batched
    /// inference for about `seconds` after a warm-up.
    func measure(_ point: NetworkPoint, network: TransformedNetwork, options: ExecutionOptions, seconds: Double) throws -> CPUNetworkMeasurement
}

public struct CPUNetworkMeasurement: Sendable {
    public var itemsPerSecond: Double
    public var medianLatencySeconds: Double
    public var p90LatencySeconds: Double
    public var iterations: Int
    public var peakMemoryBytes: Int
    /// The kernels the runtime chose, summarised ("12 csr, 3 dense").
    public var kernels: String

    public init(itemsPerSecond: Double, medianLatencySeconds: Double, p90LatencySeconds: Double, iterations: Int,
                peakMemoryBytes: Int, kernels: String) {
        self.itemsPerSecond = itemsPerSecond
        self.medianLatencySeconds = medianLatencySeconds
        self.p90LatencySeconds = p90LatencySeconds
        self.iterations = iterations
        self.peakMemoryBytes = peakMemoryBytes
        self.kernels = kernels
    }
}

/// The dataflow-accelerator simulator, as the report uses it.
public protocol AcceleratorBackend {
    /// The resolved configuration and the modelling choices, for the page.
    var description: AcceleratorDescription { get }
    /// One training step (forward, input gradient, weight gradient) of the point's network.
    func simulateStep(_ point: NetworkPoint, network: TransformedNetwork) throws -> SimulatedStep
    /// One matrix product `W (M×K, in the point's pattern) · X (K×N)`.
    func simulateProduct(_ point: ProductPoint) throws -> SimulatedProduct
}

/// What the report says about the simulated machine.
public struct AcceleratorDescription: Codable, Sendable, Equatable {
    public struct Parameter: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        /// Where the value comes from (a public source), or "assumption".
        public var source: String
        public init(name: String, value: String, source: String) {
            self.name = name
            self.value = value
            self.source = source
        }
    }

    /// The config's name ("wse2-like").
    public var name: String
    /// The config file it was read from.
    public var file: String
    /// "cycle" or "analytical", and the execution mode ("weight-streaming").
    public var mode: String
    public var execution: String
    public var parameters: [Parameter]
    /// What is simulated cycle by cycle and what is composed analytically, and any other
    /// assumption a reader must know.
    public var notes: [String]
    /// The fully resolved config as the simulator wrote it (JSON), kept in the report.
    public var resolvedConfig: String

    public init(name: String, file: String, mode: String, execution: String, parameters: [Parameter], notes: [String], resolvedConfig: String) {
        self.name = name
        self.file = file
        self.mode = mode
        self.execution = execution
        self.parameters = parameters
        self.notes = notes
        self.resolvedConfig = resolvedConfig
    }

    enum CodingKeys: String, CodingKey {
        case name, file, mode, execution, parameters, notes
        case resolvedConfig = "resolved_config"
    }

    public var shortLine: String { "simulated \(name) (\(mode), \(execution))" }
}

public struct SimulatedStep: Sendable {
    public var stepSeconds: Double
    public var samplesPerSecond: Double
    public var cycles: Double
    /// Fraction of the FMAC lanes' peak the step used.
    public var utilisation: Double
    /// Cycles by cause (compute, fabric stall, imbalance idle, weight I/O, non-matmul,
    /// fixed overhead), in the simulator's own order.
    public var cyclesByCause: [(cause: String, cycles: Double)]

    public init(stepSeconds: Double, samplesPerSecond: Double, cycles: Double, utilisation: Double, cyclesByCause: [(cause: String, cycles: Double)]) {
        self.stepSeconds = stepSeconds
        self.samplesPerSecond = samplesPerSecond
        self.cycles = cycles
        self.utilisation = utilisation
        self.cyclesByCause = cyclesByCause
    }
}

public struct SimulatedProduct: Sendable {
    public var cycles: Double
    public var seconds: Double
    public var cyclesByCause: [(cause: String, cycles: Double)]

    public init(cycles: Double, seconds: Double, cyclesByCause: [(cause: String, cycles: Double)]) {
        self.cycles = cycles
        self.seconds = seconds
        self.cyclesByCause = cyclesByCause
    }
}

/// Why a backend is absent from this build, for the page and the summary.
public struct MissingBackend: Sendable {
    public let what: String
    public let reason: String
    public init(what: String, reason: String) {
        self.what = what
        self.reason = reason
    }
}
