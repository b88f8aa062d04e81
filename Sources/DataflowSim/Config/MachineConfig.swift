/// The resolved configuration as typed values, with the checks that involve several
/// parameters at once. Everything the simulator reads about the machine comes from here.
public struct MachineConfig: Sendable {
    public enum Precision: String, Sendable { case mixed, fp16 }
    public enum Allocation: String, Sendable { case bankAware = "bank-aware", packed }

    /// The colours the dataflows use at once: weights (or activations), end-of-row control,
    /// partial sums, and results or gradients.
    public static let colorsNeeded = 4

    public let resolved: ResolvedConfig
    public var name: String { resolved.name }

    public let meshWidth: Int
    public let meshHeight: Int
    public let clockHz: Double
    public let regionWidth: Int
    public let regionHeight: Int

    public let fp16Lanes: Int
    public let mixedLanes: Int
    public let pipelineCycles: Int
    public let triggerCycles: Int
    public let controlCycles: Int
    public let accumulatorBuffers: Int
    public let precision: Precision

    public let sramBytes: Int
    public let banks: Int
    public let readPorts: Int
    public let writePorts: Int
    public let portBytes: Int
    public let interleaveBytes: Int
    public let allocation: Allocation
    public let reservedBytes: Int

    public let linkPayloadBits: Int
    public let waveletBits: Int
    public let hopLatency: Int
    public let routerPorts: Int
    public let colors: Int
    public let inputBufferWavelets: Int
    public let multicast: Bool

    public let inboundBitsPerSecond: Double
    public let outboundBitsPerSecond: Double
    public let weightValueBits: Int
    public let weightIndexBits: Int
    public let gradientBits: Int

    public let activationBytes: Int
    public let accumulatorBytes: Int
    public let partialSumBits: Int

    public struct NonMatmul: Sendable {
        public let elementwise: Double
        public let gelu: Double
        public let norm: Double
        public let softmax: Double
        public let pool: Double
        public let embedding: Double
        public let backwardFactor: Double
    }
    public let nonMatmul: NonMatmul

    public let stepOverheadCycles: Int
    public let productSetupCycles: Int
    public let skipZeroActivations: Bool

    public let maxGroups: Int
    public let criticalPanels: Int
    public let randomPanels: Int
    public let sampledColumns: Int

    public let coreComponent: String
    public let sramComponent: String
    public let fabricComponent: String
    public let weightStreamComponent: String

    /// Multiply-adds per cycle per core at the configured precision.
    public var lanes: Int { precision == .mixed ? mixedLanes : fp16Lanes }
    /// Bytes of an accumulator element at the configured precision.
    public var accumulatorElementBytes: Int { precision == .mixed ? accumulatorBytes : activationBytes }
    /// SRAM a core has for data.
    public var dataBytesPerCore: Int { sramBytes - reservedBytes }
    public var meshCores: Int { meshWidth * meshHeight }
    /// Peak multiply-adds per second of the whole mesh.
    public var peakMACsPerSecond: Double { Double(meshCores) * Double(lanes) * clockHz }
    /// Streamed-in bits per cycle from the weight store.
    public var inboundBitsPerCycle: Double { inboundBitsPerSecond / clockHz }
    public var outboundBitsPerCycle: Double { outboundBitsPerSecond / clockHz }

