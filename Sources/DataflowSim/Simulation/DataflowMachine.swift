/// The configured machine: typed parameters plus the component implementations, and the
/// few derived quantities every part of the simulator needs.
public struct DataflowMachine: Sendable {
    public let config: MachineConfig
    public let components: ComponentSet

    public init(_ config: MachineConfig) throws {
        self.config = config
        components = try ComponentSet(config)
    }

    public init(_ resolved: ResolvedConfig) throws {
        try self.init(try MachineConfig(resolved))
    }

    /// Weights one streamed wavelet carries: one value and its index when sparse; as many
    /// values as fit the payload when dense (their positions are implicit).
    func weightsPerWavelet(sparse: Bool) -> Int {
        sparse ? 1 : max(1, config.linkPayloadBits / max(1, config.weightValueBits))
    }

    /// Wavelets per cycle the weight store delivers (infinity when unlimited).
    var inboundWaveletsPerCycle: Double {
        components.stream.inboundWaveletsPerCycle(payloadBits: config.linkPayloadBits)
    }

    /// Gradients per cycle the wafer can send to the weight store.
    var outboundGradientsPerCycle: Double {
        components.stream.outboundValuesPerCycle(bitsPerValue: config.gradientBits)
    }

    /// Link cycles per partial sum sent between cores.
    var linkCyclesPerPartialSum: Double {
        Double(components.fabric.linkCycles(values: 4096, bitsPerValue: config.partialSumBits)) / 4096
    }

    /// Link cycles per activation value (an activation row broadcast).
    var linkCyclesPerActivation: Double {
        Double(components.fabric.linkCycles(values: 4096, bitsPerValue: config.activationBytes * 8)) / 4096
    }

    var hopLatency: Int { components.fabric.hopLatency }

    /// Cycles for a value to cross the region corner to corner (a wafer-wide reduction).
    func diameterLatency(width: Int, height: Int) -> Int { (width + height) * hopLatency }
}
