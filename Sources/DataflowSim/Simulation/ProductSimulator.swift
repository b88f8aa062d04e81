/// Cycle-level or analytical: how a product's time is obtained.
public enum SimulationMode: String, Sendable, Hashable, Codable, CaseIterable {
    case cycle, analytical
}

/// Simulates one product of a training step in weight-streaming execution: maps it, counts
/// each core's non-zeros from the real mask, simulates the critical panels cycle by cycle
/// (or evaluates the closed form), and composes the product's time and its causes.
struct ProductSimulator {
    let machine: DataflowMachine
    let mode: SimulationMode
    let seed: UInt64

    struct Outcome {
        var result: ProductResult
        var timeline: [TimelineSpan]
    }

    /// Non-zero weights per (output row, core row), from the mask or, when dense, the slice widths.
    struct Counts {
        let rows: Int
        let reductionPerRow: Int
        let reduction: Int
        let table: [Int32]?

        init(_ task: ProductTask, mapping: ProductMapping) {
            rows = mapping.rows
            reductionPerRow = mapping.reductionPerRow
            reduction = task.reduction
            switch task.weights {
            case .dense:
                table = nil
            case .sparse(let mask):
                var values = [Int32](repeating: 0, count: task.outRows * mapping.rows)
                for group in 0..<task.outRows {
                    for row in 0..<mapping.rows {
                        let start = row * mapping.reductionPerRow
                        let end = min(task.reduction, start + mapping.reductionPerRow)
                        values[group * mapping.rows + row] = Int32(mask.count(row: group, from: start, to: end))
                    }
                }
                table = values
            }
        }

        @inline(__always)
        func count(group: Int, row: Int) -> Int {
            if let table { return Int(table[group * rows + row]) }
            return max(0, min(reductionPerRow, reduction - row * reductionPerRow))
        }
    }

    /// Per-row sums of one panel.
    struct PanelSums {
        var busy: [Double]
        var useful: [Double]
        var conflicts: [Double]
        var reduction: [Double]
        var wavelets: [Double]
        var maxBusy: Double { busy.max() ?? 0 }
    }

