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

    /// The stream every core row receives for every output row, on the product's layout.
    struct StreamTable {
        let rows: Int
        let table: [SliceStream]

        init(_ task: ProductTask, layout: SliceLayout, encoding: WeightEncoding) {
            rows = layout.rows
            var values = [SliceStream](repeating: SliceStream(), count: task.outRows * layout.rows)
            let mask = task.mask
            for panel in 0..<layout.panels {
                for group in layout.groups(panel: panel) {
                    for row in 0..<layout.rows {
                        let slice = layout.slice(panel: panel, row: row)
                        values[group * layout.rows + row] = encoding.stream(of: mask, row: group, from: slice.lowerBound,
                                                                            to: slice.upperBound)
                    }
                }
            }
            table = values
        }

        @inline(__always)
        func stream(group: Int, row: Int) -> SliceStream { table[group * rows + row] }
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

    /// A plan analysed: the streams on its layout, every panel's per-row sums and closed-form
    /// time, and the bounds no single strip shows.
    struct Analysis {
        let task: ProductTask
        let layout: SliceLayout
        let mapping: ProductMapping
        let streams: StreamTable
        let costs: ProductCosts
        let panelSums: [PanelSums]
        /// Per panel: the closed form's time and its stream bound.
        let analyticalTimes: [(time: Double, stream: Double)]
        let worstPanel: Int
        let fill: Double
        let outboundBound: Double
        let broadcastBound: Double
        /// Per wavelet of a row that streams `wavelets` in all: cycles between wavelets, and
        /// whether the weight store (not the link) sets them.
        let storeRate: Double
        let totalWavelets: Double
        /// The datapath charge of sending / storing `values` partial sums, by `values`.
        let send: [TaskCost]
        let store: [TaskCost]

        var analyticalCycles: Double { analyticalTimes[worstPanel].time }

        func interval(_ rowWavelets: Double) -> (Double, Bool) {
            guard storeRate.isFinite, rowWavelets > 0 else { return (1, false) }
            let rate = storeRate * rowWavelets / totalWavelets
            return rate < 1 ? (1 / rate, true) : (1, false)
        }

        /// Partial sums a core sends per output row: its positions, or (weight gradient) one
        /// partial dot product per weight it received.
        func values(_ weights: Int) -> Int { task.isWeightGradient ? weights : mapping.positionsPerColumn }
        func sendCost(_ values: Int) -> TaskCost { send[task.isWeightGradient ? min(values, send.count - 1) : 0] }
        func storeCost(_ values: Int) -> TaskCost { store[task.isWeightGradient ? min(values, store.count - 1) : 0] }
    }

    func analyse(_ task: ProductTask, layout: SliceLayout, mapping: ProductMapping) -> Analysis {
        let fabric = machine.components.fabric
        let streams = StreamTable(task, layout: layout, encoding: machine.weightEncoding)
        let length = mapping.positionsPerColumn
        let costs = ProductCosts(machine: machine, op: task.op, elements: length, weightsPerWavelet: mapping.weightsPerWavelet)
        let relay = fabric.relayCyclesPerWavelet
        let send: [TaskCost]
        let store: [TaskCost]
        if task.isWeightGradient {
            // The weight gradient's chain runs along identical cores: every core sends.
            send = (0...max(1, layout.widestSlice)).map { costs.send($0) }
            store = send
        } else {
            send = [costs.send(length)]
            store = [costs.store(length)]
        }
        func values(_ weights: Int) -> Int { task.isWeightGradient ? weights : length }
        func charge(_ values: Int, last: Bool) -> TaskCost {
            if task.isWeightGradient { return send[min(values, send.count - 1)] }
            return last ? store[0] : send[0]
        }

        // Sums per panel and row: the analytical model, and the choice of critical panels.
        let rows = mapping.rows
        func sums(panel: Int) -> PanelSums {
            var result = PanelSums(busy: .init(repeating: 0, count: rows), useful: .init(repeating: 0, count: rows),
                                   conflicts: .init(repeating: 0, count: rows), reduction: .init(repeating: 0, count: rows),
                                   wavelets: .init(repeating: 0, count: rows))
            for group in layout.groups(panel: panel) {
                for row in 0..<rows {
                    let stream = streams.stream(group: group, row: row)
                    let work = costs.cost(of: stream)
                    let streamed = Double(stream.wavelets)
                    let charge = charge(values(Int(stream.weights)), last: row == rows - 1)
                    result.busy[row] += work.busy + streamed * Double(relay) + Double(costs.control.busy + charge.busy)
                    result.useful[row] += work.useful
                    result.conflicts[row] += work.conflicts + Double(charge.conflicts)
                    result.reduction[row] += Double(charge.busy)
                    result.wavelets[row] += streamed + 1
                }
            }
            return result
        }
        let panelSums = (0..<layout.panels).map(sums(panel:))

        // The stream: each row gets the weight store's bandwidth in proportion to its wavelets.
        let totalWavelets = panelSums.reduce(0) { $0 + $1.wavelets.reduce(0, +) } * Double(mapping.copiesAtOnce)
        let storeRate = task.fromWeightStore ? machine.inboundWaveletsPerCycle : .infinity
        func interval(_ rowWavelets: Double) -> Double {
            guard storeRate.isFinite, rowWavelets > 0 else { return 1 }
            let rate = storeRate * rowWavelets / totalWavelets
            return rate < 1 ? 1 / rate : 1
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
        let analyticalTimes = panelSums.indices.map { index -> (time: Double, stream: Double) in
            let panel = panelSums[index]
            var stream = 0.0
            for row in 0..<rows { stream = max(stream, panel.wavelets[row] * interval(panel.wavelets[row])) }
            let chain = task.isWeightGradient ? 0 : Double(layout.groups(panel: index).count) * transfer
            return (max(panel.maxBusy, stream, chain, outboundBound, broadcastBound) + fill, stream)
        }
        let worst = analyticalTimes.indices.max { analyticalTimes[$0].time < analyticalTimes[$1].time } ?? 0
        return Analysis(task: task, layout: layout, mapping: mapping, streams: streams, costs: costs, panelSums: panelSums,
                        analyticalTimes: analyticalTimes, worstPanel: worst, fill: fill, outboundBound: outboundBound,
                        broadcastBound: broadcastBound, storeRate: storeRate, totalWavelets: totalWavelets, send: send, store: store)
    }

    /// One panel simulated cycle by cycle on a window of its output rows, extrapolated to all.
    struct PanelRun {
        let time: Double
        /// Extrapolated cycles per simulated cycle.
        let scale: Double
        let window: Int
        let outcome: StripResult
    }

    func simulatePanel(_ analysis: Analysis, panel: Int, recordTimeline: Bool = false) -> PanelRun {
        let groups = analysis.layout.groups(panel: panel).count
        let window = min(groups, machine.config.maxGroups)
        var spec = strip(analysis, panel: panel, window: window)
        spec.recordTimeline = recordTimeline
        var engine = StripSimulation(spec: spec)
        let outcome = engine.run()
        let windowTime = Double(outcome.cycles)
        var time = windowTime
        if window < groups, windowTime > analysis.fill {
            time = analysis.fill + (windowTime - analysis.fill) * Double(groups) / Double(window)
        }
        let scale = windowTime > 0 ? time / windowTime : 1
        time = max(time, analysis.outboundBound + analysis.fill, analysis.broadcastBound + analysis.fill)
        return PanelRun(time: time, scale: scale, window: window, outcome: outcome)
    }

    /// The cycle-level time of a plan: its most loaded panels by the closed form
    /// (`sampling.critical_panels`) and seeded random others (`sampling.random_panels`), each
    /// simulated on a window and extrapolated; the slowest sets the time.
    struct CycleRuns {
        var time = 0.0
        var slowest: PanelRun?
        var timeline: [TimelineSpan] = []
        var simulatedCycles = 0.0
        var events = 0
        var panels = 0
    }

    func simulatePanels(_ analysis: Analysis, recordTimeline: Bool = false) -> CycleRuns {
        let config = machine.config
        let task = analysis.task
        let times = analysis.analyticalTimes
        var chosen = Array(times.indices.sorted { times[$0].time > times[$1].time }.prefix(config.criticalPanels))
        var random = MaskSource.Uniform(seed: seed, stream: "\(task.layer).\(task.pass.rawValue).\(task.label).panels")
        for _ in 0..<config.randomPanels where chosen.count < analysis.layout.panels {
            let candidate = random.index(below: analysis.layout.panels)
            if !chosen.contains(candidate) { chosen.append(candidate) }
        }
        var runs = CycleRuns()
        for (order, panel) in chosen.enumerated() {
            let run = simulatePanel(analysis, panel: panel, recordTimeline: recordTimeline && order == 0)
            runs.simulatedCycles += Double(run.outcome.cycles)
            runs.events += run.outcome.events
            if order == 0 { runs.timeline = run.outcome.timeline }
            if run.time > runs.time {
                runs.time = run.time
                runs.slowest = run
            }
        }
        runs.panels = chosen.count
        return runs
    }

    /// The plan the simulation runs: the mapper's, or with balanced slicing of a sparse
    /// product the fastest of the mapper's candidates by the closed form; in cycle mode, when
    /// the mask has structure along the output rows (blocks, which couple a column's cores
    /// through the chain in a way the closed form does not see), by the cycle-level time.
    func plan(_ task: ProductTask, recordTimeline: Bool = false) throws -> (layout: SliceLayout, mapping: ProductMapping,
                                                                            analysis: Analysis, runs: CycleRuns?) {
        let candidates = try WeightStreamingMapper.plans(task, machine: machine)
        var best: (time: Double, analysis: Analysis, runs: CycleRuns?)?
        for candidate in candidates {
            let analysis = analyse(task, layout: candidate.layout, mapping: candidate.mapping)
            var runs: CycleRuns?
            var time = analysis.analyticalCycles
            if mode == .cycle, candidates.count == 1 || task.grid.outRows > 1 {
                runs = simulatePanels(analysis, recordTimeline: recordTimeline)
                time = runs!.time
            }
            if best == nil || time < best!.time * 0.999 { best = (time, analysis, runs) }
        }
        var chosen = best!
        if mode == .cycle, chosen.runs == nil { chosen.runs = simulatePanels(chosen.analysis, recordTimeline: recordTimeline) }
        return (chosen.analysis.layout, chosen.analysis.mapping, chosen.analysis, chosen.runs)
    }

    func simulate(_ task: ProductTask, recordTimeline: Bool = false) throws -> Outcome {
        let (layout, mapping, analysis, cycleRuns) = try plan(task, recordTimeline: recordTimeline)
        let config = machine.config
        let rows = mapping.rows
        let panelSums = analysis.panelSums
        let usedRows = Double(layout.panels * rows)
        let meanBusy = panelSums.reduce(0) { $0 + $1.busy.reduce(0, +) } / usedRows
        let meanUseful = panelSums.reduce(0) { $0 + $1.useful.reduce(0, +) } / usedRows
        let meanConflicts = panelSums.reduce(0) { $0 + $1.conflicts.reduce(0, +) } / usedRows
        let meanReduction = panelSums.reduce(0) { $0 + $1.reduction.reduce(0, +) } / usedRows
        let analyticalTimes = analysis.analyticalTimes
        let worstAnalytical = analysis.worstPanel
        let analyticalCycles = analysis.analyticalCycles
        let outboundBound = analysis.outboundBound
        let fill = analysis.fill

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

        if let runs = cycleRuns, let slowest = runs.slowest {
            copyTime = runs.time
            timeline = runs.timeline
            simulatedCycles = runs.simulatedCycles
            events = runs.events
            simulatedPanels = runs.panels
            sampledGroups = slowest.window
            let outcome = slowest.outcome
            let scale = slowest.scale
            let critical = outcome.cores.indices.max { outcome.cores[$0].busy < outcome.cores[$1].busy } ?? 0
            let stats = outcome.cores[critical]
            criticalBusy = Double(stats.busy) * scale
            criticalNeighbour = Double(stats.waitNeighbour) * scale
            criticalIO = Double(stats.waitIO) * scale
            if outboundBound + fill > Double(outcome.cycles) * scale { criticalIO += outboundBound + fill - Double(outcome.cycles) * scale }
        } else {
            copyTime = analyticalCycles
            let panel = panelSums[worstAnalytical]
            criticalBusy = panel.maxBusy
            criticalIO = max(0, analyticalTimes[worstAnalytical].stream - criticalBusy)
            criticalIO = max(criticalIO, outboundBound - criticalBusy)
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
    /// simulated, so its stream latency is the longest), the first `window` output rows; all
    /// `columns` when asked (functional mode), with the stream at the link's rate.
    func strip(_ analysis: Analysis, panel: Int, window: Int, columns: Int = 1, linkRate: Bool = false) -> StripSpec {
        let task = analysis.task
        let mapping = analysis.mapping
        let layout = analysis.layout
        let costs = analysis.costs
        let rows = mapping.rows
        let first = layout.groups(panel: panel).lowerBound
        let encoding = machine.weightEncoding
        let mask = task.mask
        var wavelets = [Int32](repeating: 0, count: window * rows)
        var weights = [Int32](repeating: 0, count: window * rows)
        var keys = [[Int32]](repeating: [], count: rows)
        for group in 0..<window {
            for row in 0..<rows {
                let stream = analysis.streams.stream(group: first + group, row: row)
                wavelets[group * rows + row] = Int32(stream.wavelets)
                weights[group * rows + row] = stream.weights
                let slice = layout.slice(panel: panel, row: row)
                encoding.appendKeys(of: mask, row: first + group, from: slice.lowerBound, to: slice.upperBound, to: &keys[row])
            }
        }
        let fabric = machine.components.fabric
        let hop = Int64(fabric.hopLatency)
        let relay = Int64(fabric.relayCyclesPerWavelet)
        let chain: StripSpec.Chain
        let chainValues: StripSpec.ChainValues
        let sendTable: [TaskCost]
        let storeTable: [TaskCost]
        if task.isWeightGradient {
            chain = .identicalRow(latency: Int64(mapping.columns - 1) * hop)
            // One partial dot product per weight the core received.
            chainValues = .perGroupRow(weights)
            sendTable = analysis.send
            storeTable = analysis.store
        } else {
            chain = .column
            chainValues = .constant(mapping.positionsPerColumn)
            sendTable = analysis.send
            storeTable = analysis.store
        }
        let rowStreams = (0..<rows).map { linkRate ? (1, false) : analysis.interval(analysis.panelSums[panel].wavelets[$0]) }
        let latencies = (0..<columns).map { column -> Int64 in
            // One simulated column stands for the farthest; all columns when they are all simulated.
            let position = columns == 1 ? mapping.latencyHops : column % mapping.subregionWidth + 1 + column / mapping.subregionWidth
            return Int64(position) * (hop + relay)
        }
        return StripSpec(
            rows: rows, columns: columns, groups: window, wavelets: wavelets,
            itemCosts: .keyed(keys: keys, table: [[TaskCost]](repeating: costs.keyed, count: columns)), controlCost: costs.control,
            chain: chain, chainValues: chainValues, linkCyclesPerValue: costs.linkCyclesPerValue,
            sendCost: [[TaskCost]](repeating: sendTable, count: columns),
            storeCost: [[TaskCost]](repeating: storeTable, count: columns),
            streamInterval: rowStreams.map(\.0), streamIOLimited: rowStreams.map(\.1), columnLatency: latencies,
            relayCycles: Int(relay), hopLatency: hop, inputBuffer: fabric.inputBuffer,
            accumulatorBuffers: mapping.accumulatorBuffers,
            drainCycles: Int64(machine.components.core.drainCycles))
    }
}
