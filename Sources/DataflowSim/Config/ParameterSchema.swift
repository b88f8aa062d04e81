/// The parameters an architecture description may set: their units, their allowed values,
/// and their defaults (a WSE-2-like machine) with the public source each default comes
/// from, or the reason it is an assumption. This table is the single truth for what a
/// config file may contain; `ConfigLoader` checks every file against it.

/// A parameter's value: a number, a flag or a name.
public enum ParameterValue: Hashable, Sendable, CustomStringConvertible {
    case number(Double)
    case flag(Bool)
    case text(String)

    public var description: String {
        switch self {
        case .number(let value):
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .flag(let value): String(value)
        case .text(let value): value
        }
    }
}

/// Where a value comes from: a public source, or an assumption with its reason.
public enum Provenance: Hashable, Sendable {
    case source(String)
    case assumption(String)
}

/// What values a parameter accepts.
public enum ParameterKind: Hashable, Sendable {
    /// A whole number in `minimum...maximum`.
    case integer(minimum: Int, maximum: Int)
    /// A real number above `minimum` (or equal to it when `inclusive`), at most `maximum`.
    case real(minimum: Double, maximum: Double, inclusive: Bool)
    case flag
    /// One of a fixed list of names.
    case choice([String])
    /// The name of a registered component implementation of this slot.
    case component(ComponentSlot)
}

public struct ParameterDefinition: Hashable, Sendable {
    /// `group.name`, e.g. `mesh.width`.
    public let key: String
    public let unit: String
    public let kind: ParameterKind
    public let defaultValue: ParameterValue
    public let provenance: Provenance
    public let summary: String

    public var group: String { String(key.split(separator: ".")[0]) }
    public var name: String { String(key.split(separator: ".")[1]) }
}

public enum ParameterSchema {
    static func int(_ key: String, _ unit: String, _ value: Int, _ range: ClosedRange<Int>, _ provenance: Provenance,
                    _ summary: String) -> ParameterDefinition {
        ParameterDefinition(key: key, unit: unit, kind: .integer(minimum: range.lowerBound, maximum: range.upperBound),
                            defaultValue: .number(Double(value)), provenance: provenance, summary: summary)
    }

    static func real(_ key: String, _ unit: String, _ value: Double, above minimum: Double, max: Double,
                     inclusive: Bool = false, _ provenance: Provenance, _ summary: String) -> ParameterDefinition {
        ParameterDefinition(key: key, unit: unit, kind: .real(minimum: minimum, maximum: max, inclusive: inclusive),
                            defaultValue: .number(value), provenance: provenance, summary: summary)
    }

    static let sdkExamples = "Cerebras SDK examples (github.com/Cerebras/csl-examples)"
    static let hotChips = "Cerebras WSE-2 public figures (Hot Chips 33/34; REFERENCE.md §2)"

