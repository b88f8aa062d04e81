import SiftCore

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
    static func weightStreaming(m: Int, k: Int, n: Int, mask: MaskBits?, pattern: SparsityPattern = .unstructured, pass: Pass,
                                machine: DataflowMachine, seed: UInt64) throws -> FunctionalResult {
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
            let oriented = pass == .forward ? weights : transpose(weights, rows: m, columns: k)
            let orientedMask = mask.map { pass == .forward ? $0 : $0.transposed() }
            let input = MaskSource.values(count: reduction * n, seed: seed, stream: "functional.input")
            let task = ProductTask(layer: "functional", pass: pass, label: pass.rawValue, op: .axpy, outRows: rows,
                                   reduction: reduction, positions: n, copies: 1,
                                   weights: orientedMask.map { .sparse($0) } ?? .dense, fromWeightStore: true,
                                   isWeightGradient: false, sparsity: 0, pattern: "",
                                   grid: mask == nil ? .none : .of(pattern, transposed: pass == .inputGradient))
            let output = try runStrips(task, weights: oriented, input: input, machine: machine, seed: seed)
            return check(output, against: product(oriented, input, rows: rows, reduction: reduction, positions: n))
        case .weightGradient:
            // dW (m×k) at the mask's non-zeros = dY (m×n) · Xᵀ (n×k).
            let outputGradient = MaskSource.values(count: m * n, seed: seed, stream: "functional.output_gradient")
            let input = MaskSource.values(count: k * n, seed: seed, stream: "functional.input")
            let task = ProductTask(layer: "functional", pass: pass, label: pass.rawValue, op: .dot, outRows: m, reduction: k,
                                   positions: n, copies: 1, weights: mask.map { .sparse($0) } ?? .dense, fromWeightStore: true,
                                   isWeightGradient: true, sparsity: 0, pattern: "",
                                   grid: mask == nil ? .none : .of(pattern, transposed: false))
            let output = try runGradientStrips(task, outputGradient: outputGradient, input: input, machine: machine, seed: seed)
            return check(output, against: weightGradient(outputGradient, input, mask: mask, rows: m, reduction: k, positions: n))
        }
    }

    /// The plain product `A (rows × reduction) · B (reduction × positions)` in Double, and
    /// the largest sum of magnitudes of one output (the tolerance's scale).
    static func product(_ a: [Float], _ b: [Float], rows: Int, reduction: Int, positions: Int) -> (values: [Double], scale: Double, reduction: Int) {
        var values = [Double](repeating: 0, count: rows * positions)
        var magnitudes = [Double](repeating: 0, count: rows * positions)
        for row in 0..<rows {
            for inner in 0..<reduction where a[row * reduction + inner] != 0 {
                let weight = Double(a[row * reduction + inner])
                for position in 0..<positions {
                    let term = weight * Double(b[inner * positions + position])
                    values[row * positions + position] += term
                    magnitudes[row * positions + position] += abs(term)
                }
            }
        }
        return (values, magnitudes.max() ?? 0, reduction)
    }

    /// dW = dY·Xᵀ at the mask's non-zeros, in Double.
    static func weightGradient(_ dY: [Float], _ x: [Float], mask: MaskBits?, rows: Int, reduction: Int,
                               positions: Int) -> (values: [Double], scale: Double, reduction: Int) {
        var values = [Double](repeating: 0, count: rows * reduction)
        var scale = 0.0
        for row in 0..<rows {
            for inner in 0..<reduction where mask?.contains(row: row, column: inner) ?? true {
                var sum = 0.0
                var magnitude = 0.0
                for position in 0..<positions {
                    let term = Double(dY[row * positions + position]) * Double(x[inner * positions + position])
                    sum += term
                    magnitude += abs(term)
                }
                values[row * reduction + inner] = sum
                scale = max(scale, magnitude)
            }
        }
        return (values, scale, positions)
    }

    static func check(_ actual: [Float], against expected: (values: [Double], scale: Double, reduction: Int)) -> FunctionalResult {
        compare(actual, expected.values, scale: expected.scale, reduction: expected.reduction)
    }

    static func transpose(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        for row in 0..<rows { for column in 0..<columns { result[column * rows + row] = values[row * columns + column] } }
        return result
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
        let (layout, mapping, analysis, _) = try ProductSimulator(machine: machine, mode: .analytical, seed: seed).plan(task)
        var output = [Float](repeating: 0, count: task.outRows * task.positions)
        try forEachPanel(analysis, machine: machine, seed: seed) { panel, spec in
            let payload = AccumulatingPayload(task: task, mapping: mapping, layout: layout, panel: panel, weights: weights,
                                              input: input, encoding: machine.weightEncoding,
                                              accumulatorBuffers: spec.accumulatorBuffers)
            var engine = StripSimulation(spec: spec, payload: payload)
            _ = engine.run()
            for (index, value) in payload.output { output[index] = value }
            let expected = layout.groups(panel: panel).count * mapping.columns
            guard payload.stored == expected else {
                throw SimulatorError.invalidArgument("functional run of panel \(panel) stored \(payload.stored) of \(expected) output slices")
            }
        }
        return output
    }

    /// The weight gradient's dataflow with values: partial dot products per column, summed
    /// along the row.
    static func runGradientStrips(_ task: ProductTask, outputGradient: [Float], input: [Float], machine: DataflowMachine,
                                  seed: UInt64) throws -> [Float] {
        let (layout, mapping, analysis, _) = try ProductSimulator(machine: machine, mode: .analytical, seed: seed).plan(task)
        var output = [Float](repeating: 0, count: task.outRows * task.reduction)
        try forEachPanel(analysis, machine: machine, seed: seed) { panel, spec in
            let payload = GradientPayload(task: task, mapping: mapping, layout: layout, panel: panel, outputGradient: outputGradient,
                                          input: input, encoding: machine.weightEncoding)
            var engine = StripSimulation(spec: spec, payload: payload)
            _ = engine.run()
            for (index, value) in payload.output { output[index] += value }
        }
        return output
    }

    /// The strip of every panel, all its columns and output rows.
    private static func forEachPanel(_ analysis: ProductSimulator.Analysis, machine: DataflowMachine, seed: UInt64,
                                     _ body: (Int, StripSpec) throws -> Void) throws {
        let simulator = ProductSimulator(machine: machine, mode: .cycle, seed: seed)
        for panel in 0..<analysis.layout.panels {
            let spec = simulator.strip(analysis, panel: panel, window: analysis.layout.groups(panel: panel).count,
                                       columns: analysis.mapping.columns, linkRate: true)
            try body(panel, spec)
        }
    }
}

