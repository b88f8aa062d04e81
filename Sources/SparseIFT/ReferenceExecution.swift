import Foundation
import SiftCore

/// A plain forward pass of any network on real fp32 tensors: the truth the runtime and
/// the simulator are checked against. Direct loops, Double accumulators, no cleverness.
/// Inference semantics: BatchNorm uses its running statistics; masks (if present) are
/// applied to the weights again, so a weight store whose masked entries are not zero
/// still gives the sparse network's output.
public enum ReferenceExecution {
    static let normEpsilon = 1e-5

    /// Runs `network` on `input` of shape `[batch] + network.input.shape` and returns the
    /// output, shape `[batch] + network.output.shape`.
    public static func run(_ network: Network, parameters: ParameterStore, input: Tensor) throws -> Tensor {
        try run(network, parameters: parameters, input: input, observing: { _, _ in })
    }

    /// `run`, calling `observe` with every node and its output for the whole batch (sample
    /// after sample) as soon as it is computed: one pass for a caller that wants the
    /// intermediate values (the simulator's measured ReLU zeros), not one pass per node.
    public static func run(_ network: Network, parameters: ParameterStore, input: Tensor,
                           observing observe: (Node, [Float]) -> Void) throws -> Tensor {
        try parameters.validate(for: network)
        let sampleShape = network.input.shape
        guard input.shape.count == sampleShape.count + 1, Array(input.shape.dropFirst()) == sampleShape else {
            throw SparseIFTError.shapeMismatch("input must have shape [batch] + \(sampleShape), got \(input.shape)")
        }
        // An empty batch is a mistake (an empty file written as a result would hide it); `sift run` refuses it too.
        guard input.shape[0] >= 1 else { throw SparseIFTError.invalidArgument("input has shape \(input.shape): a batch of 0 samples") }
        guard input.values.allSatisfy({ $0.isFinite }) else {
            throw SparseIFTError.invalidArgument("input has a non-finite value")
        }
        let batch = input.shape[0]
        // Every node's output is kept for the whole batch: refuse before allocating more
        // than the toolkit's float limit (an allocation that large would abort).
        var activations = 0
        for node in network.nodes {
            let count = SizeLimits.product([batch] + node.shape, limit: SizeLimits.floats) ?? SizeLimits.floats + 1
            activations = min(activations + count, SizeLimits.floats + 1)
        }
        guard activations <= SizeLimits.floats else {
            throw SparseIFTError.invalidArgument(
                "running \(network.name) on a batch of \(batch) needs more than \(SizeLimits.floats) float32 activations (\(SizeLimits.gibibytes(floats: Double(SizeLimits.floats)))); use a smaller batch or model")
        }
        // values[node] holds the node's output for the whole batch, sample after sample.
        var values = [[Float]](repeating: [], count: network.nodes.count)
        for node in network.nodes {
            let inputs = node.inputs.map { values[$0] }
            let inputShapes = node.inputs.map { network.nodes[$0].shape }
            var output = [Float]()
            output.reserveCapacity(batch * node.shape.reduce(1, *))
            if case .input = node.op {
                output = input.values
            } else {
                for sample in 0..<batch {
                    let slices = zip(inputs, inputShapes).map { values, shape -> ArraySlice<Float> in
                        let size = shape.reduce(1, *)
                        return values[(sample * size)..<((sample + 1) * size)]
                    }
                    output += try forward(node, inputs: slices.map(Array.init), inputShapes: inputShapes, parameters: parameters)
                }
            }
            try checkFinite(output, of: node, batch: batch)
            observe(node, output)
            values[node.id] = output
        }
        return try Tensor(shape: [batch] + network.output.shape, values: values[network.nodes.count - 1])
    }

    /// Refuses a node output holding an infinity or NaN: the inputs and parameters were
    /// checked finite, so one means float32 overflowed, and a result built on it would be
    /// meaningless. The masked future positions of causal attention scores are -inf by
    /// design and are the one exception.
    static func checkFinite(_ output: [Float], of node: Node, batch: Int) throws {
        guard let bad = output.firstIndex(where: { !$0.isFinite }) else { return }
        if case .attentionScores(_, let causal) = node.op, causal {
            let tokens = node.shape[1]
            for (index, value) in output.enumerated() where !value.isFinite {
                let (row, column) = ((index / tokens) % tokens, index % tokens)
                if value == -.infinity && column > row { continue }
                throw nonFinite(value, at: index, of: node, batch: batch)
            }
            return
        }
        throw nonFinite(output[bad], at: bad, of: node, batch: batch)
    }

