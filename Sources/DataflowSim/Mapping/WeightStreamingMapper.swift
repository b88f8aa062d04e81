/// How a product is laid out on a region in weight-streaming execution.
///
/// The region is cut into `copiesAtOnce` sub-regions (one per independent copy running at
/// the same time; `rounds` of them run one after another). A sub-region holds `panels`
/// panels stacked vertically; a panel is `rows × columns` cores. Core (r, c) of panel p
/// holds the resident activations of reduction slice r (`reductionPerRow` rows) and
/// position slice c (`positionsPerColumn` columns), and accumulates the output rows of
/// panel p (`groupsPerPanel` of them). A weight of output row m and reduction index k is
/// multicast to every core of row r(k) in panel p(m); the partial sums of an output row
/// are summed down each column of its panel, and the last core of the column keeps the
/// result (so outputs end up distributed like inputs). When the positions need more
/// columns than the region is wide, a panel row folds over `bands` physical rows (the
/// multicast snakes through them).
public struct ProductMapping: Sendable, Hashable, Codable {
    public let copiesAtOnce: Int
    public let rounds: Int
    public let subregionWidth: Int
    public let subregionHeight: Int
    public let panels: Int
    public let rows: Int
    public let columns: Int
    public let groupsPerPanel: Int
    public let reductionPerRow: Int
    public let positionsPerColumn: Int
    public let weightsPerWavelet: Int
    public let sramBytesPerCore: Int
    /// Physical rows one panel row folds over (1 when the columns fit the region's width).
    public let bands: Int

    public var coresUsed: Int { copiesAtOnce * panels * rows * columns }
    /// Hops from the stream's entry to the farthest core of a panel row.
    public var latencyHops: Int { min(columns, subregionWidth) + bands - 1 }

    enum CodingKeys: String, CodingKey {
        case copiesAtOnce = "copies_at_once", rounds, subregionWidth = "subregion_width", subregionHeight = "subregion_height"
        case panels, rows, columns, groupsPerPanel = "groups_per_panel", reductionPerRow = "reduction_per_row"
        case positionsPerColumn = "positions_per_column", weightsPerWavelet = "weights_per_wavelet"
        case sramBytesPerCore = "sram_bytes_per_core", bands
    }
}

/// The per-wavelet and per-group costs of a product on a mapping, from the components.
struct ProductCosts {
    let item: TaskCost
    let control: TaskCost
    /// Datapath charge of sending / storing a group's partial sums (`values` of them).
    let send: (Int) -> TaskCost
    let store: (Int) -> TaskCost
    let linkCyclesPerValue: Double

    init(machine: DataflowMachine, op: VectorOp, elements: Int, weightsPerWavelet: Int) {
        let core = machine.components.core
        item = core.taskCost(op, elements: elements, weights: weightsPerWavelet)
        control = core.controlCost
        send = { core.reductionCost(.sendPartials, elements: $0) }
        store = { core.reductionCost(.storePartials, elements: $0) }
        linkCyclesPerValue = machine.linkCyclesPerPartialSum
    }
}

enum WeightStreamingMapper {
    /// Bytes of SRAM a core needs for a product on a mapping.
    static func sramBytes(_ task: ProductTask, machine: DataflowMachine, rows: Int, reductionPerRow: Int, groupsPerPanel: Int,
                          positionsPerColumn: Int) -> Int {
        let config = machine.config
        let activation = config.activationBytes
        let accumulator = config.accumulatorElementBytes
        let length = positionsPerColumn
        // Resident input slab, and the slab of outputs the column keeps.
        var bytes = reductionPerRow * length * activation
        bytes += (groupsPerPanel + rows - 1) / rows * length * activation
        if task.isWeightGradient {
            // The broadcast output-gradient row being used, and the partial dot products.
            bytes += length * activation + 2 * reductionPerRow * accumulator
        } else {
            bytes += config.accumulatorBuffers * length * accumulator
        }
        return bytes
    }

    /// Candidate counts of core rows for a reduction of `reduction` on `height` rows.
    static func rowCandidates(reduction: Int, height: Int) -> [Int] {
        var candidates = Set<Int>()
        var power = 1
        while power <= min(reduction, height) {
            candidates.insert(power)
            power *= 2
        }
        let limit = min(reduction, height)
        if limit <= 1 << 16 {
            for divisor in 1...max(1, limit) where reduction % divisor == 0 { candidates.insert(divisor) }
        }
        candidates.insert(limit)
        return candidates.sorted()
    }

