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
        let composition = "layer pipelined: every product owns a region (cores proportional to its multiply-adds after skipping zeros, at least what its weights need); the step is the first sample's trip through all stages plus (batch - 1) x the slowest stage."
        let composed = "Composed: the fill/bottleneck composition, non-matmul work (per element, on the region of the product before it), fixed overheads."
        let note = mode == .cycle
            ? "\(composition) Cycle-level: each pass of each stage on a strip (all its core rows, its \(config.sampledColumns) most loaded columns) for a window of up to \(config.maxGroups) positions with seeded activation zeros, extrapolated to the sample's positions. \(composed)"
            // Said in the output because it matters here: measured in the README, a sparse
            // ResNet-18 step took 1.36x its closed form in cycle mode.
            : "\(composition) Analytical: each pass of each stage by the closed form of the same slicing and per-core counts (max over the sampled cores of their summed task costs and the chain bound, plus fill); no event simulation. It does not see a row's cores waiting for each other through the multicast when input buffers are short (fabric.input_buffer_wavelets), which cycle mode shows on sparse stages: prefer cycle mode for sparse pipelined networks. \(composed)"
        let bottleneckNote = stages.isEmpty ? [] : [String(format: "bottleneck stage: %@ (%.0f cycles per sample on %d cores)",
                                                           stages[bottleneck].product.node, stageTimes[bottleneck], stages[bottleneck].cores)]
        return StepOutcome(cycles: cycles, breakdown: breakdown, rows: rows, trainingMACs: trainingMACs, spans: spans,
                           regionTimeline: timeline, regionTimelineProduct: timelineProduct, simulatedCycles: simulated,
                           events: events, notes: bottleneckNote, activationNote: activation.note, fidelityNote: note)
    }

    /// The shape of one pass of a stage: the streamed values (inputs, or output gradients for
    /// the input gradient) split over the chain's core rows, each triggering on every core
    /// of its row one vector operation over the core's weights for that value.
    struct PassGeometry {
        let isGradient: Bool
        /// The streamed values each chain row receives.
        let chainSlices: [Range<Int>]
        /// The outputs (or, for the input gradient, the inputs) each cross slice holds.
        let crossSlices: [Range<Int>]
        let streamedCount: Int

        init(_ stage: PipelinedStage, _ pass: Pass) {
            isGradient = pass == .inputGradient
            let reduction = (0..<stage.rows).map(stage.reductionSlice)
            let outputs = (0..<stage.columns).map(stage.outputSlice)
            chainSlices = isGradient ? outputs : reduction
            crossSlices = isGradient ? reduction : outputs
            streamedCount = isGradient ? stage.product.M : stage.product.K
        }
    }

    /// The cost of the task a streamed value triggers on each cross slice, per value: one
    /// vector operation over the core's weights of that value (a dense column: an AXPY; a
    /// sparse one: a scattered AXPY over its non-zeros, or, with `mapping.weight_runs`, one
    /// contiguous AXPY per run of consecutive non-zeros when that is cheaper).
    static func costTable(_ stage: PipelinedStage, geometry: PassGeometry, slices: [Int], machine: DataflowMachine) -> [[TaskCost]] {
        let core = machine.components.core
        // Rows of the oriented mask are the streamed values.
        let oriented = stage.mask.map { geometry.isGradient ? $0 : $0.transposed() }
        var cache: [Int: TaskCost] = [:]
        func cached(_ op: VectorOp, _ elements: Int) -> TaskCost {
            let key = elements * 8 + (op == .axpy ? 0 : 1)
            if let known = cache[key] { return known }
            let value = core.taskCost(op, elements: elements, weights: 1)
            cache[key] = value
            return value
        }
        let start = core.taskCost(.axpy, elements: 1, weights: 0)
        return slices.map { slice in
            let range = geometry.crossSlices[slice]
            return (0..<geometry.streamedCount).map { key -> TaskCost in
                guard let oriented else { return cached(.axpy, range.count) }
                let count = oriented.count(row: key, from: range.lowerBound, to: range.upperBound)
                let scattered = cached(.scatterAxpy, count)
                guard machine.config.weightRuns, count > 1 else { return scattered }
                var runs = TaskCost(busy: start.busy - core.controlCost.busy, useful: 0, conflicts: 0)
                oriented.forEachRun(row: key, from: range.lowerBound, to: range.upperBound) { _, length in
                    let run = cached(.axpy, length)
                    runs.busy += run.busy - start.busy + core.controlCost.busy
                    runs.useful += run.useful
                    runs.conflicts += run.conflicts
                }
                return runs.busy < scattered.busy ? runs : scattered
            }
        }
    }

    /// One pass of a stage, per sample.
    static func pass(_ stage: PipelinedStage, _ pass: Pass, machine: DataflowMachine, mode: SimulationMode, seed: UInt64,
                     timeline: Bool) -> PassOutcome {
        let config = machine.config
        let product = stage.product
        let core = machine.components.core
        let fabric = machine.components.fabric
        // Chain runs over the reduction of this pass; simulated columns share each stream.
        let geometry = PassGeometry(stage, pass)
        let isGradient = geometry.isGradient
        let chainCount = geometry.chainSlices.count
        let crossCount = geometry.crossSlices.count
        let zeroFraction = isGradient ? stage.zeros.gradient : stage.zeros.input
        let skipZeros = config.skipZeroActivations && zeroFraction > 0
        // The most loaded cross slices are simulated.
        var loads: [(Int, Int)] = []
        if stage.mask == nil {
            loads = [(0, 0)]
        } else {
            // A slice's load: the non-zeros of its outputs (forward) or inputs (input gradient).
            let oriented = isGradient ? transposedForLoads(stage) : stage.mask!
            let totals = (0..<oriented.rows).map { oriented.count(row: $0, from: 0, to: oriented.columns) }
            for slice in 0..<crossCount {
                loads.append((slice, geometry.crossSlices[slice].reduce(0) { $0 + totals[$1] }))
            }
            loads.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        }
        let simulated = Array(loads.prefix(min(config.sampledColumns, crossCount)).map(\.0))
        let table = costTable(stage, geometry: geometry, slices: simulated, machine: machine)
        // The streamed values of a window of positions, zeros drawn at the stage's rate.
        let positions = product.N
        let window = min(positions, config.maxGroups)
        var random = MaskSource.Uniform(seed: seed, stream: "\(product.node).\(pass.rawValue).activations")
        var wavelets = [Int32](repeating: 0, count: window * chainCount)
        var keys = [[Int32]](repeating: [], count: chainCount)
        var sent = 0
        for group in 0..<window {
            for row in 0..<chainCount {
                var count: Int32 = 0
                for key in geometry.chainSlices[row] where !skipZeros || random.next() >= zeroFraction {
                    keys[row].append(Int32(key))
                    count += 1
                }
                wavelets[group * chainCount + row] = count
                sent += Int(count)
            }
        }
        let values = isGradient ? stage.reductionPerRow : stage.outputsPerColumn
        let hop = Int64(fabric.hopLatency)
        let spec = strip(stage, pass, slices: simulated, table: table, keys: keys, wavelets: wavelets, groups: window,
                         machine: machine, timeline: timeline)
        let skipped = Double(window * geometry.streamedCount - sent) / Double(max(1, window * geometry.streamedCount))
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
                        if spec.chain != .none {
                            let charge = row == chainCount - 1 ? spec.storeCost[column][0] : spec.sendCost[column][0]
                            stats.busy += Int64(charge.busy)
                            stats.reduction += Int64(charge.busy)
                        }
                    }
                    all.append(stats)
                    if stats.busy > busiest.busy { busiest = stats }
                }
            }
            let chainBound = spec.chain == .none ? 0 : Double(window) * transfer
            let windowTime = max(Double(busiest.busy), chainBound) + fill
            let time = fill + (windowTime - fill) * scale
            return PassOutcome(cycles: time, breakdown: breakdown(all, total: time, factor: scale), skipped: skipped,
                               simulatedCycles: 0, events: 0, timeline: [])
        }
    }

    /// The strip of one pass: the chain's core rows and the cross `slices` simulated,
    /// `groups` positions whose streamed values are `keys` (per chain row, in stream order;
    /// `wavelets[group * rows + row]` of them per position).
    static func strip(_ stage: PipelinedStage, _ pass: Pass, slices: [Int], table: [[TaskCost]], keys: [[Int32]],
                      wavelets: [Int32], groups: Int, machine: DataflowMachine, timeline: Bool) -> StripSpec {
        let core = machine.components.core
        let fabric = machine.components.fabric
        let isGradient = pass == .inputGradient
        let chainCount = isGradient ? stage.columns : stage.rows
        let values = isGradient ? stage.reductionPerRow : stage.outputsPerColumn
        let hop = Int64(fabric.hopLatency)
        return StripSpec(
            rows: chainCount, columns: slices.count, groups: groups, wavelets: wavelets,
            itemCosts: .keyed(keys: keys, table: table), controlCost: core.controlCost,
            chain: pass == .weightGradient ? .none : .column,
            chainValues: .constant(values), linkCyclesPerValue: machine.linkCyclesPerPartialSum,
            sendCost: [[TaskCost]](repeating: [core.reductionCost(.sendPartials, elements: values)], count: slices.count),
            storeCost: [[TaskCost]](repeating: [core.reductionCost(.storePartials, elements: values)], count: slices.count),
            streamInterval: [Double](repeating: 1, count: chainCount), streamIOLimited: [Bool](repeating: false, count: chainCount),
            columnLatency: slices.map { Int64($0 + 1) * (hop + Int64(fabric.relayCyclesPerWavelet)) },
            relayCycles: fabric.relayCyclesPerWavelet, hopLatency: hop, inputBuffer: fabric.inputBuffer,
            accumulatorBuffers: core.accumulatorBuffers, drainCycles: Int64(core.drainCycles), recordTimeline: timeline)
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
