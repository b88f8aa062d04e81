import SparseKernels

/// A parameter array copied to memory the plan owns, so steps pass stable pointers to C.
final class OwnedFloats: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(1, values.count))
        pointer.initialize(from: values, count: values.count)
    }

    deinit { pointer.deallocate() }

    var readOnly: UnsafePointer<Float> { UnsafePointer(pointer) }
}

/// Depthwise convolution with its folded bias and activation (MobileNetV2).
final class DepthwiseStep: Step {
    let node: String, fused: [String], input: BufferID, output: BufferID, padded: BufferID
    let geometry: ConvGeometry, batch: Int, weights: OwnedFloats, bias: OwnedFloats?, activation: Activation
    let work: StepWork
    var kind: String { "conv2d_dw" }
    var reads: [BufferID] { [input] }
    var writes: BufferID { output }
    var scratch: [BufferID] { [padded] }
    var kernel: String { "depthwise\(geometry.kernelHeight)x\(geometry.kernelWidth)/s\(geometry.stride)" }

    init(node: String, fused: [String], input: BufferID, output: BufferID, padded: BufferID, geometry: ConvGeometry,
         batch: Int, weights: [Float], bias: [Float]?, activation: Activation) {
        self.node = node
        self.fused = fused
        self.input = input
        self.output = output
        self.padded = padded
        self.geometry = geometry
        self.batch = batch
        self.weights = OwnedFloats(weights)
        self.bias = bias.map(OwnedFloats.init)
        self.activation = activation
        let macs = Double(geometry.channels * geometry.outHeight * geometry.outWidth * batch * geometry.kernelHeight * geometry.kernelWidth)
        self.work = StepWork(nonzeroFLOPs: 2 * macs, denseFLOPs: 2 * macs)
    }

    func run(_ context: ExecutionContext) throws {
        Operators.depthwise(geometry, batch: batch, x: context.buffer(input), weights: weights.readOnly, bias: bias?.readOnly,
                            act: activation, y: context.buffer(output), scratch: context.buffer(padded),
                            isa: context.isa, threads: context.threads)
    }
}

/// A BatchNorm that could not be folded (its producer is not a single-use weight layer):
/// per-channel scale and shift, with a fused activation. May run in place.
final class AffineStep: Step {
    let node: String, fused: [String], input: BufferID, output: BufferID
    let rows: Int, columns: Int, scale: OwnedFloats, shift: OwnedFloats, activation: Activation
    var kind: String { "batchnorm" }
    var reads: [BufferID] { [input] }
    var writes: BufferID { output }
    var kernel: String { "affine" + (activation == .none ? "" : "+\(activation.rawValue)") }

    init(node: String, fused: [String], input: BufferID, output: BufferID, rows: Int, columns: Int,
         scale: [Float], shift: [Float], activation: Activation) {
        self.node = node
        self.fused = fused
        self.input = input
        self.output = output
        self.rows = rows
        self.columns = columns
        self.scale = OwnedFloats(scale)
        self.shift = OwnedFloats(shift)
        self.activation = activation
    }

    func run(_ context: ExecutionContext) throws {
        Operators.channelAffine(rows: rows, columns: columns, x: context.buffer(input), scale: scale.readOnly,
                                shift: shift.readOnly, act: activation, y: context.buffer(output),
                                isa: context.isa, threads: context.threads)
    }
}

/// An activation that nothing could absorb. May run in place.
final class ActivationStep: Step {
    let node: String, input: BufferID, output: BufferID, count: Int, activation: Activation
    var kind: String { activation.rawValue }
    var reads: [BufferID] { [input] }
    var writes: BufferID { output }
    var kernel: String { "elementwise" }

    init(node: String, input: BufferID, output: BufferID, count: Int, activation: Activation) {
        self.node = node
        self.input = input
        self.output = output
        self.count = count
        self.activation = activation
    }

    func run(_ context: ExecutionContext) throws {
        Operators.activation(activation, rows: 1, columns: count, x: context.buffer(input), ldx: count,
                             y: context.buffer(output), ldy: count, isa: context.isa, threads: context.threads)
    }
}