    func simulate(_ task: ProductTask, recordTimeline: Bool = false) throws -> Outcome {
        let mapping = try WeightStreamingMapper.map(task, machine: machine)
        let config = machine.config
        let fabric = machine.components.fabric
        let counts = Counts(task, mapping: mapping)
        let perWavelet = mapping.weightsPerWavelet
        let length = mapping.positionsPerColumn
        let costs = ProductCosts(machine: machine, op: task.op, elements: length, weightsPerWavelet: perWavelet)
        let relay = fabric.relayCyclesPerWavelet
        var sendCache: [Int: TaskCost] = [:]
        var storeCache: [Int: TaskCost] = [:]
        func send(_ values: Int) -> TaskCost {
            if let cost = sendCache[values] { return cost }
            let cost = costs.send(values)
            sendCache[values] = cost
            return cost
        }
        func store(_ values: Int) -> TaskCost {
            if let cost = storeCache[values] { return cost }
            let cost = costs.store(values)
            storeCache[values] = cost
            return cost
        }
        func values(_ count: Int) -> Int { task.isWeightGradient ? count : length }
        func wavelets(_ count: Int) -> Int { (count + perWavelet - 1) / perWavelet }

        // Sums per panel and row: the analytical model, and the choice of critical panels.
        let rows = mapping.rows
        func sums(panel: Int) -> PanelSums {
            var result = PanelSums(busy: .init(repeating: 0, count: rows), useful: .init(repeating: 0, count: rows),
                                   conflicts: .init(repeating: 0, count: rows), reduction: .init(repeating: 0, count: rows),
                                   wavelets: .init(repeating: 0, count: rows))
            let first = panel * mapping.groupsPerPanel
            let last = min(task.outRows, first + mapping.groupsPerPanel)
            for group in first..<last {
                for row in 0..<rows {
                    let count = counts.count(group: group, row: row)
                    let streamed = Double(wavelets(count))
                    // The weight gradient's chain runs along identical cores: every core sends.
                    let charge = row == rows - 1 && !task.isWeightGradient ? store(values(count)) : send(values(count))
                    result.busy[row] += streamed * Double(costs.item.busy + relay) + Double(costs.control.busy + charge.busy)
                    result.useful[row] += streamed * costs.item.useful
                    result.conflicts[row] += streamed * Double(costs.item.conflicts) + Double(charge.conflicts)
                    result.reduction[row] += Double(charge.busy)
                    result.wavelets[row] += streamed + 1
                }
            }
            return result
        }
        let panelSums = (0..<mapping.panels).map(sums(panel:))
        let usedRows = Double(mapping.panels * rows)
        let meanBusy = panelSums.reduce(0) { $0 + $1.busy.reduce(0, +) } / usedRows
        let meanUseful = panelSums.reduce(0) { $0 + $1.useful.reduce(0, +) } / usedRows
        let meanConflicts = panelSums.reduce(0) { $0 + $1.conflicts.reduce(0, +) } / usedRows
        let meanReduction = panelSums.reduce(0) { $0 + $1.reduction.reduce(0, +) } / usedRows

        // The stream: each row gets the weight store's bandwidth in proportion to its wavelets.
        let totalWavelets = panelSums.reduce(0) { $0 + $1.wavelets.reduce(0, +) } * Double(mapping.copiesAtOnce)
        let storeRate = task.fromWeightStore ? machine.inboundWaveletsPerCycle : .infinity
        func interval(_ rowWavelets: Double) -> (Double, Bool) {
            guard storeRate.isFinite, rowWavelets > 0 else { return (1, false) }
            let rate = storeRate * rowWavelets / totalWavelets
            return rate < 1 ? (1 / rate, true) : (1, false)
        }

        // Bounds no single strip shows: gradients leaving for the store, and the output-gradient
        // row each group of the weight gradient needs broadcast down its column.
        var outboundBound = 0.0
        var broadcastBound = 0.0
        if task.isWeightGradient {
            outboundBound = Double(task.nonzeros) * Double(mapping.copiesAtOnce) / machine.outboundGradientsPerCycle
            broadcastBound = Double(mapping.groupsPerPanel) * (Double(length) * machine.linkCyclesPerActivation).rounded(.up)
        }
        let hop = Double(fabric.hopLatency)
        let columnLatency = Double(mapping.latencyHops) * (hop + Double(relay))
        let transfer = (Double(values(mapping.reductionPerRow)) * costs.linkCyclesPerValue).rounded(.up)
        let fill = columnLatency + Double(rows) * hop + transfer + Double(machine.components.core.drainCycles)

        // The analytical time of each panel.
        func analytical(_ panel: PanelSums, groups: Int) -> (time: Double, stream: Double) {
            var stream = 0.0
            for row in 0..<rows { stream = max(stream, panel.wavelets[row] * interval(panel.wavelets[row]).0) }
            let chain = task.isWeightGradient ? 0 : Double(groups) * transfer
            let time = max(panel.maxBusy, stream, chain, outboundBound, broadcastBound) + fill
            return (time, stream)
        }
        let panelGroups = { (panel: Int) in min(task.outRows, (panel + 1) * mapping.groupsPerPanel) - panel * mapping.groupsPerPanel }
        let analyticalTimes = panelSums.indices.map { analytical(panelSums[$0], groups: panelGroups($0)) }
        let worstAnalytical = analyticalTimes.indices.max { analyticalTimes[$0].time < analyticalTimes[$1].time } ?? 0
        let analyticalCycles = analyticalTimes[worstAnalytical].time

        var copyTime: Double
        var breakdown = Breakdown()
        breakdown.compute = meanUseful
        breakdown.sramConflict = meanConflicts
        breakdown.reduction = meanReduction
        breakdown.taskOverhead = meanBusy - meanUseful - meanConflicts - meanReduction
        var timeline: [TimelineSpan] = []
        var simulatedCycles = 0.0
        var events = 0
        var sampledGroups = mapping.groupsPerPanel
        var simulatedPanels = 0
        var criticalBusy: Double
        var criticalNeighbour = 0.0
        var criticalIO = 0.0

        switch mode {
        case .analytical:
            copyTime = analyticalCycles
            let panel = panelSums[worstAnalytical]
            criticalBusy = panel.maxBusy
            criticalIO = max(0, analyticalTimes[worstAnalytical].stream - criticalBusy)
            criticalIO = max(criticalIO, outboundBound - criticalBusy)
            simulatedPanels = 0
        case .cycle:
            // The most loaded panels by the analytical estimate, and seeded random others.
            var chosen = Array(analyticalTimes.indices.sorted { analyticalTimes[$0].time > analyticalTimes[$1].time }
                .prefix(config.criticalPanels))
            var random = MaskSource.Uniform(seed: seed, stream: "\(task.layer).\(task.pass.rawValue).\(task.label).panels")
            for _ in 0..<config.randomPanels where chosen.count < mapping.panels {
                let candidate = random.index(below: mapping.panels)
                if !chosen.contains(candidate) { chosen.append(candidate) }
            }
            copyTime = 0
            criticalBusy = 0
            for (order, panel) in chosen.enumerated() {
                let groups = panelGroups(panel)
                let window = min(groups, config.maxGroups)
                var spec = strip(task, mapping: mapping, costs: costs, counts: counts, panel: panel, window: window,
                                 send: send, store: store, interval: interval, panelSums: panelSums[panel])
                spec.recordTimeline = recordTimeline && order == 0
                var engine = StripSimulation(spec: spec)
                let outcome = engine.run()
                simulatedCycles += Double(outcome.cycles)
                events += outcome.events
                let windowTime = Double(outcome.cycles)
                var time = windowTime
                if window < groups, windowTime > fill {
                    time = fill + (windowTime - fill) * Double(groups) / Double(window)
                }
                let scale = windowTime > 0 ? time / windowTime : 1
                time = max(time, outboundBound + fill, broadcastBound + fill)
                if order == 0 { timeline = outcome.timeline }
                if time > copyTime {
                    copyTime = time
                    sampledGroups = window
                    let critical = outcome.cores.indices.max { outcome.cores[$0].busy < outcome.cores[$1].busy } ?? 0
                    let stats = outcome.cores[critical]
                    criticalBusy = Double(stats.busy) * scale
                    criticalNeighbour = Double(stats.waitNeighbour) * scale
                    criticalIO = Double(stats.waitIO) * scale
                    if outboundBound + fill > Double(outcome.cycles) * scale { criticalIO += outboundBound + fill - Double(outcome.cycles) * scale }
                }
            }
            simulatedPanels = chosen.count
        }

        breakdown.imbalanceIdle = max(0, criticalBusy - meanBusy) + criticalNeighbour
        breakdown.weightIOBound = criticalIO
        var rest = copyTime - breakdown.total
        if rest < 0 {
            // The parts cannot exceed the total; trim the critical core's terms first.
            let trim = min(-rest, breakdown.imbalanceIdle)
            breakdown.imbalanceIdle -= trim
            rest += trim
            let trimIO = min(-rest, breakdown.weightIOBound)
            breakdown.weightIOBound -= trimIO
            rest += trimIO
        }
        breakdown.fabricStall = max(0, rest)
        let rounds = Double(mapping.rounds)
        breakdown = breakdown.scaled(by: rounds)
        breakdown.fixedOverhead = Double(config.productSetupCycles)
        let cycles = breakdown.total
        let regionCores = Double(config.regionWidth * config.regionHeight)
        let utilisation = cycles > 0 ? task.effectiveMACs / (cycles * regionCores * Double(machine.components.core.lanes)) : 0
        let result = ProductResult(
            layer: task.layer, pass: task.pass, label: task.label, fidelity: mode == .cycle ? .cycle : .analytical,
            outRows: task.outRows, reduction: task.reduction, positions: task.positions, copies: task.copies,
            sparsity: task.sparsity, pattern: task.pattern, mapping: mapping, cycles: cycles, breakdown: breakdown,
            effectiveMACs: task.effectiveMACs, denseMACs: task.denseMACs, utilisation: utilisation,
            analyticalCycles: analyticalCycles * rounds + Double(config.productSetupCycles),
            sampledGroups: sampledGroups, simulatedPanels: simulatedPanels, simulatedCycles: simulatedCycles, events: events)
        return Outcome(result: result, timeline: timeline)
    }