    private static func nonFinite(_ value: Float, at index: Int, of node: Node, batch: Int) -> SparseIFTError {
        let perSample = max(1, node.shape.reduce(1, *))
        return .nonFiniteResult(
            "\(node.name) (\(node.op.kind)) produced \(value) at sample \(index / perSample), element \(index % perSample) from finite inputs and parameters: float32 overflowed (scale the input or the weights down)")
    }

    /// The weight of a layer with its mask applied (tied layers read their owner's weight).
    static func maskedWeight(_ name: String, tiedTo: String? = nil, _ parameters: ParameterStore) -> [Float] {
        let owner = tiedTo ?? name
        var weight = parameters["\(owner).weight"]!.values
        if tiedTo == nil, let mask = parameters["\(name).mask"] {
            for index in weight.indices { weight[index] *= mask.values[index] }
        }
        return weight
    }

    /// One node on one sample.
    static func forward(_ node: Node, inputs: [[Float]], inputShapes: [[Int]], parameters p: ParameterStore) throws -> [Float] {
        let x = inputs.first ?? []
        let inShape = inputShapes.first ?? []
        let outShape = node.shape
        switch node.op {
        case .input:
            return x

        case .conv2d(let c):
            let weight = maskedWeight(node.name, p)
            let bias = c.bias ? p["\(node.name).bias"]!.values : nil
            let (inH, inW) = (inShape[1], inShape[2])
            let (outH, outW) = (outShape[1], outShape[2])
            let inPerGroup = c.inChannels / c.groups
            let outPerGroup = c.outChannels / c.groups
            var y = [Float](repeating: 0, count: c.outChannels * outH * outW)
            for o in 0..<c.outChannels {
                let group = o / outPerGroup
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        var sum = Double(bias?[o] ?? 0)
                        for ci in 0..<inPerGroup {
                            let channel = group * inPerGroup + ci
                            for ky in 0..<c.kernelHeight {
                                let iy = oy * c.stride - c.padding + ky
                                if iy < 0 || iy >= inH { continue }
                                for kx in 0..<c.kernelWidth {
                                    let ix = ox * c.stride - c.padding + kx
                                    if ix < 0 || ix >= inW { continue }
                                    let w = weight[((o * inPerGroup + ci) * c.kernelHeight + ky) * c.kernelWidth + kx]
                                    sum += Double(w) * Double(x[(channel * inH + iy) * inW + ix])
                                }
                            }
                        }
                        y[(o * outH + oy) * outW + ox] = Float(sum)
                    }
                }
            }
            return y

        case .linear(let l):
            let weight = maskedWeight(node.name, tiedTo: l.tiedTo, p)
            let bias = l.bias ? p["\(node.name).bias"]!.values : nil
            let rows = x.count / l.inFeatures
            var y = [Float](repeating: 0, count: rows * l.outFeatures)
            for r in 0..<rows {
                for o in 0..<l.outFeatures {
                    var sum = Double(bias?[o] ?? 0)
                    for i in 0..<l.inFeatures {
                        sum += Double(weight[o * l.inFeatures + i]) * Double(x[r * l.inFeatures + i])
                    }
                    y[r * l.outFeatures + o] = Float(sum)
                }
            }
            return y

        case .batchNorm:
            let gamma = p["\(node.name).weight"]!.values
            let beta = p["\(node.name).bias"]!.values
            let mean = p["\(node.name).running_mean"]!.values
            let variance = p["\(node.name).running_var"]!.values
            let plane = inShape[1] * inShape[2]
            var y = x
            for channel in 0..<inShape[0] {
                let scale = Double(gamma[channel]) / (Double(variance[channel]) + normEpsilon).squareRoot()
                for index in (channel * plane)..<((channel + 1) * plane) {
                    y[index] = Float((Double(x[index]) - Double(mean[channel])) * scale + Double(beta[channel]))
                }
            }
            return y

        case .layerNorm:
            let gamma = p["\(node.name).weight"]!.values
            let beta = p["\(node.name).bias"]!.values
            let features = inShape.last!
            var y = x
            for row in 0..<(x.count / features) {
                let slice = x[(row * features)..<((row + 1) * features)]
                let mean = slice.reduce(0.0) { $0 + Double($1) } / Double(features)
                let variance = slice.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(features)
                let inverse = 1 / (variance + normEpsilon).squareRoot()
                for f in 0..<features {
                    let index = row * features + f
                    y[index] = Float((Double(x[index]) - mean) * inverse * Double(gamma[f]) + Double(beta[f]))
                }
            }
            return y