/// A sum no weight layer could carry (e.g. Sparse Parallel's per-branch activations),
/// with a fused activation. May write into one of its inputs.
final class AddStep: Step {
    let node: String, fused: [String], inputs: [BufferID], output: BufferID, count: Int, activation: Activation
    var kind: String { "add" }
    var reads: [BufferID] { inputs }
    var writes: BufferID { output }
    var kernel: String { "add\(inputs.count)" + (activation == .none ? "" : "+\(activation.rawValue)") }

    init(node: String, fused: [String], inputs: [BufferID], output: BufferID, count: Int, activation: Activation) {
        self.node = node
        self.fused = fused
        self.inputs = inputs
        self.output = output
        self.count = count
        self.activation = activation
    }

    func run(_ context: ExecutionContext) throws {
        Operators.add(inputs.map { UnsafePointer(context.buffer($0)) }, count: count, y: context.buffer(output),
                      act: activation, isa: context.isa, threads: context.threads)
    }
}

final class LayerNormStep: Step {
    let node: String, input: BufferID, output: BufferID, features: Int, columns: Int
    let gamma: OwnedFloats, beta: OwnedFloats
    var kind: String { "layernorm" }
    var reads: [BufferID] { [input] }
    var writes: BufferID { output }
    var kernel: String { "layernorm" }

    init(node: String, input: BufferID, output: BufferID, features: Int, columns: Int, gamma: [Float], beta: [Float]) {
        self.node = node
        self.input = input
        self.output = output
        self.features = features
        self.columns = columns
        self.gamma = OwnedFloats(gamma)
        self.beta = OwnedFloats(beta)
    }

    func run(_ context: ExecutionContext) throws {
        Operators.layerNorm(features: features, columns: columns, x: context.buffer(input), gamma: gamma.readOnly,
                            beta: beta.readOnly, epsilon: Float(Graph.normEpsilon), y: context.buffer(output),
                            isa: context.isa, threads: context.threads)
    }
}

/// Fused attention (scores, softmax, context) of one layer, all samples and heads.
final class AttentionStep: Step {
    let node: String, fused: [String], q: BufferID, k: BufferID, v: BufferID, output: BufferID, scores: BufferID
    let width: Int, heads: Int, tokens: Int, batch: Int, causal: Bool
    let work: StepWork
    var kind: String { "attention" }
    var reads: [BufferID] { [q, k, v] }
    var writes: BufferID { output }
    var scratch: [BufferID] { [scores] }
    var kernel: String { causal ? "attention/causal" : "attention" }

    init(node: String, fused: [String], q: BufferID, k: BufferID, v: BufferID, output: BufferID, scores: BufferID,
         width: Int, heads: Int, tokens: Int, batch: Int, causal: Bool) {
        self.node = node
        self.fused = fused
        self.q = q
        self.k = k
        self.v = v
        self.output = output
        self.scores = scores
        self.width = width
        self.heads = heads
        self.tokens = tokens
        self.batch = batch
        self.causal = causal
        // Both products: T·T·D multiply-adds per sample, half of them when causal.
        let products = Double(tokens) * Double(causal ? tokens + 1 : 2 * tokens) / 2 * Double(width) * Double(batch)
        self.work = StepWork(nonzeroFLOPs: 4 * products, denseFLOPs: 4 * products)
    }

    func run(_ context: ExecutionContext) throws {
        Operators.attention(width: width, heads: heads, tokens: tokens, batch: batch, causal: causal,
                            scale: Float(1 / Double(width / heads).squareRoot()),
                            q: context.buffer(q), k: context.buffer(k), v: context.buffer(v), out: context.buffer(output),
                            scratch: context.buffer(scores), isa: context.isa, threads: context.threads)
    }
}

