import SiftCore
import SparseIFT

/// One check of the pipelined functional mode: a stage's pass against its plain product in
/// Double, or the network's output against `ReferenceExecution`.
public struct PipelinedCheck: Sendable, Codable, Hashable {
    /// `<layer> forward`, `<layer> input_gradient`, `<layer> weight_gradient` or `network output`.
    public let name: String
    public let result: FunctionalResult
    /// Values the pass streams (inputs, or output gradients for the input gradient), and of
    /// them the zeros that were not sent.
    public let streamed: Int
    public let skippedZeros: Int

    enum CodingKeys: String, CodingKey {
        case name, result, streamed, skippedZeros = "skipped_zeros"
    }
}

/// The pipelined functional mode's verdict on a network's training step.
public struct PipelinedFunctionalReport: Sendable, Codable, Hashable {
    public let passed: Bool
    public let checks: [PipelinedCheck]
    /// Zeros among all streamed values that no core received.
    public let skippedZeros: Int
    public let streamed: Int

    enum CodingKeys: String, CodingKey {
        case passed, checks, skippedZeros = "skipped_zeros", streamed
    }
}

/// Functional mode of layer-pipelined execution: the stages' cores compute real values.
/// Each stage keeps its weights resident on its region, cut as the mapper cuts it; the
/// values a pass streams are sent only when non-zero (`pipelined.skip_zero_activations`),
/// each triggering on every core of its row the vector operation over the core's weights for
/// it; partial sums travel down the chain in the order the engine runs them and the
/// chain's last core stores them. A network's forward pass goes stage by stage (bias and
/// ReLU applied between stages, so the zeros streamed into the next stage are the ReLU's
/// real zeros), then its backward pass: every stage's weight gradient and, where the
/// layer's input needs one, its input gradient, with the ReLU's derivative zeroing the
/// gradients the previous stage then streams.
public enum FunctionalPipelined {
    /// Largest work accepted (every core of every stage is simulated with values).
    static let maximumMACs = Functional.maximumMACs

    /// One pass of `stage` with values. `weights` is W (`M × K`, zeros where the mask is);
    /// `streamed` the values the pass streams, `[key × positions]` (X for the forward pass
    /// and the weight gradient, the output gradient dY for the input gradient); `resident`
    /// the output gradient dY (`M × positions`) the weight gradient needs. Returns Y
    /// (`M × positions`), dX (`K × positions`) or dW (`M × K`), and the zeros skipped.
    static func run(_ stage: PipelinedStage, _ pass: Pass, weights: [Float], streamed: [Float], resident: [Float]? = nil,
                    positions: Int, machine: DataflowMachine) -> (output: [Float], skipped: Int) {
        let geometry = Pipelined.PassGeometry(stage, pass)
        let chainCount = geometry.chainSlices.count
        let slices = Array(0..<geometry.crossSlices.count)
        let skipZeros = machine.config.skipZeroActivations
        var keys = [[Int32]](repeating: [], count: chainCount)
        var offsets = [[Int]](repeating: [], count: chainCount)
        var wavelets = [Int32](repeating: 0, count: positions * chainCount)
        var skipped = 0
        for group in 0..<positions {
            for row in 0..<chainCount {
                offsets[row].append(keys[row].count)
                for key in geometry.chainSlices[row] {
                    if skipZeros, streamed[key * positions + group] == 0 {
                        skipped += 1
                        continue
                    }
                    keys[row].append(Int32(key))
                }
                wavelets[group * chainCount + row] = Int32(keys[row].count - offsets[row][group])
            }
        }
        let table = Pipelined.costTable(stage, geometry: geometry, slices: slices, machine: machine)
        let spec = Pipelined.strip(stage, pass, slices: slices, table: table, keys: keys, wavelets: wavelets, groups: positions,
                                   machine: machine, timeline: false)
        let payload = PipelinedPayload(stage: stage, pass: pass, geometry: geometry, keys: keys, offsets: offsets,
                                       weights: weights, streamed: streamed, resident: resident, positions: positions)
        var engine = StripSimulation(spec: spec, payload: payload)
        _ = engine.run()
        return (payload.output, skipped)
    }

