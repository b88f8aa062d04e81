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
    /// How the product was cut (`SlicingPolicy`): with `balanced`, `groupsPerPanel` and
    /// `reductionPerRow` are the largest panel and the widest slice.
    public let slicing: String
    /// Output-row accumulators per core: the core model's count, or, with block-aware
    /// slicing, up to two block rows' worth when the SRAM holds them (a block puts that many
    /// consecutive output rows of work on the same cores).
    public let accumulatorBuffers: Int

    public var coresUsed: Int { copiesAtOnce * panels * rows * columns }
    /// Hops from the stream's entry to the farthest core of a panel row.
    public var latencyHops: Int { min(columns, subregionWidth) + bands - 1 }

    enum CodingKeys: String, CodingKey {
        case copiesAtOnce = "copies_at_once", rounds, subregionWidth = "subregion_width", subregionHeight = "subregion_height"
        case panels, rows, columns, groupsPerPanel = "groups_per_panel", reductionPerRow = "reduction_per_row"
        case positionsPerColumn = "positions_per_column", weightsPerWavelet = "weights_per_wavelet"
        case sramBytesPerCore = "sram_bytes_per_core", bands, slicing, accumulatorBuffers = "accumulator_buffers"
    }

    /// The same mapping with the panels and slices a layout actually has.
    func with(layout: SliceLayout, sramBytesPerCore bytes: Int) -> ProductMapping {
        ProductMapping(copiesAtOnce: copiesAtOnce, rounds: rounds, subregionWidth: subregionWidth,
                       subregionHeight: subregionHeight, panels: layout.panels, rows: rows, columns: columns,
                       groupsPerPanel: layout.largestPanel, reductionPerRow: layout.widestSlice,
                       positionsPerColumn: positionsPerColumn, weightsPerWavelet: weightsPerWavelet, sramBytesPerCore: bytes,
                       bands: bands, slicing: slicing, accumulatorBuffers: accumulatorBuffers)
    }

    /// The same mapping with `buffers` accumulators per core.
    func with(accumulatorBuffers buffers: Int, sramBytesPerCore bytes: Int) -> ProductMapping {
        ProductMapping(copiesAtOnce: copiesAtOnce, rounds: rounds, subregionWidth: subregionWidth,
                       subregionHeight: subregionHeight, panels: panels, rows: rows, columns: columns,
                       groupsPerPanel: groupsPerPanel, reductionPerRow: reductionPerRow, positionsPerColumn: positionsPerColumn,
                       weightsPerWavelet: weightsPerWavelet, sramBytesPerCore: bytes, bands: bands, slicing: slicing,
                       accumulatorBuffers: buffers)
    }
}

/// The per-wavelet and per-group costs of a product on a mapping, from the components.
struct ProductCosts {
    /// A wavelet of `weightsPerWavelet` weights (the mapper's estimate).
    let item: TaskCost
    let control: TaskCost
    /// By the engine's wavelet key (`WeightEncoding`): a run header, then value wavelets of
    /// 1, 2... weights.
    let keyed: [TaskCost]
    /// A task's cost is linear in the weights it carries: `base + weights × perWeight`.
    let base: TaskCost
    let perWeight: TaskCost
    /// Datapath charge of sending / storing a group's partial sums (`values` of them).
    let send: (Int) -> TaskCost
    let store: (Int) -> TaskCost
    let linkCyclesPerValue: Double

    init(machine: DataflowMachine, op: VectorOp, elements: Int, weightsPerWavelet: Int) {
        let core = machine.components.core
        item = core.taskCost(op, elements: elements, weights: weightsPerWavelet)
        control = core.controlCost
        let packed = machine.weightsPerWavelet(sparse: false)
        keyed = [control] + (1...packed).map { core.taskCost(op, elements: elements, weights: $0) }
        base = core.taskCost(op, elements: elements, weights: 0)
        let one = core.taskCost(op, elements: elements, weights: 1)
        perWeight = TaskCost(busy: one.busy - base.busy, useful: one.useful - base.useful, conflicts: one.conflicts - base.conflicts)
        send = { core.reductionCost(.sendPartials, elements: $0) }
        store = { core.reductionCost(.storePartials, elements: $0) }
        linkCyclesPerValue = machine.linkCyclesPerPartialSum
    }

    /// The main thread's cost of one slice's stream (its wavelets' tasks, not the end of row).
    func cost(of stream: SliceStream) -> (busy: Double, useful: Double, conflicts: Double) {
        let weights = Double(stream.weights)
        let values = Double(stream.valueWavelets)
        let headers = Double(stream.headers)
        return (busy: headers * Double(control.busy) + values * Double(base.busy) + weights * Double(perWeight.busy),
                useful: values * base.useful + weights * perWeight.useful,
                conflicts: headers * Double(control.conflicts) + values * Double(base.conflicts) + weights * Double(perWeight.conflicts))
    }
}