final class PoolStep: Step {
    let node: String, input: BufferID, output: BufferID, isMax: Bool, geometry: ConvGeometry, batch: Int
    var kind: String { isMax ? "maxpool" : "avgpool" }
    var reads: [BufferID] { [input] }
    var writes: BufferID { output }
    var kernel: String { "\(kind)\(geometry.kernelHeight)x\(geometry.kernelHeight)/s\(geometry.stride)" }

    init(node: String, input: BufferID, output: BufferID, isMax: Bool, geometry: ConvGeometry, batch: Int) {
        self.node = node
        self.input = input
        self.output = output
        self.isMax = isMax
        self.geometry = geometry
        self.batch = batch
    }

    func run(_ context: ExecutionContext) throws {
        Operators.pool(max: isMax, geometry, batch: batch, x: context.buffer(input), y: context.buffer(output),
                       threads: context.threads)
    }
}

final class GlobalAveragePoolStep: Step {
    let node: String, input: BufferID, output: BufferID, channels: Int, batch: Int, positions: Int
    var kind: String { "global_avgpool" }
    var reads: [BufferID] { [input] }
    var writes: BufferID { output }
    var kernel: String { "mean" }

    init(node: String, input: BufferID, output: BufferID, channels: Int, batch: Int, positions: Int) {
        self.node = node
        self.input = input
        self.output = output
        self.channels = channels
        self.batch = batch
        self.positions = positions
    }

    func run(_ context: ExecutionContext) throws {
        Operators.globalAveragePool(channels: channels, batch: batch, positions: positions, x: context.buffer(input),
                                    y: context.buffer(output), threads: context.threads)
    }
}

/// `[C, H, W] -> [C·H·W]`: in the channel-major layout each channel's `batch x HW` block
/// becomes `HW x batch` rows.
final class FlattenStep: Step {
    let node: String, input: BufferID, output: BufferID, channels: Int, batch: Int, positions: Int
    var kind: String { "flatten" }
    var reads: [BufferID] { [input] }
    var writes: BufferID { output }
    var kernel: String { "transpose" }

    init(node: String, input: BufferID, output: BufferID, channels: Int, batch: Int, positions: Int) {
        self.node = node
        self.input = input
        self.output = output
        self.channels = channels
        self.batch = batch
        self.positions = positions
    }

    func run(_ context: ExecutionContext) throws {
        let x = context.buffer(input), y = context.buffer(output), block = batch * positions
        for c in 0..<channels {
            Operators.swapAxes(batch, positions, inner: 1, x: x + c * block, y: y + c * block, isa: context.isa, threads: context.threads)
        }
    }
}

final class EmbeddingStep: Step {
    let node: String, input: BufferID, output: BufferID, dim: Int, count: Int, table: OwnedFloats
    var kind: String { "embedding" }
    var reads: [BufferID] { [input] }
    var writes: BufferID { output }
    var kernel: String { "gather" }

    init(node: String, input: BufferID, output: BufferID, dim: Int, count: Int, table: [Float]) {
        self.node = node
        self.input = input
        self.output = output
        self.dim = dim
        self.count = count
        self.table = OwnedFloats(table)
    }

    func run(_ context: ExecutionContext) throws {
        Operators.embedding(dim: dim, count: count, ids: context.buffer(input), table: table.readOnly,
                            y: context.buffer(output), threads: context.threads)
    }
}

final class PositionStep: Step {
    let node: String, input: BufferID, output: BufferID, dim: Int, tokens: Int, batch: Int, table: OwnedFloats
    var kind: String { "position_embedding" }
    var reads: [BufferID] { [input] }
    var writes: BufferID { output }
    var kernel: String { "add" }

    init(node: String, input: BufferID, output: BufferID, dim: Int, tokens: Int, batch: Int, table: [Float]) {
        self.node = node
        self.input = input
        self.output = output
        self.dim = dim
        self.tokens = tokens
        self.batch = batch
        self.table = OwnedFloats(table)
    }

    func run(_ context: ExecutionContext) throws {
        Operators.addPositions(dim: dim, tokens: tokens, batch: batch, x: context.buffer(input), table: table.readOnly,
                               y: context.buffer(output), threads: context.threads)
    }
}
