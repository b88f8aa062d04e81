/// Fabric and weight-stream models.

/// A 2-D mesh of routers: `hop_latency_cycles` per hop, one `link_payload_bits` payload per
/// link per cycle, `input_buffer_wavelets` of credit per colour at each core, and hardware
/// multicast (without it, every core of a row re-sends each wavelet to its neighbour).
public struct MeshRouter: FabricModel {
    public let hopLatency: Int
    public let inputBuffer: Int
    public let relayCyclesPerWavelet: Int
    let payloadBits: Int

    public init(_ config: MachineConfig) {
        hopLatency = config.hopLatency
        inputBuffer = config.inputBufferWavelets
        payloadBits = config.linkPayloadBits
        relayCyclesPerWavelet = config.multicast ? 0 : 1 + config.triggerCycles
    }

    public func linkCycles(values: Int, bitsPerValue: Int) -> Int {
        guard values > 0 else { return 0 }
        // Values narrower than the payload are packed; wider ones take several wavelets.
        let perWavelet = max(1, payloadBits / max(1, bitsPerValue))
        let waveletsPerValue = max(1, (bitsPerValue + payloadBits - 1) / payloadBits)
        return bitsPerValue > payloadBits ? values * waveletsPerValue : (values + perWavelet - 1) / perWavelet
    }
}

/// A fabric without latency, back-pressure or bandwidth limit.
public struct IdealFabric: FabricModel {
    public let hopLatency = 0
    public let inputBuffer = 1 << 30
    public let relayCyclesPerWavelet = 0
    public func linkCycles(values: Int, bitsPerValue: Int) -> Int { 0 }
}

/// MemoryX: one stream into the wafer at `io.inbound_bits_per_second` and one out at
/// `io.outbound_bits_per_second`, shared by all the rows that stream at the same time.
public struct MemoryXStream: WeightStreamModel {
    let inboundBitsPerCycle: Double
    let outboundBitsPerCycle: Double

    public init(_ config: MachineConfig) {
        inboundBitsPerCycle = config.inboundBitsPerCycle
        outboundBitsPerCycle = config.outboundBitsPerCycle
    }

    public func inboundWaveletsPerCycle(payloadBits: Int) -> Double { inboundBitsPerCycle / Double(max(1, payloadBits)) }
    public func outboundValuesPerCycle(bitsPerValue: Int) -> Double { outboundBitsPerCycle / Double(max(1, bitsPerValue)) }
}

/// A weight store that never limits the wafer.
public struct UnlimitedStream: WeightStreamModel {
    public func inboundWaveletsPerCycle(payloadBits: Int) -> Double { .infinity }
    public func outboundValuesPerCycle(bitsPerValue: Int) -> Double { .infinity }
}
