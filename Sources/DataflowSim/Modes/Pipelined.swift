import Foundation

/// Layer-pipelined training: all stages work at once on successive samples. A stage's
/// per-sample time is its forward, input-gradient and weight-gradient passes (plus the
/// non-matmul work assigned to it) on its own region; the step takes the first sample's
/// trip through every stage (the fill) plus `batch - 1` times the slowest stage.
///
/// Each pass is simulated cycle by cycle on a strip of the stage (its core rows and its
/// most loaded columns) for a window of positions, with the activation zeros drawn
/// (seeded) at the stage's measured or assumed rate, then extrapolated to all positions.
enum Pipelined {
    struct PassOutcome {
        var cycles: Double
        var breakdown: Breakdown
        var skipped: Double
        var simulatedCycles: Double
        var events: Int
        var timeline: [TimelineSpan]
    }

    static func simulate(_ lowered: LoweredNetwork, batch: Int, machine: DataflowMachine, mode: SimulationMode, seed: UInt64,
                         activation: (values: [ActivationZeros.Product], note: String), traceLayer: String?,
                         progress: (@Sendable (String) -> Void)?) throws -> StepOutcome {
        let config = machine.config
        let clockHz = config.clockHz
        let sparseIndices = lowered.products.indices.filter { lowered.products[$0].isSparse && lowered.products[$0].groups == 1 }
        progress?("sampling \(sparseIndices.count) masks")
        let maskList = try parallelMap(sparseIndices, threads: simulatorThreads) { _, index in
            try MaskSource.mask(of: lowered.products[index], seed: seed)
        }
        var masks: [Int: MaskBits] = [:]
        for (index, mask) in zip(sparseIndices, maskList) { masks[index] = mask }
        let cores = try PipelinedMapper.allocate(lowered.products, masks: masks, zeros: activation.values, machine: machine)
        let stages = try lowered.products.indices.map {
            try PipelinedMapper.stage(index: $0, product: lowered.products[$0], mask: masks[$0], zeros: activation.values[$0],
                                      cores: cores[$0], machine: machine)
        }
        let total = stages.count
        final class Counter: @unchecked Sendable {
            var done = 0
            let lock = NSLock()
        }
        let counter = Counter()
        let passes = try parallelMap(stages, threads: simulatorThreads) { _, stage -> [(Pass, PassOutcome)] in
            var list: [(Pass, PassOutcome)] = [(.forward, pass(stage, .forward, machine: machine, mode: mode, seed: seed, timeline: false))]
            if stage.product.needsInputGradient {
                list.append((.inputGradient, pass(stage, .inputGradient, machine: machine, mode: mode, seed: seed, timeline: false)))
            }
            if stage.product.weight != nil {
                list.append((.weightGradient, pass(stage, .weightGradient, machine: machine, mode: mode, seed: seed, timeline: false)))
            }
            if let progress {
                counter.lock.lock()
                counter.done += 1
                let done = counter.done
                counter.lock.unlock()
                progress("[\(done)/\(total)] stage \(stage.product.node): \(stage.cores) cores")
            }
            return list
        }

        // Non-matmul work runs on the region of the product before it (or the first one).
        var owner = 0
        var operationCycles = [Double](repeating: 0, count: stages.count)
        var operationRows: [NetworkReport.Row] = []
        for step in lowered.steps {
            switch step {
            case .product(let index):
                owner = index
            case .operation(let index):
                let operation = lowered.operations[index]
                guard operation.kind != .free, !stages.isEmpty else { continue }
                let stage = stages[owner]
                let side = max(1, Int(Double(stage.cores).squareRoot()))
                for pass in [Pass.forward, .inputGradient] {
                    let cycles = NonMatmulCost.cycles(operation, pass: pass, batch: 1, cores: stage.cores, width: side, height: side,
                                                      machine: machine)
                    operationCycles[owner] += cycles
                    var breakdown = Breakdown()
                    breakdown.nonMatmul = cycles * Double(batch)
                    operationRows.append(NetworkReport.Row(
                        name: operation.node, kind: operation.kind.rawValue, pass: pass, label: operation.kind.rawValue,
                        fidelity: .composed, cycles: cycles * Double(batch), seconds: cycles * Double(batch) / clockHz,
                        breakdown: breakdown, utilisation: nil, outRows: nil, reduction: nil, positions: nil, copies: nil,
                        sparsity: nil, pattern: nil, effectiveMACs: nil, analyticalCycles: nil, mapping: nil,
                        regionCores: stage.cores, skippedZeroFraction: nil))
                }
            }
        }

        // Per-sample time of each stage, the bottleneck, and the step.
        var stageTimes: [Double] = []
        var stageBreakdowns: [Breakdown] = []
        var rows: [NetworkReport.Row] = []
        var trainingMACs = 0.0
        for (stage, results) in zip(stages, passes) {
            let rounds = Double(stage.rounds)
            var time = operationCycles[stage.index]
            var breakdown = Breakdown()
            breakdown.nonMatmul = operationCycles[stage.index]
            for (pass, outcome) in results {
                time += outcome.cycles * rounds
                breakdown = breakdown + outcome.breakdown.scaled(by: rounds)
                let macs = Double(stage.product.denseMACs) * stage.density
                    * (1 - (pass == .inputGradient ? stage.zeros.gradient : stage.zeros.input))
                trainingMACs += macs * Double(batch)
                let cycles = outcome.cycles * rounds * Double(batch)
                rows.append(NetworkReport.Row(
                    name: stage.product.node, kind: stage.product.kind.rawValue, pass: pass, label: pass.rawValue,
                    fidelity: mode == .cycle ? .cycle : .analytical, cycles: cycles, seconds: cycles / clockHz,
                    breakdown: outcome.breakdown.scaled(by: rounds * Double(batch)),
                    utilisation: macs * Double(batch) / (cycles * Double(stage.cores * machine.components.core.lanes)),
                    outRows: stage.product.M, reduction: stage.product.K, positions: stage.product.N, copies: stage.product.groups,
                    sparsity: stage.product.weight?.sparsity ?? 0,
                    pattern: stage.product.isSparse ? stage.product.weight?.pattern.description : "dense",
                    effectiveMACs: macs * Double(batch), analyticalCycles: nil, mapping: stage.mapping, regionCores: stage.cores,
                    skippedZeroFraction: outcome.skipped))
            }
            stageTimes.append(time)
            stageBreakdowns.append(breakdown)
        }
        rows += operationRows
        let bottleneck = stageTimes.indices.max { stageTimes[$0] < stageTimes[$1] } ?? 0
        let fill = stageTimes.reduce(0, +)
        var breakdown = stageBreakdowns.reduce(Breakdown(), +)
        if batch > 1, !stageBreakdowns.isEmpty { breakdown = breakdown + stageBreakdowns[bottleneck].scaled(by: Double(batch - 1)) }
        breakdown.fixedOverhead += Double(config.stepOverheadCycles)
        let cycles = fill + Double(batch - 1) * (stageTimes.isEmpty ? 0 : stageTimes[bottleneck]) + Double(config.stepOverheadCycles)

        // The bottleneck stage's forward strip as the region timeline.
        var timeline: [TimelineSpan] = []
        var timelineProduct = ""
        if mode == .cycle, !stages.isEmpty {
            let chosen = traceLayer.flatMap { name in stages.firstIndex { $0.product.node == name } } ?? bottleneck
            timeline = pass(stages[chosen], .forward, machine: machine, mode: mode, seed: seed, timeline: true).timeline
            timelineProduct = "\(stages[chosen].product.node) forward"
        }
        let spans = stages.indices.map { index in
            (name: stages[index].product.node, pass: Pass.forward, category: index == bottleneck ? "bottleneck stage" : "stage",
             cycles: stageTimes[index])
        }
        let simulated = passes.flatMap { $0 }.reduce(0) { $0 + $1.1.simulatedCycles }
        let events = passes.flatMap { $0 }.reduce(0) { $0 + $1.1.events }
        let note = "layer pipelined: every product owns a region (cores proportional to its multiply-adds after skipping zeros, at least what its weights need); the step is the first sample's trip through all stages plus (batch - 1) x the slowest stage. Cycle-level: each pass of each stage on a strip (all its core rows, its \(config.sampledColumns) most loaded columns) for a window of up to \(config.maxGroups) positions with seeded activation zeros, extrapolated to the sample's positions. Composed: the fill/bottleneck composition, non-matmul work (per element, on the region of the product before it), fixed overheads."
        let bottleneckNote = stages.isEmpty ? [] : [String(format: "bottleneck stage: %@ (%.0f cycles per sample on %d cores)",
                                                           stages[bottleneck].product.node, stageTimes[bottleneck], stages[bottleneck].cores)]
        return StepOutcome(cycles: cycles, breakdown: breakdown, rows: rows, trainingMACs: trainingMACs, spans: spans,
                           regionTimeline: timeline, regionTimelineProduct: timelineProduct, simulatedCycles: simulated,
                           events: events, notes: bottleneckNote, activationNote: activation.note, fidelityNote: note)
    }