    /// Every parameter, in the order the resolved configuration lists them.
    public static let definitions: [ParameterDefinition] = [
        // The mesh.
        int("mesh.width", "cores", 750, 1...1_000_000,
            .source("\(sdkExamples), benchmarks/single-tile-matvec: a real CS-2 program uses --fabric-dims=750,994; the marketing figure of 850,000 cores includes cores the SDK does not expose"),
            "Cores along x (east-west)."),
        int("mesh.height", "cores", 994, 1...1_000_000,
            .source("\(sdkExamples), benchmarks/single-tile-matvec: --fabric-dims=750,994 on a real CS-2"),
            "Cores along y (north-south)."),
        real("mesh.clock_hz", "Hz", 850e6, above: 0, max: 1e11,
             .source("\(sdkExamples) convert measured cycles at 850 MHz (e.g. benchmarks/bandwidth-test/run.py); the 7.5 PFLOP/s FP16 marketing peak implies 1.1 GHz (850,000 cores x 4 FMAC x 2 x 1.1 GHz). 850 MHz chosen; set 1.1e9 to compare"),
             "Core and fabric clock."),
        // Where each matrix product runs.
        int("mapping.region_width", "cores", 0, 0...1_000_000,
            .assumption("weight streaming runs one product at a time on the whole wafer; 0 means the mesh width"),
            "Width of the region of cores one product is mapped onto (0 = the whole mesh)."),
        int("mapping.region_height", "cores", 0, 0...1_000_000,
            .assumption("0 means the mesh height"),
            "Height of the region of cores one product is mapped onto (0 = the whole mesh)."),
        // The core.
        int("core.fmac_fp16_lanes", "FMAC/cycle", 4, 1...1024,
            .source("\(hotChips): 4-wide FP16 FMAC per core"),
            "FP16 x FP16 -> FP16 multiply-adds per cycle."),
        int("core.fmac_mixed_lanes", "FMAC/cycle", 2, 1...1024,
            .assumption("not published; FP32 accumulators are twice as wide as FP16 ones and one 64-bit write port stores two per cycle"),
            "FP16 x FP16 -> FP32 multiply-adds per cycle."),
        int("core.fmac_pipeline_cycles", "cycles", 4, 0...1024,
            .assumption("not published; a short FMAC pipeline, drained only when the core runs out of work"),
            "Cycles from issuing a multiply-add to writing its result."),
        int("core.task_trigger_cycles", "cycles", 2, 0...100_000,
            .assumption("not published; an arriving wavelet activates its task through the hardware scheduler and a vector (DSD) operation is set up: a few cycles. Sweep it with --set core.task_trigger_cycles=N"),
            "Cycles from a wavelet's arrival at the core to its task's first multiply-add."),
        int("core.control_task_cycles", "cycles", 1, 0...100_000,
            .assumption("not published; an end-of-row control wavelet only switches the accumulator"),
            "Cycles to handle the control wavelet that ends a group (output row)."),
        int("core.accumulator_buffers", "buffers", 2, 1...64,
            .assumption("double buffering: a core accumulates row m+1 while row m's partial sums drain"),
            "Output-row accumulators per core: how far a core may run ahead of the partial-sum reduction."),
        ParameterDefinition(key: "core.precision", unit: "name", kind: .choice(["mixed", "fp16"]), defaultValue: .text("mixed"),
                            provenance: .assumption("mixed-precision training (FP16 products, FP32 accumulation), the usual setting on CS-2"),
                            summary: "Arithmetic of the multiply-adds: mixed (FP16 x FP16 -> FP32) or fp16."),
        // The SRAM of a core.
        int("sram.bytes_per_core", "bytes", 49152, 1...(1 << 40),
            .source("\(hotChips): 48 kB of SRAM per core"), "SRAM per core."),
        int("sram.banks", "banks", 8, 1...1024,
            .source("\(hotChips): 8 banks of 6 kB"), "SRAM banks per core."),
        int("sram.read_ports", "reads/cycle", 2, 1...64,
            .source("\(hotChips): two 64-bit reads per cycle"), "Reads the SRAM serves per cycle (one per bank)."),
        int("sram.write_ports", "writes/cycle", 1, 1...64,
            .source("\(hotChips): one 64-bit write per cycle"), "Writes the SRAM serves per cycle (one per bank)."),
        int("sram.port_bits", "bits", 64, 8...4096,
            .source("\(hotChips): 64-bit reads and writes"), "Width of one read or write."),
        int("sram.bank_interleave_bytes", "bytes", 8, 1...(1 << 30),
            .assumption("not published; consecutive 64-bit words in consecutive banks, which is what lets two reads per cycle stream"),
            "Bytes after which addresses move to the next bank."),
        ParameterDefinition(key: "sram.allocation", unit: "name", kind: .choice(["bank-aware", "packed"]), defaultValue: .text("bank-aware"),
                            provenance: .assumption("the compiler places a task's operands so their streams start in different banks"),
                            summary: "Buffer placement: bank-aware (operands skewed to different banks) or packed (back to back)."),
        int("sram.reserved_bytes", "bytes", 8192, 0...(1 << 40),
            .assumption("not published; code, task tables, routing state and stack"),
            "SRAM per core not available to data."),
        // The fabric.
        int("fabric.link_payload_bits", "bits/cycle", 32, 1...4096,
            .source("\(hotChips): a 32-bit payload per wavelet, one wavelet per link per cycle"),
            "Payload a link carries to a neighbour per cycle."),
        int("fabric.wavelet_bits", "bits", 38, 1...4096,
            .source("\(hotChips): 38-bit wavelets (32 data + 6 control)"), "Wavelet size including control bits (informational)."),
        int("fabric.hop_latency_cycles", "cycles", 1, 0...10_000,
            .assumption("not published; one cycle per router hop"), "Cycles for a wavelet to cross one router and link."),
        int("fabric.router_ports", "ports", 5, 2...64,
            .source("\(hotChips): each router links its 4 neighbours and its own core"), "Router ports (4 neighbours + the core's ramp)."),
        int("fabric.colors", "colours", 24, 1...1024,
            .source("\(sdkExamples), colour maps (e.g. benchmarks/gemm-collectives_2d/layout.csl): routable colours 0-23 on WSE-2"),
            "Routing colours (virtual channels) per link."),
        int("fabric.input_buffer_wavelets", "wavelets", 8, 1...1_000_000,
            .assumption("not published; a few wavelets of buffering per colour at a core's input, credits returned hop by hop"),
            "Wavelets a core's input queue holds per colour before its router stops accepting (back-pressure)."),
        ParameterDefinition(key: "fabric.multicast", unit: "flag", kind: .flag, defaultValue: .flag(true),
                            provenance: .source("\(hotChips): routers copy a wavelet to several outputs (hardware multicast)"),
                            summary: "Routers forward one wavelet to several outputs at once."),
        // The off-wafer weight store.
        real("io.inbound_bits_per_second", "bit/s", 1.2e12, above: 0, max: 1e18,
             .source("REFERENCE.md §2: system I/O about 1.2 Tb/s (MemoryX to the wafer)"),
             "Bandwidth of the weight stream from MemoryX into the wafer."),
        real("io.outbound_bits_per_second", "bit/s", 1.2e12, above: 0, max: 1e18,
             .assumption("the I/O is taken to be full duplex: gradients leave at the rate weights arrive"),
             "Bandwidth of the gradient stream from the wafer to MemoryX."),
        int("io.weight_value_bits", "bits", 16, 1...64,
            .source("\(hotChips): a wavelet carries a 16-bit value and a 16-bit index"), "Bits of a streamed weight value."),
        int("io.weight_index_bits", "bits", 16, 0...64,
            .source("\(hotChips): 16-bit index beside the value of a sparse weight"), "Bits of a sparse weight's index (dense weights carry none)."),
        int("io.gradient_bits", "bits", 32, 1...64,
            .assumption("FP32 gradients, streamed in the mask's order so they need no index"), "Bits of a streamed-out weight gradient."),
        // Number formats.
        int("data.activation_bits", "bits", 16, 1...64,
            .assumption("FP16 activations (mixed precision)"), "Bits of a resident activation or activation gradient."),
        int("data.accumulator_bits", "bits", 32, 1...64,
            .assumption("FP32 accumulators (mixed precision)"), "Bits of an output accumulator."),
        int("data.partial_sum_bits", "bits", 32, 1...64,
            .assumption("FP32 partial sums between cores"), "Bits of a partial sum sent between cores."),
        // Work that is not a matrix product, per element on one core.
        real("nonmatmul.elementwise_cycles", "cycles/element", 0.25, above: 0, max: 1e6, inclusive: true,
             .assumption("ReLU, add, scale: one 4-wide FP16 vector operation per 4 elements"), "Cycles per element of ReLU, residual add, scaling."),
        real("nonmatmul.gelu_cycles", "cycles/element", 2, above: 0, max: 1e6, inclusive: true,
             .assumption("GELU (tanh approximation): about 8 FP16 operations per element on 4 lanes"), "Cycles per element of GELU."),
        real("nonmatmul.norm_cycles", "cycles/element", 1.5, above: 0, max: 1e6, inclusive: true,
             .assumption("LayerNorm/BatchNorm: a pass for the statistics and one to normalise"), "Cycles per element of a normalisation."),
        real("nonmatmul.softmax_cycles", "cycles/element", 3, above: 0, max: 1e6, inclusive: true,
             .assumption("an exponential, a sum and a division per element"), "Cycles per element of a softmax."),
        real("nonmatmul.pool_cycles", "cycles/window element", 0.25, above: 0, max: 1e6, inclusive: true,
             .assumption("one vector compare or add per window element"), "Cycles per window element of max or average pooling."),
        real("nonmatmul.embedding_cycles", "cycles/element", 0.5, above: 0, max: 1e6, inclusive: true,
             .assumption("a table lookup copies one value per element"), "Cycles per element of an embedding lookup."),
        real("nonmatmul.backward_factor", "x forward", 2, above: 0, max: 1e6, inclusive: true,
             .assumption("a backward elementwise or norm pass reads the saved input and the incoming gradient"), "Backward cost of non-matmul work relative to its forward."),
        // Fixed costs.
        int("overhead.step_cycles", "cycles", 20000, 0...(1 << 50),
            .assumption("not published; launching a training step and synchronising the wafer with MemoryX"), "Fixed cycles per training step."),
        int("overhead.product_setup_cycles", "cycles", 500, 0...(1 << 50),
            .assumption("not published; switching the wafer's tasks and routes to the next layer's product"), "Fixed cycles before each matrix product."),
        // The pipelined (layer-per-region) execution.
        ParameterDefinition(key: "pipelined.skip_zero_activations", unit: "flag", kind: .flag, defaultValue: .flag(true),
                            provenance: .source("\(hotChips): zeros are filtered at the sender and never sent"),
                            summary: "In pipelined execution, zero activations are not sent (each non-zero then carries an index)."),
        // How much is simulated cycle by cycle (simulator settings, not hardware).
        int("sampling.max_groups", "groups", 256, 1...(1 << 30),
            .assumption("simulator setting: products with more output rows are simulated on a window of this many and extrapolated"),
            "Output rows (groups) of a panel simulated cycle by cycle before extrapolating."),
        int("sampling.critical_panels", "panels", 1, 1...1_000_000,
            .assumption("simulator setting: the most loaded panels by the analytical estimate are simulated"),
            "Panels of a product simulated cycle by cycle, most loaded first."),
        int("sampling.random_panels", "panels", 1, 0...1_000_000,
            .assumption("simulator setting: seeded random panels checked beside the critical ones"),
            "Extra panels simulated, chosen at random (seeded)."),
        int("sampling.columns", "columns", 4, 1...1_000_000,
            .assumption("simulator setting: columns sharing one multicast stream simulated when their work differs (pipelined mode)"),
            "Core columns simulated per core row when columns differ."),
        // Which implementation models each component.
        ParameterDefinition(key: "components.core", unit: "name", kind: .component(.core), defaultValue: .text("dataflow-core"),
                            provenance: .assumption("a core that runs one task per arriving wavelet"), summary: "Core model."),
        ParameterDefinition(key: "components.sram", unit: "name", kind: .component(.sram), defaultValue: .text("banked-sram"),
                            provenance: .assumption("banks and ports simulated cycle by cycle"), summary: "SRAM model."),
        ParameterDefinition(key: "components.fabric", unit: "name", kind: .component(.fabric), defaultValue: .text("mesh-router"),
                            provenance: .assumption("a 2-D mesh with per-hop latency, credits and multicast"), summary: "Router/fabric model."),
        ParameterDefinition(key: "components.weight_stream", unit: "name", kind: .component(.weightStream), defaultValue: .text("memoryx"),
                            provenance: .assumption("a bandwidth-limited stream shared by all rows"), summary: "Weight-stream model."),
    ]

