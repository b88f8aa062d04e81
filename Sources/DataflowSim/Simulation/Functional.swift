/// Functional mode: the simulated cores compute the real numbers. Every wavelet carries its
/// weight (or activation) value, every task updates the core's own accumulator, partial
/// sums travel down the chain in the order the engine runs them, and the chain's last core
/// stores the result, which is checked against the plain product computed in Double.
public struct FunctionalResult: Sendable, Codable, Hashable {
    public let passed: Bool
    public let maxError: Double
    /// `c · K · eps_fp32 · max_i sum_k |w||x|`: the tolerance of fp32 accumulation in another order.
    public let tolerance: Double
    public let checkedValues: Int

    enum CodingKeys: String, CodingKey {
        case passed, maxError = "max_error", tolerance, checkedValues = "checked_values"
    }
}

enum Functional {
    /// Largest product the functional mode accepts (every core of every panel is simulated).
    static let maximumMACs = 1 << 26

    /// Runs `pass` of `Y = W·X` functionally in weight-streaming execution.
    static func weightStreaming(m: Int, k: Int, n: Int, mask: MaskBits?, pass: Pass, machine: DataflowMachine,
                                seed: UInt64) throws -> FunctionalResult {
        guard m * k * n <= maximumMACs else {
            throw SimulatorError.invalidArgument("functional mode simulates every core: use at most \(maximumMACs) multiply-adds (m·k·n), got \(m * k * n)")
        }
        let weights = MaskSource.values(count: m * k, seed: seed, stream: "functional.weight").enumerated().map { index, value in
            mask.map { $0.contains(row: index / k, column: index % k) ? value : 0 } ?? value
        }
        switch pass {
        case .forward, .inputGradient:
            // The input gradient is the same dataflow on the transposed weight.
            let (rows, reduction) = pass == .forward ? (m, k) : (k, m)
            var oriented = weights
            if pass == .inputGradient {
                oriented = [Float](repeating: 0, count: m * k)
                for row in 0..<m { for column in 0..<k { oriented[column * m + row] = weights[row * k + column] } }
            }
            let orientedMask = mask.map { pass == .forward ? $0 : $0.transposed() }
            let input = MaskSource.values(count: reduction * n, seed: seed, stream: "functional.input")
            let task = ProductTask(layer: "functional", pass: pass, label: pass.rawValue, op: .axpy, outRows: rows,
                                   reduction: reduction, positions: n, copies: 1,
                                   weights: orientedMask.map { .sparse($0) } ?? .dense, fromWeightStore: true,
                                   isWeightGradient: false, sparsity: 0, pattern: "")
            let output = try runStrips(task, weights: oriented, input: input, machine: machine, seed: seed)
            return compare(output, reference(oriented, input, rows: rows, reduction: reduction, n: n),
                           scale: scale(oriented, input, rows: rows, reduction: reduction, n: n), reduction: reduction)
        case .weightGradient:
            // dW (m×k) at the mask's non-zeros = dY (m×n) · Xᵀ (n×k).
            let outputGradient = MaskSource.values(count: m * n, seed: seed, stream: "functional.output_gradient")
            let input = MaskSource.values(count: k * n, seed: seed, stream: "functional.input")
            let task = ProductTask(layer: "functional", pass: pass, label: pass.rawValue, op: .dot, outRows: m, reduction: k,
                                   positions: n, copies: 1, weights: mask.map { .sparse($0) } ?? .dense, fromWeightStore: true,
                                   isWeightGradient: true, sparsity: 0, pattern: "")
            let output = try runGradientStrips(task, outputGradient: outputGradient, input: input, machine: machine, seed: seed)
            var expected = [Double](repeating: 0, count: m * k)
            var bound = 0.0
            for row in 0..<m {
                for column in 0..<k where mask?.contains(row: row, column: column) ?? true {
                    var sum = 0.0
                    var magnitude = 0.0
                    for position in 0..<n {
                        let product = Double(outputGradient[row * n + position]) * Double(input[column * n + position])
                        sum += product
                        magnitude += abs(product)
                    }
                    expected[row * k + column] = sum
                    bound = max(bound, magnitude)
                }
            }
            return compare(output, expected, scale: bound, reduction: n)
        }
    }

    static func reference(_ weights: [Float], _ input: [Float], rows: Int, reduction: Int, n: Int) -> [Double] {
        var output = [Double](repeating: 0, count: rows * n)
        for row in 0..<rows {
            for inner in 0..<reduction where weights[row * reduction + inner] != 0 {
                let weight = Double(weights[row * reduction + inner])
                for position in 0..<n { output[row * n + position] += weight * Double(input[inner * n + position]) }
            }
        }
        return output
    }