    /// A training step of `network` (linear layers and ReLUs: an MLP) on `batch` seeded
    /// samples, every pass of every stage checked against its plain product in Double and
    /// the network's output against `ReferenceExecution`.
    public static func network(_ network: Network, batch: Int, machine: DataflowMachine, seed: UInt64) throws -> PipelinedFunctionalReport {
        for node in network.nodes {
            switch node.op {
            case .input, .relu, .relu6, .flatten: continue
            case .linear(let linear) where linear.tiedTo == nil: continue
            default:
                throw SimulatorError.invalidArgument(
                    "functional pipelined mode runs networks of linear layers and ReLUs (an MLP); \(node.name) is \(node.op.kind)")
            }
        }
        guard network.input.shape.count == 1 else {
            throw SimulatorError.invalidArgument("functional pipelined mode needs a vector input, \(network.name) takes \(network.input.shape)")
        }
        let lowered = Lowering.lower(network)
        let work = lowered.products.reduce(0) { $0 + $1.denseMACs } * batch
        guard batch >= 1, work <= maximumMACs else {
            throw SimulatorError.invalidArgument(
                "functional mode simulates every core: use at most \(maximumMACs) multiply-adds per pass (network x batch), got \(work)")
        }
        let parameters = try ParameterStore.initialize(network, options: .init(seed: seed, randomizeAffine: true))
        var masks: [Int: MaskBits] = [:]
        for (index, product) in lowered.products.enumerated() { masks[index] = try MaskSource.mask(of: product, seed: seed) }
        let zeros = lowered.products.map { _ in ActivationZeros.Product(input: 0, gradient: 0) }
        let cores = try PipelinedMapper.allocate(lowered.products, masks: masks, zeros: zeros, machine: machine)
        var stages: [String: PipelinedStage] = [:]
        for (index, product) in lowered.products.enumerated() {
            stages[product.node] = try PipelinedMapper.stage(index: index, product: product, mask: masks[index], zeros: zeros[index],
                                                             cores: cores[index], machine: machine)
        }

        // Node outputs, feature-major: value[feature * batch + sample].
        let features = network.input.shape[0]
        let input = MaskSource.values(count: batch * features, seed: seed, stream: "functional.pipelined.input")
        var values = [[Float]](repeating: [], count: network.nodes.count)
        var checks: [PipelinedCheck] = []
        var weights: [String: [Float]] = [:]
        for node in network.nodes {
            switch node.op {
            case .input:
                values[node.id] = Functional.transpose(input, rows: batch, columns: features)
            case .linear(let linear):
                guard let stage = stages[node.name], let x = node.inputs.first.map({ values[$0] }) else { continue }
                // The layer's weight with its mask applied (what ReferenceExecution uses).
                guard var w = parameters["\(node.name).weight"]?.values else { continue }
                if let mask = parameters["\(node.name).mask"]?.values { for index in w.indices { w[index] *= mask[index] } }
                weights[node.name] = w
                var (y, skipped) = run(stage, .forward, weights: w, streamed: x, positions: batch, machine: machine)
                let bias = parameters["\(node.name).bias"]?.values
                checks.append(PipelinedCheck(
                    name: "\(node.name) forward",
                    result: Functional.check(y, against: Functional.product(w, x, rows: linear.outFeatures, reduction: linear.inFeatures, positions: batch)),
                    streamed: x.count, skippedZeros: skipped))
                if let bias {
                    for row in 0..<linear.outFeatures { for sample in 0..<batch { y[row * batch + sample] += bias[row] } }
                }
                values[node.id] = y
            case .relu:
                values[node.id] = values[node.inputs[0]].map { max(0, $0) }
            case .relu6:
                values[node.id] = values[node.inputs[0]].map { min(6, max(0, $0)) }
            default:
                values[node.id] = values[node.inputs[0]]
            }
        }
        // The network's output against the reference forward pass (a few layers of fp32
        // accumulation in another order: relative to the output's largest magnitude).
        let reference = try ReferenceExecution.run(network, parameters: parameters,
                                                   input: try Tensor(shape: [batch] + network.input.shape, values: input))
        let outputs = network.output.shape.reduce(1, *)
        let simulated = Functional.transpose(values[network.nodes.count - 1], rows: outputs, columns: batch)
        let largest = reference.values.reduce(0) { max($0, abs(Double($1))) }
        let worst = zip(simulated, reference.values).reduce(0.0) { max($0, abs(Double($1.0) - Double($1.1))) }
        let tolerance = 1e-5 * max(largest, 1e-30)
        checks.append(PipelinedCheck(
            name: "network output",
            result: FunctionalResult(passed: worst <= tolerance, maxError: worst, tolerance: tolerance, checkedValues: simulated.count),
            streamed: 0, skippedZeros: 0))

        // The backward pass from a seeded gradient of the output.
        var gradients = [[Float]?](repeating: nil, count: network.nodes.count)
        gradients[network.nodes.count - 1] = MaskSource.values(count: outputs * batch, seed: seed, stream: "functional.pipelined.gradient")
        for node in network.nodes.reversed() {
            guard let gradient = gradients[node.id], let inputID = node.inputs.first else { continue }
            switch node.op {
            case .linear(let linear):
                guard let stage = stages[node.name], let w = weights[node.name] else { continue }
                let x = values[inputID]
                let (dW, skippedW) = run(stage, .weightGradient, weights: w, streamed: x, resident: gradient, positions: batch,
                                         machine: machine)
                checks.append(PipelinedCheck(
                    name: "\(node.name) weight_gradient",
                    result: Functional.check(dW, against: Functional.weightGradient(gradient, x, mask: stage.mask, rows: linear.outFeatures,
                                                              reduction: linear.inFeatures, positions: batch)),
                    streamed: x.count, skippedZeros: skippedW))
                if stage.product.needsInputGradient {
                    let (dX, skipped) = run(stage, .inputGradient, weights: w, streamed: gradient, positions: batch, machine: machine)
                    checks.append(PipelinedCheck(
                        name: "\(node.name) input_gradient",
                        result: Functional.check(dX, against: Functional.product(Functional.transpose(w, rows: linear.outFeatures, columns: linear.inFeatures), gradient,
                                                           rows: linear.inFeatures, reduction: linear.outFeatures, positions: batch)),
                        streamed: gradient.count, skippedZeros: skipped))
                    gradients[inputID] = dX
                }
            case .relu:
                let x = values[inputID]
                gradients[inputID] = zip(gradient, x).map { $1 > 0 ? $0 : 0 }
            case .relu6:
                let x = values[inputID]
                gradients[inputID] = zip(gradient, x).map { $1 > 0 && $1 < 6 ? $0 : 0 }
            default:
                gradients[inputID] = gradient
            }
        }
        let streamed = checks.reduce(0) { $0 + $1.streamed }
        let skipped = checks.reduce(0) { $0 + $1.skippedZeros }
        return PipelinedFunctionalReport(passed: checks.allSatisfy(\.result.passed), checks: checks, skippedZeros: skipped,
                                         streamed: streamed)
    }

