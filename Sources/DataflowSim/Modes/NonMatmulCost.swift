/// Non-matmul work (norms, softmax, elementwise, pooling, embeddings), costed per element:
/// composed, not simulated cycle by cycle. A pass of an operation over `elements` values
/// spread on `cores` cores takes `elements × cycles_per_element / cores` cycles, plus a
/// wafer-wide reduction's latency for the operations that need one (norms, softmax,
/// global pooling). The backward pass costs `nonmatmul.backward_factor` times the forward.
enum NonMatmulCost {
    static func cyclesPerElement(_ kind: LoweredOperation.Kind, _ costs: MachineConfig.NonMatmul) -> Double {
        switch kind {
        case .elementwise: costs.elementwise
        case .gelu: costs.gelu
        case .norm: costs.norm
        case .softmax: costs.softmax
        case .pool: costs.pool
        case .embedding: costs.embedding
        case .free: 0
        }
    }

    /// Cycles of one pass of `operation` for `batch` samples on `cores` cores of a
    /// `width × height` region.
    static func cycles(_ operation: LoweredOperation, pass: Pass, batch: Int, cores: Int, width: Int, height: Int,
                       machine: DataflowMachine) -> Double {
        guard operation.kind != .free, operation.elements > 0, cores > 0 else { return 0 }
        let config = machine.config
        let perElement = cyclesPerElement(operation.kind, config.nonMatmul)
        var cycles = (Double(operation.elements) * Double(batch) * perElement / Double(cores)).rounded(.up)
        if operation.reducesAcrossCores { cycles += Double(machine.diameterLatency(width: width, height: height)) }
        return pass == .forward ? cycles : (cycles * config.nonMatmul.backwardFactor).rounded(.up)
    }
}