        case .relu:
            return x.map { max($0, 0) }
        case .relu6:
            return x.map { min(max($0, 0), 6) }
        case .gelu:
            // The tanh approximation GPT-2/GPT-3 use.
            return x.map { value in
                let v = Double(value)
                return Float(0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
            }

        case .add:
            var y = [Float](repeating: 0, count: x.count)
            for index in y.indices {
                y[index] = Float(inputs.reduce(0.0) { $0 + Double($1[index]) })
            }
            return y

        case .maxPool(let pool), .avgPool(let pool):
            let isMax: Bool
            if case .maxPool = node.op { isMax = true } else { isMax = false }
            let (inH, inW) = (inShape[1], inShape[2])
            let (outH, outW) = (outShape[1], outShape[2])
            var y = [Float](repeating: 0, count: outShape.reduce(1, *))
            for channel in 0..<inShape[0] {
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        var best = -Double.infinity
                        var sum = 0.0
                        for ky in 0..<pool.kernel {
                            for kx in 0..<pool.kernel {
                                let iy = oy * pool.stride - pool.padding + ky
                                let ix = ox * pool.stride - pool.padding + kx
                                // Padding is -inf for max and 0 (counted) for average, as in PyTorch.
                                guard iy >= 0, iy < inH, ix >= 0, ix < inW else { continue }
                                let value = Double(x[(channel * inH + iy) * inW + ix])
                                best = max(best, value)
                                sum += value
                            }
                        }
                        y[(channel * outH + oy) * outW + ox] = Float(isMax ? best : sum / Double(pool.kernel * pool.kernel))
                    }
                }
            }
            return y

        case .globalAvgPool:
            let plane = inShape[1] * inShape[2]
            return (0..<inShape[0]).map { channel in
                Float(x[(channel * plane)..<((channel + 1) * plane)].reduce(0.0) { $0 + Double($1) } / Double(plane))
            }

        case .flatten:
            return x

        case .embedding(let vocabulary, let dim):
            let table = p["\(node.name).weight"]!.values
            var y = [Float]()
            y.reserveCapacity(x.count * dim)
            for token in x {
                guard token >= 0, token < Float(vocabulary), token == token.rounded() else {
                    throw SparseIFTError.invalidArgument("token id \(token) is not an integer in 0..<\(vocabulary)")
                }
                let row = Int(token)
                y += table[(row * dim)..<((row + 1) * dim)]
            }
            return y

        case .positionEmbedding:
            let table = p["\(node.name).weight"]!.values
            return x.indices.map { x[$0] + table[$0] }  // row t of [T, D] gets position t

        case .attentionScores(let heads, let causal):
            let (tokens, width) = (inShape[0], inShape[1])
            let headDim = width / heads
            let q = inputs[0]
            let k = inputs[1]
            let scale = 1 / Double(headDim).squareRoot()
            var y = [Float](repeating: 0, count: heads * tokens * tokens)
            for h in 0..<heads {
                for i in 0..<tokens {
                    for j in 0..<tokens {
                        var value: Double
                        if causal && j > i {
                            value = -.infinity
                        } else {
                            value = 0
                            for d in 0..<headDim {
                                value += Double(q[i * width + h * headDim + d]) * Double(k[j * width + h * headDim + d])
                            }
                            value *= scale
                        }
                        y[(h * tokens + i) * tokens + j] = Float(value)
                    }
                }
            }
            return y

        case .softmax:
            let length = inShape.last!
            var y = x
            for row in 0..<(x.count / length) {
                let range = (row * length)..<((row + 1) * length)
                let largest = Double(x[range].max()!)
                let total = x[range].reduce(0.0) { $0 + exp(Double($1) - largest) }
                for index in range { y[index] = Float(exp(Double(x[index]) - largest) / total) }
            }
            return y

        case .attentionContext(let heads):
            let probabilities = inputs[0]
            let v = inputs[1]
            let (tokens, width) = (inputShapes[1][0], inputShapes[1][1])
            let headDim = width / heads
            var y = [Float](repeating: 0, count: tokens * width)
            for h in 0..<heads {
                for i in 0..<tokens {
                    for d in 0..<headDim {
                        var sum = 0.0
                        for j in 0..<tokens {
                            sum += Double(probabilities[(h * tokens + i) * tokens + j]) * Double(v[j * width + h * headDim + d])
                        }
                        y[i * width + h * headDim + d] = Float(sum)
                    }
                }
            }
            return y
        }
    }
}