    /// The strip of one panel: its core rows, one column (every column of a row receives the
    /// same weights and holds as many positions, so one stands for all; the farthest is
    /// simulated, so its stream latency is the longest).
    func strip(_ task: ProductTask, mapping: ProductMapping, costs: ProductCosts, counts: Counts, panel: Int, window: Int,
               send: (Int) -> TaskCost, store: (Int) -> TaskCost, interval: (Double) -> (Double, Bool),
               panelSums: PanelSums, columns: Int = 1) -> StripSpec {
        let rows = mapping.rows
        let perWavelet = mapping.weightsPerWavelet
        let first = panel * mapping.groupsPerPanel
        var wavelets = [Int32](repeating: 0, count: window * rows)
        var largest = 0
        for group in 0..<window {
            for row in 0..<rows {
                let count = counts.count(group: first + group, row: row)
                largest = max(largest, count)
                wavelets[group * rows + row] = Int32((count + perWavelet - 1) / perWavelet)
            }
        }
        let fabric = machine.components.fabric
        let hop = Int64(fabric.hopLatency)
        let relay = Int64(fabric.relayCyclesPerWavelet)
        let chain: StripSpec.Chain
        let chainValues: StripSpec.ChainValues
        var sendTable: [TaskCost]
        var storeTable: [TaskCost]
        if task.isWeightGradient {
            chain = .identicalRow(latency: Int64(mapping.columns - 1) * hop)
            // One partial dot product per weight; a wavelet carries `perWavelet` weights.
            chainValues = .perWavelet(perWavelet)
            sendTable = (0...(largest + perWavelet)).map { send($0) }
            storeTable = sendTable
        } else {
            chain = .column
            chainValues = .constant(mapping.positionsPerColumn)
            sendTable = [send(mapping.positionsPerColumn)]
            storeTable = [store(mapping.positionsPerColumn)]
        }
        let streams = (0..<rows).map { interval(panelSums.wavelets[$0]) }
        let latencies = (0..<columns).map { column -> Int64 in
            // One simulated column stands for the farthest; all columns when they are all simulated.
            let position = columns == 1 ? mapping.latencyHops : column % mapping.subregionWidth + 1 + column / mapping.subregionWidth
            return Int64(position) * (hop + relay)
        }
        return StripSpec(
            rows: rows, columns: columns, groups: window, wavelets: wavelets,
            itemCosts: .uniform([TaskCost](repeating: costs.item, count: columns)), controlCost: costs.control,
            chain: chain, chainValues: chainValues, linkCyclesPerValue: costs.linkCyclesPerValue,
            sendCost: [[TaskCost]](repeating: sendTable, count: columns),
            storeCost: [[TaskCost]](repeating: storeTable, count: columns),
            streamInterval: streams.map(\.0), streamIOLimited: streams.map(\.1), columnLatency: latencies,
            relayCycles: Int(relay), hopLatency: hop, inputBuffer: fabric.inputBuffer,
            accumulatorBuffers: machine.components.core.accumulatorBuffers,
            drainCycles: Int64(machine.components.core.drainCycles))
    }
}