    /// Definitions by key.
    public static let byKey: [String: ParameterDefinition] = Dictionary(uniqueKeysWithValues: definitions.map { ($0.key, $0) })

    /// The groups in schema order.
    public static var groups: [String] {
        var seen: [String] = []
        for definition in definitions where !seen.contains(definition.group) { seen.append(definition.group) }
        return seen
    }

    /// Checks a value against a definition; returns the error message, or nil when valid.
    static func problem(with value: ParameterValue, for definition: ParameterDefinition) -> String? {
        let key = definition.key
        switch (definition.kind, value) {
        case (.integer(let minimum, let maximum), .number(let number)):
            guard number.isFinite, number == number.rounded() else { return "\(key) must be a whole number, got \(number)" }
            guard number >= Double(minimum), number <= Double(maximum) else {
                return "\(key) must be in \(minimum)...\(maximum) \(definition.unit), got \(value)"
            }
            return nil
        case (.real(let minimum, let maximum, let inclusive), .number(let number)):
            guard number.isFinite else { return "\(key) must be a finite number, got \(number)" }
            let aboveMinimum = inclusive ? number >= minimum : number > minimum
            guard aboveMinimum, number <= maximum else {
                return "\(key) must be \(inclusive ? "at least" : "greater than") \(minimum) and at most \(maximum) \(definition.unit), got \(value)"
            }
            return nil
        case (.flag, .flag):
            return nil
        case (.choice(let names), .text(let name)):
            return names.contains(name) ? nil : "\(key) must be one of \(names.joined(separator: ", ")), got '\(name)'"
        case (.component(let slot), .text(let name)):
            let known = ComponentRegistry.names(for: slot)
            return known.contains(name) ? nil
                : "\(key): unknown \(slot.rawValue) component '\(name)'; registered: \(known.joined(separator: ", "))"
        case (.integer, _), (.real, _):
            return "\(key) must be a number, got \(value)"
        case (.flag, _):
            return "\(key) must be true or false, got \(value)"
        case (.choice, _), (.component, _):
            return "\(key) must be a name, got \(value)"
        }
    }
}

/// The machine the defaults describe.
public enum WSE2 {
    public static let description = "A Cerebras WSE-2 / CS-2-like machine: the public figures where they exist (each parameter names its source), stated assumptions elsewhere."
}
