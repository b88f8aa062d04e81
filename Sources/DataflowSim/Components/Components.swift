/// The component interfaces of the machine model. Each slot (core, SRAM, fabric, weight
/// stream) has a small protocol and registered implementations; a config picks one by name
/// (`components.core = "dataflow-core"`), so a different core or router is swapped in
/// without touching the engine. Components are timing models: the engine
/// (`StripSimulation`) owns the event queue and the dataflow state, and asks the components
/// how long each step takes.

public enum ComponentSlot: String, Sendable, CaseIterable {
    case core, sram, fabric
    case weightStream = "weight_stream"
}

/// A vector operation a core runs on its SRAM, one element per lane per cycle at best.
public enum VectorOp: String, Hashable, Sendable, CaseIterable {
    /// `y[i] += a·x[i]`: x an activation row, y an accumulator row (both contiguous).
    case axpy
    /// `acc += x[i]·y[i]` over two activation rows (the weight gradient).
    case dot
    /// `y[index[i]] += w[i]·a`: a compressed weight column (value and index contiguous)
    /// scattered into an accumulator (layer-pipelined execution with sparse weights).
    case scatterAxpy = "scatter_axpy"
    /// Reads an accumulator row and sends it on (the first links of a partial-sum chain).
    case sendPartials = "send_partials"
    /// Adds an incoming partial-sum row into an accumulator row (the chain's last core).
    case storePartials = "store_partials"
}

/// How long a vector operation keeps the core's datapath busy.
public struct DatapathTiming: Hashable, Sendable {
    /// Cycles from the first issue to the last (the operation's share of the core).
    public var issueCycles: Int
    /// Of these, cycles in which nothing could issue for lack of an SRAM port or bank.
    public var stallCycles: Int
}

/// The cost of one task on a core's main thread, split by cause.
public struct TaskCost: Hashable, Sendable {
    /// Cycles the core is occupied.
    public var busy: Int
    /// Lane-cycles of real multiply-adds (elements / lanes): the part no machine avoids.
    public var useful: Double
    /// Cycles lost to SRAM port and bank conflicts.
    public var conflicts: Int
    /// Everything else: task activation, control, lanes left idle by a short vector.
    public var overhead: Double { Double(busy) - useful - Double(conflicts) }

    public static let zero = TaskCost(busy: 0, useful: 0, conflicts: 0)
}

public protocol SRAMModel: Sendable {
    /// Issue cycles of `elements` elements of `op` at up to `lanes` elements per cycle.
    func timing(of op: VectorOp, elements: Int, lanes: Int) -> DatapathTiming
}

public protocol CoreModel: Sendable {
    /// Multiply-adds per cycle at the configured precision.
    var lanes: Int { get }
    /// Cycles from a task's last issue to its last result written.
    var drainCycles: Int { get }
    /// Output-row accumulators: how far the core may run ahead of the partial-sum chain.
    var accumulatorBuffers: Int { get }
    /// One arriving wavelet's task: `weights` vector operations of `elements` elements each.
    func taskCost(_ op: VectorOp, elements: Int, weights: Int) -> TaskCost
    /// The task an end-of-row control wavelet triggers.
    var controlCost: TaskCost { get }
    /// The datapath share of sending or storing `elements` partial sums.
    func reductionCost(_ op: VectorOp, elements: Int) -> TaskCost
}

public protocol FabricModel: Sendable {
    /// Cycles for a wavelet to cross one router and link.
    var hopLatency: Int { get }
    /// Wavelets a core's input queue holds per colour (the credit count).
    var inputBuffer: Int { get }
    /// Cycles a link is occupied by `values` values of `bitsPerValue` bits.
    func linkCycles(values: Int, bitsPerValue: Int) -> Int
    /// Core cycles spent forwarding each wavelet of a row broadcast (0 with hardware multicast).
    var relayCyclesPerWavelet: Int { get }
}

public protocol WeightStreamModel: Sendable {
    /// Wavelets per cycle the off-wafer store delivers into the wafer (infinity: unlimited).
    func inboundWaveletsPerCycle(payloadBits: Int) -> Double
    /// Values per cycle the wafer can send back to the store.
    func outboundValuesPerCycle(bitsPerValue: Int) -> Double
}

/// One implementation of each slot, built from a config.
public struct ComponentSet: Sendable {
    public let core: any CoreModel
    public let sram: any SRAMModel
    public let fabric: any FabricModel
    public let stream: any WeightStreamModel

    public init(_ config: MachineConfig) throws {
        guard let makeSRAM = ComponentRegistry.sram.first(where: { $0.name == config.sramComponent })?.make,
              let makeCore = ComponentRegistry.cores.first(where: { $0.name == config.coreComponent })?.make,
              let makeFabric = ComponentRegistry.fabrics.first(where: { $0.name == config.fabricComponent })?.make,
              let makeStream = ComponentRegistry.weightStreams.first(where: { $0.name == config.weightStreamComponent })?.make else {
            throw SimulatorError.invalidConfig("\(config.name): a component name is not registered")
        }
        sram = makeSRAM(config)
        core = makeCore(config, sram)
        fabric = makeFabric(config)
        stream = makeStream(config)
    }
}

/// The registered implementations, by the names configs use. To add one, write a type
/// conforming to the slot's protocol and add a line here (see the module README).
public enum ComponentRegistry {
    public static let sram: [(name: String, make: @Sendable (MachineConfig) -> any SRAMModel)] = [
        ("banked-sram", { BankedSRAM($0) }),
        ("ideal-sram", { IdealSRAM(portBytes: $0.portBytes) }),
    ]
    public static let cores: [(name: String, make: @Sendable (MachineConfig, any SRAMModel) -> any CoreModel)] = [
        ("dataflow-core", { DataflowCore($0, sram: $1) }),
        ("ideal-core", { IdealCore($0, sram: $1) }),
    ]
    public static let fabrics: [(name: String, make: @Sendable (MachineConfig) -> any FabricModel)] = [
        ("mesh-router", { MeshRouter($0) }),
        ("ideal-fabric", { _ in IdealFabric() }),
    ]
    public static let weightStreams: [(name: String, make: @Sendable (MachineConfig) -> any WeightStreamModel)] = [
        ("memoryx", { MemoryXStream($0) }),
        ("unlimited", { _ in UnlimitedStream() }),
    ]

    public static func names(for slot: ComponentSlot) -> [String] {
        switch slot {
        case .core: cores.map(\.name)
        case .sram: sram.map(\.name)
        case .fabric: fabrics.map(\.name)
        case .weightStream: weightStreams.map(\.name)
        }
    }
}