    /// One product `Y = W·X` (`m × k` weight, `n` positions) in pipelined execution on the
    /// whole region, with `activationSparsity` of X's values zero (seeded), checked for
    /// every pass in `passes`; the pass furthest from its tolerance speaks for all.
    static func product(m: Int, k: Int, n: Int, mask: MaskBits?, pattern: SparsityPattern, sparsity: Double,
                        activationSparsity: Double, passes: [Pass], machine: DataflowMachine, seed: UInt64) throws -> FunctionalResult {
        guard m * k * n <= maximumMACs else {
            throw SimulatorError.invalidArgument("functional mode simulates every core: use at most \(maximumMACs) multiply-adds (m·k·n), got \(m * k * n)")
        }
        let weight = WeightSparsity(role: .body, sparsity: sparsity, pattern: sparsity > 0 ? pattern : .unstructured)
        let lowered = LoweredProduct(node: "matmul", kind: .linear, M: m, K: k, N: n, groups: 1, weight: weight, weightRows: m,
                                     inputFromReLU: activationSparsity > 0, outputToReLU: false, needsInputGradient: true)
        let config = machine.config
        let stage = try PipelinedMapper.stage(index: 0, product: lowered, mask: mask,
                                              zeros: .init(input: activationSparsity, gradient: 0),
                                              cores: config.regionWidth * config.regionHeight, machine: machine)
        let w = MaskSource.values(count: m * k, seed: seed, stream: "functional.weight").enumerated().map { index, value in
            mask.map { $0.contains(row: index / k, column: index % k) ? value : 0 } ?? value
        }
        var random = MaskSource.Uniform(seed: seed, stream: "functional.input.zeros")
        let x = MaskSource.values(count: k * n, seed: seed, stream: "functional.input").map { random.next() < activationSparsity ? 0 : $0 }
        let dY = MaskSource.values(count: m * n, seed: seed, stream: "functional.output_gradient")
        let results = passes.map { pass -> FunctionalResult in
            switch pass {
            case .forward:
                let y = run(stage, .forward, weights: w, streamed: x, positions: n, machine: machine).output
                return Functional.check(y, against: Functional.product(w, x, rows: m, reduction: k, positions: n))
            case .inputGradient:
                let dX = run(stage, .inputGradient, weights: w, streamed: dY, positions: n, machine: machine).output
                return Functional.check(dX, against: Functional.product(Functional.transpose(w, rows: m, columns: k), dY, rows: k, reduction: m, positions: n))
            case .weightGradient:
                let dW = run(stage, .weightGradient, weights: w, streamed: x, resident: dY, positions: n, machine: machine).output
                return Functional.check(dW, against: Functional.weightGradient(dY, x, mask: mask, rows: m, reduction: k, positions: n))
            }
        }
        return results.max { $0.maxError / $0.tolerance < $1.maxError / $1.tolerance }!
    }
}