    public init(_ config: ResolvedConfig) throws {
        resolved = config
        func integer(_ key: String) -> Int {
            if case .number(let value) = config[key] { return Int(value) }
            return 0
        }
        func real(_ key: String) -> Double {
            if case .number(let value) = config[key] { return value }
            return 0
        }
        func text(_ key: String) -> String {
            if case .text(let value) = config[key] { return value }
            return ""
        }
        func flag(_ key: String) -> Bool {
            if case .flag(let value) = config[key] { return value }
            return false
        }
        meshWidth = integer("mesh.width")
        meshHeight = integer("mesh.height")
        clockHz = real("mesh.clock_hz")
        let width = integer("mapping.region_width")
        let height = integer("mapping.region_height")
        regionWidth = width == 0 ? meshWidth : width
        regionHeight = height == 0 ? meshHeight : height
        fp16Lanes = integer("core.fmac_fp16_lanes")
        mixedLanes = integer("core.fmac_mixed_lanes")
        pipelineCycles = integer("core.fmac_pipeline_cycles")
        triggerCycles = integer("core.task_trigger_cycles")
        controlCycles = integer("core.control_task_cycles")
        accumulatorBuffers = integer("core.accumulator_buffers")
        precision = Precision(rawValue: text("core.precision")) ?? .mixed
        sramBytes = integer("sram.bytes_per_core")
        banks = integer("sram.banks")
        readPorts = integer("sram.read_ports")
        writePorts = integer("sram.write_ports")
        let portBits = integer("sram.port_bits")
        portBytes = portBits / 8
        interleaveBytes = integer("sram.bank_interleave_bytes")
        allocation = Allocation(rawValue: text("sram.allocation")) ?? .bankAware
        reservedBytes = integer("sram.reserved_bytes")
        linkPayloadBits = integer("fabric.link_payload_bits")
        waveletBits = integer("fabric.wavelet_bits")
        hopLatency = integer("fabric.hop_latency_cycles")
        routerPorts = integer("fabric.router_ports")
        colors = integer("fabric.colors")
        inputBufferWavelets = integer("fabric.input_buffer_wavelets")
        multicast = flag("fabric.multicast")
        inboundBitsPerSecond = real("io.inbound_bits_per_second")
        outboundBitsPerSecond = real("io.outbound_bits_per_second")
        weightValueBits = integer("io.weight_value_bits")
        weightIndexBits = integer("io.weight_index_bits")
        gradientBits = integer("io.gradient_bits")
        let activationBits = integer("data.activation_bits")
        let accumulatorBits = integer("data.accumulator_bits")
        activationBytes = activationBits / 8
        accumulatorBytes = accumulatorBits / 8
        partialSumBits = integer("data.partial_sum_bits")
        nonMatmul = NonMatmul(
            elementwise: real("nonmatmul.elementwise_cycles"), gelu: real("nonmatmul.gelu_cycles"),
            norm: real("nonmatmul.norm_cycles"), softmax: real("nonmatmul.softmax_cycles"),
            pool: real("nonmatmul.pool_cycles"), embedding: real("nonmatmul.embedding_cycles"),
            backwardFactor: real("nonmatmul.backward_factor"))
        stepOverheadCycles = integer("overhead.step_cycles")
        productSetupCycles = integer("overhead.product_setup_cycles")
        skipZeroActivations = flag("pipelined.skip_zero_activations")
        maxGroups = integer("sampling.max_groups")
        criticalPanels = integer("sampling.critical_panels")
        randomPanels = integer("sampling.random_panels")
        sampledColumns = integer("sampling.columns")
        coreComponent = text("components.core")
        sramComponent = text("components.sram")
        fabricComponent = text("components.fabric")
        weightStreamComponent = text("components.weight_stream")

        // Checks that involve several parameters.
        func fail(_ message: String) -> SimulatorError { .invalidConfig("\(config.name): \(message)") }
        guard regionWidth <= meshWidth, regionHeight <= meshHeight else {
            throw fail("the region \(regionWidth)x\(regionHeight) does not fit the \(meshWidth)x\(meshHeight) mesh")
        }
        guard meshWidth.multipliedReportingOverflow(by: meshHeight).overflow == false, meshCores <= 1 << 40 else {
            throw fail("a \(meshWidth)x\(meshHeight) mesh is too large")
        }
        guard portBits % 8 == 0 else { throw fail("sram.port_bits must be a multiple of 8, got \(portBits)") }
        for (key, bits) in [("data.activation_bits", activationBits), ("data.accumulator_bits", accumulatorBits)] where bits % 8 != 0 {
            throw fail("\(key) must be a multiple of 8, got \(bits)")
        }
        guard readPorts <= banks, writePorts <= banks else {
            throw fail("\(readPorts) read and \(writePorts) write ports need at least as many banks, got \(banks)")
        }
        guard reservedBytes < sramBytes else {
            throw fail("sram.reserved_bytes (\(reservedBytes)) leaves no data space in \(sramBytes) bytes")
        }
        guard waveletBits >= linkPayloadBits else {
            throw fail("fabric.wavelet_bits (\(waveletBits)) is smaller than its payload (\(linkPayloadBits))")
        }
        guard weightValueBits + weightIndexBits <= linkPayloadBits else {
            throw fail("a sparse weight (\(weightValueBits)-bit value + \(weightIndexBits)-bit index) does not fit one \(linkPayloadBits)-bit wavelet payload")
        }
        guard routerPorts >= 5 else {
            throw fail("a 2-D mesh router needs 5 ports (4 neighbours and the core), got \(routerPorts)")
        }
        guard colors >= Self.colorsNeeded else {
            throw fail("the dataflows need \(Self.colorsNeeded) colours (weights, control, partial sums, results), the fabric has \(colors)")
        }
        guard accumulatorElementBytes >= activationBytes else {
            throw fail("accumulators (\(accumulatorElementBytes) bytes) narrower than activations (\(activationBytes) bytes)")
        }
    }
}