enum WeightStreamingMapper {
    /// Bytes of SRAM a core needs for a product on a mapping.
    static func sramBytes(_ task: ProductTask, machine: DataflowMachine, rows: Int, reductionPerRow: Int, groupsPerPanel: Int,
                          positionsPerColumn: Int, accumulatorBuffers: Int? = nil) -> Int {
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
            bytes += (accumulatorBuffers ?? config.accumulatorBuffers) * length * accumulator
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
        try ranked(task, machine: machine)[0]
    }

    /// Every mapping that fits the SRAM, the smallest estimated time first (then the fewest
    /// cores). The estimate uses the mask's average density.
    static func ranked(_ task: ProductTask, machine: DataflowMachine) throws -> [ProductMapping] {
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
        var feasible: [(time: Double, cores: Int, mapping: ProductMapping)] = []
        var smallestNeed = Int.max
        for layout in layouts {
            let (columns, length, bands) = layout
            for rowCount in rowCandidates(reduction: task.reduction, height: height / bands) {
                var reductionPerRow = (task.reduction + rowCount - 1) / rowCount
                if config.slicing == .aligned, task.grid.reduction > 1 {
                    // No block or N:M group cut between two core rows.
                    reductionPerRow = (reductionPerRow + task.grid.reduction - 1) / task.grid.reduction * task.grid.reduction
                }
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
                                                 bands: bands, slicing: config.slicing.rawValue,
                                                 accumulatorBuffers: config.accumulatorBuffers)
                    feasible.append((time, mapping.coresUsed, mapping))
                }
            }
        }
        guard !feasible.isEmpty else {
            let need = smallestNeed == Int.max ? 0 : smallestNeed
            throw SimulatorError.doesNotFit(
                "\(task.layer) (\(task.pass.rawValue)): its resident data need at least \(need) bytes per core on a \(width)x\(height) region (\(task.positions) positions x reduction \(task.reduction)), but a core has \(config.dataBytesPerCore) bytes for data (sram.bytes_per_core - sram.reserved_bytes); use a larger region or mesh, or a smaller batch")
        }
        // The best: within 0.1% the mapping that uses fewer cores wins (the first found on a tie).
        var best = 0
        for (index, candidate) in feasible.enumerated().dropFirst() {
            let current = feasible[best]
            if candidate.time < current.time * 0.999 || (candidate.time <= current.time * 1.001 && candidate.cores < current.cores) {
                best = index
            }
        }
        // Then the others by estimated time, then cores, then the order found.
        let others = feasible.indices.filter { $0 != best }.sorted {
            (feasible[$0].time, feasible[$0].cores, $0) < (feasible[$1].time, feasible[$1].cores, $1)
        }
        let ranked = [feasible[best]] + others.map { feasible[$0] }
        return ranked.map(\.mapping)
    }

    /// The plans to consider for a product, the mapper's choice first: its mapping cut as
    /// `mapping.slicing` says. With balanced slicing of a sparse product, also the next few
    /// distinct mappings by the density estimate, cut the same way (a mapping that leaves the
    /// SRAM no room to widen slices cannot balance; a longer chain couples more cores): the
    /// simulator keeps the fastest. Block-aware slicing (aligned, balanced) gives each core up
    /// to two block rows of output-row accumulators, as many as the SRAM holds beside the
    /// layout (a block puts that many consecutive output rows of work on the same cores).
    static func plans(_ task: ProductTask, machine: DataflowMachine) throws -> [(layout: SliceLayout, mapping: ProductMapping)] {
        let config = machine.config
        let candidates = try ranked(task, machine: machine)
        let wanted = min(64, 2 * task.grid.outRows)
        let moreBuffers = config.slicing != .uniform && !task.isWeightGradient && wanted > config.accumulatorBuffers
        /// The most accumulators (down to the config's) that fit beside `plan`'s layout.
        func withBuffers(_ plan: (layout: SliceLayout, mapping: ProductMapping)) -> (layout: SliceLayout, mapping: ProductMapping) {
            guard moreBuffers else { return plan }
            for buffers in stride(from: wanted, to: config.accumulatorBuffers, by: -1) {
                let bytes = layoutBytes(task, plan.layout, mapping: plan.mapping, buffers: buffers, machine: machine)
                if bytes <= config.dataBytesPerCore {
                    return (plan.layout, plan.mapping.with(accumulatorBuffers: buffers, sramBytesPerCore: bytes))
                }
            }
            return plan
        }
        // Balancing widens slices and accumulators take SRAM too: cut first and give the
        // accumulators what is left, or (blocks) the other way round.
        func planned(_ mapping: ProductMapping) -> [(layout: SliceLayout, mapping: ProductMapping)] {
            var result = [withBuffers(layout(task, mapping: mapping, machine: machine))]
            if moreBuffers, config.slicing == .balanced, task.mask != nil {
                let uniform = SliceLayout.uniform(outRows: task.outRows, reduction: task.reduction,
                                                  groupsPerPanel: mapping.groupsPerPanel, rows: mapping.rows,
                                                  reductionPerRow: mapping.reductionPerRow)
                let buffered = withBuffers((uniform, mapping)).mapping
                if buffered.accumulatorBuffers != result[0].mapping.accumulatorBuffers {
                    result.append(layout(task, mapping: buffered, machine: machine))
                }
            }
            return result
        }
        var plans = planned(candidates[0])
        guard config.slicing == .balanced, task.mask != nil else { return plans }
        var seen: Set<[Int]> = []
        for mapping in candidates.prefix(64) where seen.count < maxBalancedCandidates {
            guard seen.insert([mapping.rows, mapping.panels, mapping.positionsPerColumn, mapping.bands]).inserted else { continue }
            if seen.count > 1 { plans += planned(mapping) }
        }
        return plans
    }

    /// Distinct mappings a balanced sparse product is cut on before the fastest is kept.
    static let maxBalancedCandidates = 4

    /// The most SRAM any core of the layout needs, with `buffers` accumulators.
    static func layoutBytes(_ task: ProductTask, _ layout: SliceLayout, mapping: ProductMapping, buffers: Int,
                            machine: DataflowMachine) -> Int {
        var bytes = 0
        for panel in 0..<layout.panels {
            let widest = (0..<layout.rows).map { layout.slice(panel: panel, row: $0).count }.max() ?? 0
            bytes = max(bytes, sramBytes(task, machine: machine, rows: layout.rows, reductionPerRow: widest,
                                         groupsPerPanel: layout.groups(panel: panel).count,
                                         positionsPerColumn: mapping.positionsPerColumn, accumulatorBuffers: buffers))
        }
        return bytes
    }

    /// The per-weight and per-output-row work of a core row, in cycles, for balancing.
    static func loadCosts(_ task: ProductTask, mapping: ProductMapping, machine: DataflowMachine) -> (perWeight: Double, perGroup: Double) {
        let costs = ProductCosts(machine: machine, op: task.op, elements: mapping.positionsPerColumn,
                                 weightsPerWavelet: mapping.weightsPerWavelet)
        let values = task.isWeightGradient ? mapping.reductionPerRow : mapping.positionsPerColumn
        return (perWeight: Double(costs.perWeight.busy) + Double(costs.base.busy) / Double(max(1, mapping.weightsPerWavelet)),
                perGroup: Double(costs.control.busy + costs.send(values).busy))
    }

    /// The panels and slices of a product on a mapping (`mapping.slicing`), and the mapping
    /// updated to what the layout holds (largest panel, widest slice, SRAM).
    static func layout(_ task: ProductTask, mapping: ProductMapping, machine: DataflowMachine) -> (layout: SliceLayout, mapping: ProductMapping) {
        let uniform = SliceLayout.uniform(outRows: task.outRows, reduction: task.reduction, groupsPerPanel: mapping.groupsPerPanel,
                                          rows: mapping.rows, reductionPerRow: mapping.reductionPerRow)
        guard machine.config.slicing == .balanced, let mask = task.mask, mapping.panels * mapping.rows > 1 else {
            return (uniform, mapping)
        }
        let data = machine.config.dataBytesPerCore
        let rows = mapping.rows
        func bytes(groups: Int, width: Int) -> Int {
            sramBytes(task, machine: machine, rows: rows, reductionPerRow: width, groupsPerPanel: groups,
                      positionsPerColumn: mapping.positionsPerColumn, accumulatorBuffers: mapping.accumulatorBuffers)
        }
        /// The largest value in `low...high` for which `fits` holds (`fits(low)` is true).
        func largest(from low: Int, to high: Int, _ fits: (Int) -> Bool) -> Int {
            var (good, bad) = (low, high + 1)
            while bad - good > 1 {
                let middle = (good + bad) / 2
                if fits(middle) { good = middle } else { bad = middle }
            }
            return good
        }
        // A panel may take more output rows as long as it fits with uniform slices; a slice
        // may be wider as long as its panel fits.
        let maxGroups = largest(from: mapping.groupsPerPanel, to: task.outRows) { bytes(groups: $0, width: mapping.reductionPerRow) <= data }
        let (perWeight, perGroup) = loadCosts(task, mapping: mapping, machine: machine)
        let layout = SliceLayout.balanced(
            mask: mask, panels: mapping.panels, rows: rows, maxGroups: maxGroups,
            groupLoad: { Double(mask.count(row: $0, from: 0, to: task.reduction)) * perWeight / Double(rows) + perGroup },
            maxWidth: { groups in largest(from: mapping.reductionPerRow, to: task.reduction) { bytes(groups: groups, width: $0) <= data } })
        let sram = layoutBytes(task, layout, mapping: mapping, buffers: mapping.accumulatorBuffers, machine: machine)
        return (layout, mapping.with(layout: layout, sramBytesPerCore: sram))
    }
}
