/// The machine-readable result of simulating a network's training step (`sift simulate
/// --json`). Keys are snake_case; cycles are of the configured clock; a step is one
/// training step on `batch_size` samples (each one image, or one sequence of
/// `sequence_length` tokens).
public struct NetworkReport: Sendable, Codable {
    /// One row of the per-layer table: a matrix product or a non-matmul operation, in one pass.
    public struct Row: Sendable, Codable {
        public let name: String
        public let kind: String
        public let pass: Pass
        /// The product's role in its pass (`forward`, `dq`...), or the operation's kind.
        public let label: String
        public let fidelity: Fidelity
        public let cycles: Double
        public let seconds: Double
        public let breakdown: Breakdown
        public let utilisation: Double?
        public let outRows: Int?
        public let reduction: Int?
        public let positions: Int?
        public let copies: Int?
        public let sparsity: Double?
        public let pattern: String?
        public let effectiveMACs: Double?
        public let analyticalCycles: Double?
        /// Weight streaming: the product's mapping. Pipelined: the layer's region.
        public let mapping: ProductMapping?
        public let regionCores: Int?
        /// Pipelined: the fraction of the streamed activations (or gradients) that were zero and not sent.
        public let skippedZeroFraction: Double?

        enum CodingKeys: String, CodingKey {
            case name, kind, pass, label, fidelity, cycles, seconds, breakdown, utilisation, outRows = "out_rows", reduction
            case positions, copies, sparsity, pattern, effectiveMACs = "effective_macs", analyticalCycles = "analytical_cycles"
            case mapping, regionCores = "region_cores", skippedZeroFraction = "skipped_zero_fraction"
        }
    }

    /// The dense network on the same machine, same batch, same execution and mode.
    public struct DenseBaseline: Sendable, Codable {
        public let network: String
        public let cycles: Double
        public let seconds: Double
        public let samplesPerSecond: Double
        public let trainingMACs: Double
        public let breakdown: Breakdown

        enum CodingKeys: String, CodingKey {
            case network, cycles, seconds, samplesPerSecond = "samples_per_second", trainingMACs = "training_macs", breakdown
        }
    }

    public let formatVersion: Int
    public let model: String
    public let network: String
    public let transform: String
    public let requestedSparsity: Double
    public let sparsity: Double
    public let pattern: String
    public let base: Int
    public let batchSize: Int
    public let sequenceLength: Int?
    public let execution: String
    public let mode: SimulationMode
    public let config: String
    public let seed: UInt64
    /// Cycles of one training step.
    public let cycles: Double
    public let seconds: Double
    public let stepSeconds: Double
    public let samplesPerSecond: Double
    public let speedupVsDense: Double?
    /// The dense step's multiply-adds over this step's: the speedup if only skipped
    /// multiply-adds mattered (1.0 for an iso-FLOP transformation).
    public let idealSpeedup: Double?
    public let breakdown: Breakdown
    /// Effective multiply-adds of the step over the whole mesh's peak for the step's time.
    public let utilisation: Double
    public let trainingMACs: Double
    public let dense: DenseBaseline?
    /// Pipelined: the activation sparsity assumed or measured, and where it came from.
    public let activationSparsity: String?
    public let layers: [Row]
    /// What was simulated cycle by cycle and what was composed.
    public let fidelityNote: String
    public let notes: [String]
    public let simulator: SimulatorStats

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", model, network, transform, requestedSparsity = "requested_sparsity", sparsity
        case pattern, base, batchSize = "batch_size", sequenceLength = "sequence_length", execution, mode, config, seed, cycles
        case seconds, stepSeconds = "step_seconds", samplesPerSecond = "samples_per_second", speedupVsDense = "speedup_vs_dense"
        case idealSpeedup = "ideal_speedup", breakdown, utilisation, trainingMACs = "training_macs", dense
        case activationSparsity = "activation_sparsity", layers, fidelityNote = "fidelity_note", notes, simulator
    }
}