    static func scale(_ weights: [Float], _ input: [Float], rows: Int, reduction: Int, n: Int) -> Double {
        var largest = 0.0
        for row in 0..<rows {
            for position in 0..<n {
                var sum = 0.0
                for inner in 0..<reduction { sum += abs(Double(weights[row * reduction + inner]) * Double(input[inner * n + position])) }
                largest = max(largest, sum)
            }
        }
        return largest
    }

    static func compare(_ actual: [Float], _ expected: [Double], scale: Double, reduction: Int) -> FunctionalResult {
        var worst = 0.0
        for (value, truth) in zip(actual, expected) { worst = max(worst, abs(Double(value) - truth)) }
        // fp32 accumulation in a different order: a few ulps per term of the longest sum.
        let tolerance = 4 * Double(max(1, reduction)) * Double(Float.ulpOfOne) * max(scale, 1e-30)
        return FunctionalResult(passed: worst <= tolerance && actual.count == expected.count, maxError: worst,
                                tolerance: tolerance, checkedValues: actual.count)
    }

    /// Every panel of the forward-style dataflow, all columns, all groups, with values.
    static func runStrips(_ task: ProductTask, weights: [Float], input: [Float], machine: DataflowMachine, seed: UInt64) throws -> [Float] {
        let mapping = try WeightStreamingMapper.map(task, machine: machine)
        let simulator = ProductSimulator(machine: machine, mode: .cycle, seed: seed)
        let counts = ProductSimulator.Counts(task, mapping: mapping)
        let costs = ProductCosts(machine: machine, op: task.op, elements: mapping.positionsPerColumn,
                                 weightsPerWavelet: mapping.weightsPerWavelet)
        var output = [Float](repeating: 0, count: task.outRows * task.positions)
        for panel in 0..<mapping.panels {
            let first = panel * mapping.groupsPerPanel
            let groups = min(task.outRows, first + mapping.groupsPerPanel) - first
            let sums = ProductSimulator.PanelSums(busy: [], useful: [], conflicts: [], reduction: [],
                                                  wavelets: [Double](repeating: 1, count: mapping.rows))
            let spec = simulator.strip(task, mapping: mapping, costs: costs, counts: counts, panel: panel, window: groups,
                                       send: { costs.send($0) }, store: { costs.store($0) }, interval: { _ in (1, false) },
                                       panelSums: sums, columns: mapping.columns)
            let payload = AccumulatingPayload(task: task, mapping: mapping, panel: panel, weights: weights, input: input,
                                              accumulatorBuffers: spec.accumulatorBuffers)
            var engine = StripSimulation(spec: spec, payload: payload)
            _ = engine.run()
            for (index, value) in payload.output { output[index] = value }
            guard payload.stored == groups * mapping.columns else {
                throw SimulatorError.invalidArgument("functional run of panel \(panel) stored \(payload.stored) of \(groups * mapping.columns) output slices")
            }
        }
        return output
    }

    /// The weight gradient's dataflow with values: partial dot products per column, summed
    /// along the row.
    static func runGradientStrips(_ task: ProductTask, outputGradient: [Float], input: [Float], machine: DataflowMachine,
                                  seed: UInt64) throws -> [Float] {
        let mapping = try WeightStreamingMapper.map(task, machine: machine)
        let simulator = ProductSimulator(machine: machine, mode: .cycle, seed: seed)
        let counts = ProductSimulator.Counts(task, mapping: mapping)
        let costs = ProductCosts(machine: machine, op: task.op, elements: mapping.positionsPerColumn,
                                 weightsPerWavelet: mapping.weightsPerWavelet)
        var output = [Float](repeating: 0, count: task.outRows * task.reduction)
        for panel in 0..<mapping.panels {
            let first = panel * mapping.groupsPerPanel
            let groups = min(task.outRows, first + mapping.groupsPerPanel) - first
            let sums = ProductSimulator.PanelSums(busy: [], useful: [], conflicts: [], reduction: [],
                                                  wavelets: [Double](repeating: 1, count: mapping.rows))
            let spec = simulator.strip(task, mapping: mapping, costs: costs, counts: counts, panel: panel, window: groups,
                                       send: { costs.send($0) }, store: { costs.store($0) }, interval: { _ in (1, false) },
                                       panelSums: sums, columns: mapping.columns)
            let payload = GradientPayload(task: task, mapping: mapping, panel: panel, outputGradient: outputGradient, input: input)
            var engine = StripSimulation(spec: spec, payload: payload)
            _ = engine.run()
            for (index, value) in payload.output { output[index] += value }
        }
        return output
    }
}

/// The weights a core row receives for one output row, in stream order.
private func streamedWeights(_ task: ProductTask, mapping: ProductMapping, group: Int, row: Int) -> [Int] {
    let start = row * mapping.reductionPerRow
    let end = min(task.reduction, start + mapping.reductionPerRow)
    switch task.weights {
    case .dense: return Array(start..<end)
    case .sparse(let mask): return (start..<end).filter { mask.contains(row: group, column: $0) }
    }
}