/// The accumulators, the partial sums in flight and the results of one pipelined pass.
/// The engine's strip rows are the chain (reduction slices; output slices for the input
/// gradient), its columns the cross slices; core (row, column) holds W's block of both.
private final class PipelinedPayload: StripPayload {
    let stage: PipelinedStage
    let pass: Pass
    let geometry: Pipelined.PassGeometry
    let keys: [[Int32]]
    let offsets: [[Int]]
    let weights: [Float]
    let streamed: [Float]
    let resident: [Float]?
    let positions: Int
    let columns: Int
    /// Per (row, column, group): the cross slice's partial sums.
    var accumulators: [Int: [Float]] = [:]
    var inbox: [Int: [Float]] = [:]
    var output: [Float]

    init(stage: PipelinedStage, pass: Pass, geometry: Pipelined.PassGeometry, keys: [[Int32]], offsets: [[Int]], weights: [Float],
         streamed: [Float], resident: [Float]?, positions: Int) {
        self.stage = stage
        self.pass = pass
        self.geometry = geometry
        self.keys = keys
        self.offsets = offsets
        self.weights = weights
        self.streamed = streamed
        self.resident = resident
        self.positions = positions
        columns = geometry.crossSlices.count
        let (M, K) = (stage.product.M, stage.product.K)
        switch pass {
        case .forward: output = [Float](repeating: 0, count: M * positions)
        case .inputGradient: output = [Float](repeating: 0, count: K * positions)
        case .weightGradient: output = [Float](repeating: 0, count: M * K)
        }
    }

    func slot(_ row: Int, _ column: Int, _ group: Int) -> Int { (row * columns + column) * positions + group }

    func present(_ row: Int, _ column: Int) -> Bool { stage.mask?.contains(row: row, column: column) ?? true }

    func item(row: Int, column: Int, group: Int, index: Int) {
        let key = Int(keys[row][offsets[row][group] + index])
        let value = streamed[key * positions + group]
        let cross = geometry.crossSlices[column]
        let K = stage.product.K
        switch pass {
        case .forward:
            // The core's weights of input `key`: its outputs' column of W.
            var sums = accumulators[slot(row, column, group)] ?? [Float](repeating: 0, count: cross.count)
            for output in cross where present(output, key) { sums[output - cross.lowerBound] += weights[output * K + key] * value }
            accumulators[slot(row, column, group)] = sums
        case .inputGradient:
            // Output gradient `key` times the core's row of W.
            var sums = accumulators[slot(row, column, group)] ?? [Float](repeating: 0, count: cross.count)
            for input in cross where present(key, input) { sums[input - cross.lowerBound] += weights[key * K + input] * value }
            accumulators[slot(row, column, group)] = sums
        case .weightGradient:
            guard let resident else { return }
            for output in cross where present(output, key) {
                self.output[output * K + key] += resident[output * positions + group] * value
            }
        }
    }

    func reduced(row: Int, column: Int, group: Int, isLast: Bool) {
        guard pass != .weightGradient else { return }
        let cross = geometry.crossSlices[column]
        var sums = accumulators.removeValue(forKey: slot(row, column, group)) ?? [Float](repeating: 0, count: cross.count)
        if let incoming = inbox.removeValue(forKey: slot(row, column, group)) {
            for index in sums.indices { sums[index] += incoming[index] }
        }
        if isLast {
            for (offset, index) in cross.enumerated() { output[index * positions + group] = sums[offset] }
        } else {
            inbox[slot(row + 1, column, group)] = sums
        }
    }
}