/// The wavelets a core row receives for one output row, in stream order, as the encoding
/// sends them: the reduction indices each carries (none for a run header).
private func streamedWavelets(_ task: ProductTask, layout: SliceLayout, panel: Int, encoding: WeightEncoding, group: Int,
                              row: Int) -> [[Int]] {
    let slice = layout.slice(panel: panel, row: row)
    var wavelets: [[Int]] = []
    encoding.forEachWavelet(of: task.mask, row: group, from: slice.lowerBound, to: slice.upperBound) { wavelet in
        switch wavelet {
        case .header: wavelets.append([])
        case .weights(let first, let count): wavelets.append(Array(first..<(first + count)))
        }
    }
    return wavelets
}

/// Accumulators, partial sums in flight and stored outputs of a forward-style strip.
private final class AccumulatingPayload: StripPayload {
    let task: ProductTask
    let mapping: ProductMapping
    let layout: SliceLayout
    let panel: Int
    let weights: [Float]
    let input: [Float]
    let encoding: WeightEncoding
    let buffers: Int
    /// Per core and accumulator slot: the row of `positionsPerColumn` partial sums.
    var accumulators: [[Float]]
    /// Partial sums received from the previous core, by (core, group).
    var inbox: [Int: [Float]] = [:]
    var output: [Int: Float] = [:]
    var stored = 0
    var streamed: [Int: [[Int]]] = [:]

    init(task: ProductTask, mapping: ProductMapping, layout: SliceLayout, panel: Int, weights: [Float], input: [Float],
         encoding: WeightEncoding, accumulatorBuffers: Int) {
        self.task = task
        self.mapping = mapping
        self.layout = layout
        self.panel = panel
        self.weights = weights
        self.input = input
        self.encoding = encoding
        buffers = accumulatorBuffers
        accumulators = [[Float]](repeating: [Float](repeating: 0, count: mapping.positionsPerColumn),
                                 count: mapping.rows * mapping.columns * accumulatorBuffers)
    }

    func positions(_ column: Int) -> Range<Int> {
        let start = column * mapping.positionsPerColumn
        return start..<min(task.positions, start + mapping.positionsPerColumn)
    }

    func outRow(_ group: Int) -> Int { layout.groups(panel: panel).lowerBound + group }

    func item(row: Int, column: Int, group: Int, index: Int) {
        let outRow = outRow(group)
        let key = outRow * mapping.rows + row
        let list = streamed[key] ?? streamedWavelets(task, layout: layout, panel: panel, encoding: encoding, group: outRow, row: row)
        streamed[key] = list
        let slot = (row * mapping.columns + column) * buffers + group % buffers
        let range = positions(column)
        for inner in list[index] {
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
            let outRow = outRow(group)
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
    let layout: SliceLayout
    let panel: Int
    let outputGradient: [Float]
    let input: [Float]
    let encoding: WeightEncoding
    var partial: [Int: Float] = [:]
    var output: [Int: Float] = [:]

    init(task: ProductTask, mapping: ProductMapping, layout: SliceLayout, panel: Int, outputGradient: [Float], input: [Float],
         encoding: WeightEncoding) {
        self.task = task
        self.mapping = mapping
        self.layout = layout
        self.panel = panel
        self.outputGradient = outputGradient
        self.input = input
        self.encoding = encoding
    }

    func key(row: Int, column: Int, inner: Int, group: Int) -> Int {
        ((row * mapping.columns + column) * task.reduction + inner) * 65536 + group
    }

    func item(row: Int, column: Int, group: Int, index: Int) {
        let outRow = layout.groups(panel: panel).lowerBound + group
        let list = streamedWavelets(task, layout: layout, panel: panel, encoding: encoding, group: outRow, row: row)
        let start = column * mapping.positionsPerColumn
        let range = start..<min(task.positions, start + mapping.positionsPerColumn)
        for inner in list[index] {
            var sum: Float = 0
            for position in range {
                sum += outputGradient[outRow * task.positions + position] * input[inner * task.positions + position]
            }
            partial[key(row: row, column: column, inner: inner, group: group), default: 0] += sum
        }
    }

    func reduced(row: Int, column: Int, group: Int, isLast: Bool) {
        let outRow = layout.groups(panel: panel).lowerBound + group
        for inner in streamedWavelets(task, layout: layout, panel: panel, encoding: encoding, group: outRow, row: row).joined() {
            if let value = partial.removeValue(forKey: key(row: row, column: column, inner: inner, group: group)) {
                output[outRow * task.reduction + inner, default: 0] += value
            }
        }
    }
}