    /// One pass of a stage, per sample.
    static func pass(_ stage: PipelinedStage, _ pass: Pass, machine: DataflowMachine, mode: SimulationMode, seed: UInt64,
                     timeline: Bool) -> PassOutcome {
        let config = machine.config
        let product = stage.product
        let core = machine.components.core
        let fabric = machine.components.fabric
        let op: VectorOp = stage.mask == nil ? .axpy : .scatterAxpy
        // Chain runs over the reduction of this pass; simulated columns share each stream.
        let isGradient = pass == .inputGradient
        let chainCount = isGradient ? stage.columns : stage.rows
        let sliceWidth = isGradient ? stage.outputsPerColumn : stage.reductionPerRow
        let crossCount = isGradient ? stage.rows : stage.columns
        let crossWidth = isGradient ? stage.reductionPerRow : stage.outputsPerColumn
        let streamedCount = isGradient ? product.M : product.K
        let zeroFraction = isGradient ? stage.zeros.gradient : stage.zeros.input
        let skipZeros = config.skipZeroActivations && zeroFraction > 0
        func crossRange(_ index: Int) -> Range<Int> {
            let limit = isGradient ? product.K : product.M
            return (index * crossWidth)..<min(limit, (index + 1) * crossWidth)
        }
        // Length of the vector operation a streamed value `key` triggers on cross slice `slice`.
        let transposed = isGradient ? nil : stage.mask?.transposed()
        func length(key: Int, slice: Int) -> Int {
            let range = crossRange(slice)
            guard let mask = stage.mask else { return range.count }
            if isGradient { return mask.count(row: key, from: range.lowerBound, to: range.upperBound) }
            return transposed!.count(row: key, from: range.lowerBound, to: range.upperBound)
        }
        // The most loaded cross slices are simulated.
        var loads: [(Int, Int)] = []
        if stage.mask == nil {
            loads = [(0, 0)]
        } else {
            // A slice's load: the non-zeros of its outputs (forward) or inputs (input gradient).
            let oriented = isGradient ? transposedForLoads(stage) : stage.mask!
            let totals = (0..<oriented.rows).map { oriented.count(row: $0, from: 0, to: oriented.columns) }
            for slice in 0..<crossCount {
                loads.append((slice, crossRange(slice).reduce(0) { $0 + totals[$1] }))
            }
            loads.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        }
        let simulated = Array(loads.prefix(min(config.sampledColumns, crossCount)).map(\.0))
        var costCache: [Int: TaskCost] = [:]
        func cost(_ elements: Int) -> TaskCost {
            if let known = costCache[elements] { return known }
            let value = core.taskCost(op, elements: elements, weights: 1)
            costCache[elements] = value
            return value
        }
        let table = simulated.map { slice in (0..<streamedCount).map { cost(length(key: $0, slice: slice)) } }
        // The streamed values of a window of positions, zeros drawn at the stage's rate.
        let positions = product.N
        let window = min(positions, config.maxGroups)
        var random = MaskSource.Uniform(seed: seed, stream: "\(product.node).\(pass.rawValue).activations")
        var wavelets = [Int32](repeating: 0, count: window * chainCount)
        var keys = [[Int32]](repeating: [], count: chainCount)
        var sent = 0
        for group in 0..<window {
            for row in 0..<chainCount {
                let start = row * sliceWidth
                let end = min(streamedCount, start + sliceWidth)
                var count: Int32 = 0
                for key in start..<end where !skipZeros || random.next() >= zeroFraction {
                    keys[row].append(Int32(key))
                    count += 1
                }
                wavelets[group * chainCount + row] = count
                sent += Int(count)
            }
        }
        let chain: StripSpec.Chain = pass == .weightGradient ? .none : .column
        let values = isGradient ? stage.reductionPerRow : stage.outputsPerColumn
        let hop = Int64(fabric.hopLatency)
        let spec = StripSpec(
            rows: chainCount, columns: simulated.count, groups: window, wavelets: wavelets,
            itemCosts: .keyed(keys: keys, table: table), controlCost: core.controlCost, chain: chain,
            chainValues: .constant(values), linkCyclesPerValue: machine.linkCyclesPerPartialSum,
            sendCost: [[TaskCost]](repeating: [core.reductionCost(.sendPartials, elements: values)], count: simulated.count),
            storeCost: [[TaskCost]](repeating: [core.reductionCost(.storePartials, elements: values)], count: simulated.count),
            streamInterval: [Double](repeating: 1, count: chainCount), streamIOLimited: [Bool](repeating: false, count: chainCount),
            columnLatency: simulated.map { Int64($0 + 1) * (hop + Int64(fabric.relayCyclesPerWavelet)) },
            relayCycles: fabric.relayCyclesPerWavelet, hopLatency: hop, inputBuffer: fabric.inputBuffer,
            accumulatorBuffers: core.accumulatorBuffers, drainCycles: Int64(core.drainCycles), recordTimeline: timeline)
        let skipped = Double(window * streamedCount - sent) / Double(max(1, window * streamedCount))
        let transfer = (Double(values) * machine.linkCyclesPerPartialSum).rounded(.up)
        let fill = Double((simulated.map { $0 + 1 }.max() ?? 1)) * Double(hop) + Double(chainCount) * Double(hop) + transfer
            + Double(core.drainCycles)
        let scale = Double(positions) / Double(window)
        switch mode {
        case .cycle:
            var engine = StripSimulation(spec: spec)
            let result = engine.run()
            let windowTime = Double(result.cycles)
            let time = windowTime > fill ? fill + (windowTime - fill) * scale : windowTime * scale
            let factor = windowTime > 0 ? time / windowTime : scale
            return PassOutcome(cycles: time, breakdown: breakdown(result.cores, total: time, factor: factor), skipped: skipped,
                               simulatedCycles: windowTime, events: result.events, timeline: result.timeline)
        case .analytical:
            var busiest = CoreStats()
            var all: [CoreStats] = []
            var cursor = [Int](repeating: 0, count: chainCount)
            for row in 0..<chainCount {
                for column in 0..<simulated.count {
                    var stats = CoreStats()
                    cursor[row] = 0
                    for group in 0..<window {
                        for _ in 0..<Int(wavelets[group * chainCount + row]) {
                            let item = table[column][Int(keys[row][cursor[row]])]
                            cursor[row] += 1
                            stats.busy += Int64(item.busy + fabric.relayCyclesPerWavelet)
                            stats.useful += item.useful
                            stats.conflicts += Int64(item.conflicts)
                        }
                        stats.busy += Int64(core.controlCost.busy)
                        if chain != .none {
                            let charge = row == chainCount - 1 ? spec.storeCost[column][0] : spec.sendCost[column][0]
                            stats.busy += Int64(charge.busy)
                            stats.reduction += Int64(charge.busy)
                        }
                    }
                    all.append(stats)
                    if stats.busy > busiest.busy { busiest = stats }
                }
            }
            let chainBound = chain == .none ? 0 : Double(window) * transfer
            let windowTime = max(Double(busiest.busy), chainBound) + fill
            let time = fill + (windowTime - fill) * scale
            return PassOutcome(cycles: time, breakdown: breakdown(all, total: time, factor: scale), skipped: skipped,
                               simulatedCycles: 0, events: 0, timeline: [])
        }
    }