/// Accumulators, partial sums in flight and stored outputs of a forward-style strip.
private final class AccumulatingPayload: StripPayload {
    let task: ProductTask
    let mapping: ProductMapping
    let panel: Int
    let weights: [Float]
    let input: [Float]
    let buffers: Int
    /// Per core and accumulator slot: the row of `positionsPerColumn` partial sums.
    var accumulators: [[Float]]
    /// Partial sums received from the previous core, by (core, group).
    var inbox: [Int: [Float]] = [:]
    var output: [Int: Float] = [:]
    var stored = 0
    var streamed: [Int: [Int]] = [:]

    init(task: ProductTask, mapping: ProductMapping, panel: Int, weights: [Float], input: [Float], accumulatorBuffers: Int) {
        self.task = task
        self.mapping = mapping
        self.panel = panel
        self.weights = weights
        self.input = input
        buffers = accumulatorBuffers
        accumulators = [[Float]](repeating: [Float](repeating: 0, count: mapping.positionsPerColumn),
                                 count: mapping.rows * mapping.columns * accumulatorBuffers)
    }

    func positions(_ column: Int) -> Range<Int> {
        let start = column * mapping.positionsPerColumn
        return start..<min(task.positions, start + mapping.positionsPerColumn)
    }

    func item(row: Int, column: Int, group: Int, index: Int) {
        let outRow = panel * mapping.groupsPerPanel + group
        let key = outRow * mapping.rows + row
        let list = streamed[key] ?? streamedWeights(task, mapping: mapping, group: outRow, row: row)
        streamed[key] = list
        let slot = (row * mapping.columns + column) * buffers + group % buffers
        let range = positions(column)
        // One wavelet carries `weightsPerWavelet` weights.
        let first = index * mapping.weightsPerWavelet
        for inner in list[min(first, list.count)..<min(first + mapping.weightsPerWavelet, list.count)] {
            let weight = weights[outRow * task.reduction + inner]
            for (offset, position) in range.enumerated() {
                accumulators[slot][offset] += weight * input[inner * task.positions + position]
            }
        }
    }

    func reduced(row: Int, column: Int, group: Int, isLast: Bool) {
        let core = row * mapping.columns + column
        let slot = core * buffers + group % buffers
        var sum = accumulators[slot]
        if let incoming = inbox.removeValue(forKey: core * 1_000_000 + group) {
            for index in sum.indices { sum[index] += incoming[index] }
        }
        accumulators[slot] = [Float](repeating: 0, count: mapping.positionsPerColumn)
        if isLast {
            let outRow = panel * mapping.groupsPerPanel + group
            for (offset, position) in positions(column).enumerated() { output[outRow * task.positions + position] = sum[offset] }
            stored += 1
        } else {
            inbox[(core + mapping.columns) * 1_000_000 + group] = sum
        }
    }
}

/// Partial dot products of the weight gradient, summed over the columns of a row.
private final class GradientPayload: StripPayload {
    let task: ProductTask
    let mapping: ProductMapping
    let panel: Int
    let outputGradient: [Float]
    let input: [Float]
    var partial: [Int: Float] = [:]
    var output: [Int: Float] = [:]

    init(task: ProductTask, mapping: ProductMapping, panel: Int, outputGradient: [Float], input: [Float]) {
        self.task = task
        self.mapping = mapping
        self.panel = panel
        self.outputGradient = outputGradient
        self.input = input
    }

    func item(row: Int, column: Int, group: Int, index: Int) {
        let outRow = panel * mapping.groupsPerPanel + group
        let list = streamedWeights(task, mapping: mapping, group: outRow, row: row)
        let start = column * mapping.positionsPerColumn
        let range = start..<min(task.positions, start + mapping.positionsPerColumn)
        let first = index * mapping.weightsPerWavelet
        for inner in list[min(first, list.count)..<min(first + mapping.weightsPerWavelet, list.count)] {
            var sum: Float = 0
            for position in range {
                sum += outputGradient[outRow * task.positions + position] * input[inner * task.positions + position]
            }
            partial[((row * mapping.columns + column) * task.reduction + inner) * 65536 + group, default: 0] += sum
        }
    }

    func reduced(row: Int, column: Int, group: Int, isLast: Bool) {
        let outRow = panel * mapping.groupsPerPanel + group
        for inner in streamedWeights(task, mapping: mapping, group: outRow, row: row) {
            let key = ((row * mapping.columns + column) * task.reduction + inner) * 65536 + group
            if let value = partial.removeValue(forKey: key) { output[outRow * task.reduction + inner, default: 0] += value }
        }
    }
}