    /// The mapping with the smallest estimated time that fits the SRAM.
    static func map(_ task: ProductTask, machine: DataflowMachine) throws -> ProductMapping {
        let config = machine.config
        let regionWidth = config.regionWidth
        let regionHeight = config.regionHeight
        // Sub-regions for independent copies.
        let across = min(task.copies, regionWidth)
        let down = min((task.copies + across - 1) / across, regionHeight)
        let copiesAtOnce = across * down
        let rounds = (task.copies + copiesAtOnce - 1) / copiesAtOnce
        let width = regionWidth / across
        let height = regionHeight / down
        let sparse = task.isSparse
        let perWavelet = task.isWeightGradient && !sparse ? machine.weightsPerWavelet(sparse: false) : machine.weightsPerWavelet(sparse: sparse)
        let density = Double(task.nonzeros) / Double(max(1, task.outRows * task.reduction))
        // Positions per column and the columns that then hold some, for panel rows folded
        // over 1, 2, 4... physical rows.
        var layouts: [(columns: Int, length: Int, bands: Int)] = []
        var fold = 1
        while fold <= height {
            let available = min(width * fold, task.positions)
            let length = (task.positions + available - 1) / available
            let columns = (task.positions + length - 1) / length
            layouts.append((columns, length, (columns + width - 1) / width))
            if available == task.positions { break }
            fold *= 2
        }
        var costCache: [Int: ProductCosts] = [:]
        var best: (time: Double, cores: Int, mapping: ProductMapping)?
        var smallestNeed = Int.max
        for layout in layouts {
            let (columns, length, bands) = layout
            for rowCount in rowCandidates(reduction: task.reduction, height: height / bands) {
                let reductionPerRow = (task.reduction + rowCount - 1) / rowCount
                let rows = (task.reduction + reductionPerRow - 1) / reductionPerRow
                let maximumPanels = min(height / (rows * bands), task.outRows)
                guard maximumPanels >= 1 else { continue }
                var panelCandidates = Set([maximumPanels])
                var power = 1
                while power < maximumPanels {
                    panelCandidates.insert(power)
                    power *= 2
                }
                for panels in panelCandidates.sorted() {
                    let groupsPerPanel = (task.outRows + panels - 1) / panels
                    let usedPanels = (task.outRows + groupsPerPanel - 1) / groupsPerPanel
                    let bytes = sramBytes(task, machine: machine, rows: rows, reductionPerRow: reductionPerRow,
                                          groupsPerPanel: groupsPerPanel, positionsPerColumn: length)
                    smallestNeed = min(smallestNeed, bytes)
                    guard bytes <= config.dataBytesPerCore else { continue }
                    let costs = costCache[length] ?? ProductCosts(machine: machine, op: task.op, elements: length, weightsPerWavelet: perWavelet)
                    costCache[length] = costs
                    let waveletsPerGroup = (Double(reductionPerRow) * density / Double(perWavelet)).rounded(.up)
                    let values = task.isWeightGradient ? Int(Double(reductionPerRow) * density) : length
                    let perGroup = waveletsPerGroup * Double(costs.item.busy + machine.components.fabric.relayCyclesPerWavelet)
                        + Double(costs.control.busy) + Double(costs.send(values).busy)
                    var time = Double(groupsPerPanel) * perGroup
                    time = max(time, Double(groupsPerPanel) * Double(values) * costs.linkCyclesPerValue)
                    time += Double((min(columns, width) + bands + rows) * machine.hopLatency)
                    let mapping = ProductMapping(copiesAtOnce: copiesAtOnce, rounds: rounds, subregionWidth: width,
                                                 subregionHeight: height, panels: usedPanels, rows: rows, columns: columns,
                                                 groupsPerPanel: groupsPerPanel, reductionPerRow: reductionPerRow,
                                                 positionsPerColumn: length, weightsPerWavelet: perWavelet, sramBytesPerCore: bytes,
                                                 bands: bands)
                    let cores = mapping.coresUsed
                    if let current = best {
                        if time < current.time * 0.999 || (time <= current.time * 1.001 && cores < current.cores) {
                            best = (time, cores, mapping)
                        }
                    } else {
                        best = (time, cores, mapping)
                    }
                }
            }
        }
        guard let chosen = best else {
            let need = smallestNeed == Int.max ? 0 : smallestNeed
            throw SimulatorError.doesNotFit(
                "\(task.layer) (\(task.pass.rawValue)): its resident data need at least \(need) bytes per core on a \(width)x\(height) region (\(task.positions) positions x reduction \(task.reduction)), but a core has \(config.dataBytesPerCore) bytes for data (sram.bytes_per_core - sram.reserved_bytes); use a larger region or mesh, or a smaller batch")
        }
        return chosen.mapping
    }
}