    static func transposedForLoads(_ stage: PipelinedStage) -> MaskBits {
        stage.mask!.transposed()
    }

    /// Causes of a pass from its simulated cores: the average simulated core's work, the
    /// busiest core's excess, and the rest (waits) as fabric and weight-I/O stalls.
    static func breakdown(_ cores: [CoreStats], total: Double, factor: Double) -> Breakdown {
        var result = Breakdown()
        guard !cores.isEmpty else { return result }
        let count = Double(cores.count)
        let meanBusy = cores.reduce(0.0) { $0 + Double($1.busy) } / count
        result.compute = cores.reduce(0.0) { $0 + $1.useful } / count * factor
        result.sramConflict = cores.reduce(0.0) { $0 + Double($1.conflicts) } / count * factor
        result.reduction = cores.reduce(0.0) { $0 + Double($1.reduction) } / count * factor
        result.taskOverhead = cores.reduce(0.0) { $0 + $1.overhead } / count * factor
        let busiest = cores.max { $0.busy < $1.busy }!
        result.imbalanceIdle = (Double(busiest.busy) - meanBusy + Double(busiest.waitNeighbour)) * factor
        result.weightIOBound = Double(busiest.waitIO) * factor
        let rest = total - result.total
        if rest < 0 { result.imbalanceIdle = max(0, result.imbalanceIdle + rest) }
        result.fabricStall = max(0, total - result.total)
        return result
    }
}

extension StripSpec.Chain: Equatable {
    static func == (lhs: StripSpec.Chain, rhs: StripSpec.Chain) -> Bool {
        switch (lhs, rhs) {
        case (.column, .column), (.none, .none): true
        case (.identicalRow(let a), .identicalRow(let b)): a == b
        default: false
        }
    }
}
