/// Core models: what one task costs on a core's main thread.

/// A dataflow core (WSE-like): an arriving wavelet activates a task through the hardware
/// scheduler (`task_trigger_cycles`), which runs one vector operation per weight the
/// wavelet carries on the FMAC datapath; the SRAM model says how fast the operands flow.
/// Partial sums leave through a fabric microthread, whose SRAM reads are charged to the
/// main thread (they share the ports).
public struct DataflowCore: CoreModel {
    public let lanes: Int
    public let drainCycles: Int
    public let accumulatorBuffers: Int
    let trigger: Int
    let control: Int
    let sram: any SRAMModel
    /// Elements a reduction moves per cycle at most (it uses no FMAC lanes, only ports).
    let reductionLanes: Int

    public init(_ config: MachineConfig, sram: any SRAMModel) {
        lanes = config.lanes
        drainCycles = config.pipelineCycles
        accumulatorBuffers = config.accumulatorBuffers
        trigger = config.triggerCycles
        control = config.controlCycles
        self.sram = sram
        reductionLanes = max(1, config.readPorts * config.portBytes / max(1, config.accumulatorElementBytes))
    }

    public func taskCost(_ op: VectorOp, elements: Int, weights: Int) -> TaskCost {
        let timing = sram.timing(of: op, elements: elements, lanes: lanes)
        return TaskCost(busy: trigger + weights * timing.issueCycles,
                        useful: Double(weights * elements) / Double(lanes),
                        conflicts: weights * timing.stallCycles)
    }

    public var controlCost: TaskCost { TaskCost(busy: control, useful: 0, conflicts: 0) }

    public func reductionCost(_ op: VectorOp, elements: Int) -> TaskCost {
        guard elements > 0 else { return .zero }
        let timing = sram.timing(of: op, elements: elements, lanes: reductionLanes)
        return TaskCost(busy: trigger + timing.issueCycles, useful: 0, conflicts: timing.stallCycles)
    }
}

/// A core with free task activation and control: only the datapath costs time. Used to
/// show how much of the gap to the ideal speedup the per-wavelet overheads make.
public struct IdealCore: CoreModel {
    public let lanes: Int
    public let drainCycles = 0
    public let accumulatorBuffers: Int
    let sram: any SRAMModel

    public init(_ config: MachineConfig, sram: any SRAMModel) {
        lanes = config.lanes
        accumulatorBuffers = config.accumulatorBuffers
        self.sram = sram
    }

    public func taskCost(_ op: VectorOp, elements: Int, weights: Int) -> TaskCost {
        let timing = sram.timing(of: op, elements: elements, lanes: lanes)
        return TaskCost(busy: weights * timing.issueCycles, useful: Double(weights * elements) / Double(lanes),
                        conflicts: weights * timing.stallCycles)
    }

    public var controlCost: TaskCost { .zero }

    public func reductionCost(_ op: VectorOp, elements: Int) -> TaskCost { .zero }
}
