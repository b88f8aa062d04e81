import SparseIFT

/// From the fused graph to the plan's steps and buffers: channel-major layouts, the
/// convolution lowering, in-place reuse of dying buffers. Kernels are chosen afterwards
/// (the weight layers are returned as `pending`), once the memory plan is known to fit.
struct Lowering {
    let graph: Graph
    let batch: Int
    let threads: Int
    /// im2col chunk size: `K x chunk` floats of at most this many bytes (at least one
    /// 192-column tile). Measured on resnet18-cifar, batch 64, 2 threads, Zen 4 (1 MiB
    /// L2 per core, 32 MiB L3): 1–8 MiB chunks are within noise of each other and beat
    /// the whole-batch im2col (151 MB for conv2_x) by keeping the copy in cache.
    let chunkBytes: Int
    let schedule: ConvolutionSchedule

    private(set) var buffers: [BufferSpec] = []
    private(set) var steps: [Step] = []
    private(set) var pending: [(step: GemmStep, layer: GemmLayer)] = []
    private(set) var inputLayout: UserLayout = .tokens(count: 0)
    private(set) var outputLayout: UserLayout = .tokens(count: 0)
    private var valueBuffer: [Int: BufferID] = [:]
    private var bufferLastUse: [BufferID: Int] = [:]
    private var lastUse: [Int: Int] = [:]

    /// Column tile the im2col chunks are made of: a multiple of every kernel's panel
    /// width (48 and 64 columns).
    static let chunkTile = 192
    /// Per-thread chunks: a thread's columns are cut in multiples of 192 (every kernel's
    /// panel width divides it), and a layer goes per thread only when each thread gets at
    /// least `perThreadMinimumColumns`. Not 64: one-thread calls on the widened layers'
    /// 64-column chunks left a 16-column tail in the 48-wide panels and ran BSR 16x16 at
    /// 68% of the FMA peak against 97% at 192 columns (202x1818 at s = 0.9, Zen 4; 1616x14544:
    /// 66% against 84%; CSR the same within 5%), although a 192-column block of a wide K
    /// overflows L2.
    static let perThreadTile = 192
    static let perThreadMinimumColumns = 256

    init(graph: Graph, batch: Int, threads: Int, chunkBytes: Int, schedule: ConvolutionSchedule = .automatic) {
        self.graph = graph
        self.batch = batch
        self.threads = threads
        self.chunkBytes = chunkBytes
        self.schedule = schedule
    }

    /// Rows and per-sample columns of a value in the channel-major layout.
    func layout(of id: Int) throws -> (rows: Int, positions: Int) {
        let node = graph.nodes[id]
        let shape = node.shape
        if id == 0, graph.tokenInput { return (1, shape.reduce(1, *)) }
        switch shape.count {
        case 3: return (shape[0], shape[1] * shape[2])
        case 2: return (shape[1], shape[0])
        case 1: return (shape[0], 1)
        default:
            throw RuntimeError.unsupported("\(node.name) (\(node.op.kind)) has a value of shape \(shape), which the runtime does not lay out")
        }
    }

    /// Largest buffer the runtime allocates (2^36 floats = 256 GiB): every size is checked
    /// against it with overflow-checked arithmetic before the memory plan adds them up.
    static let maxBufferFloats = 1 << 36

    private mutating func newBuffer(for id: Int, label: String? = nil) throws -> BufferID {
        let (rows, positions) = try layout(of: id)
        let (perSample, overflowA) = rows.multipliedReportingOverflow(by: positions)
        let (floats, overflowB) = perSample.multipliedReportingOverflow(by: batch)
        guard !overflowA, !overflowB, floats <= Self.maxBufferFloats else {
            throw RuntimeError.memoryLimit("\(graph.nodes[id].name) at batch \(batch) would need more than \(Self.maxBufferFloats) floats")
        }
        return addBuffer(floats: floats, label: label ?? graph.nodes[id].name)
    }

    private mutating func addBuffer(floats: Int, label: String) -> BufferID {
        buffers.append(BufferSpec(floats: floats, label: label))
        return buffers.count - 1
    }

    private mutating func assign(_ id: Int, to buffer: BufferID) {
        valueBuffer[id] = buffer
        bufferLastUse[buffer] = max(bufferLastUse[buffer] ?? -1, lastUse[id] ?? -1)
    }

    /// The buffer of value `input` when nothing reads that buffer after `position`, so an
    /// element-wise step may overwrite it.
    private func dyingBuffer(_ input: Int, at position: Int) -> BufferID? {
        guard let buffer = valueBuffer[input], bufferLastUse[buffer] == position else { return nil }
        return buffer
    }

    private func buffer(_ id: Int) -> BufferID { valueBuffer[id]! }

    mutating func lower(order: [Int]) throws {
        for (position, id) in order.enumerated() {
            for input in graph.nodes[id].inputs { lastUse[input] = position }
        }
        lastUse[graph.output] = Int.max
        for (position, id) in order.enumerated() {
            try lower(id, position: position)
        }
        let (rows, positions) = try layout(of: graph.output)
        outputLayout = userLayout(shape: graph.nodes[graph.output].shape, rows: rows, positions: positions, tokens: false)
        steps.append(ExportStep(input: buffer(graph.output), layout: outputLayout, batch: batch))
    }

    private func userLayout(shape: [Int], rows: Int, positions: Int, tokens: Bool) -> UserLayout {
        if tokens { return .tokens(count: positions * batch) }
        if shape.count == 3 { return .image(channels: rows, positions: positions) }
        return .features(rows: rows, columns: positions * batch)
    }

    // swiftlint:disable:next function_body_length cyclomatic_complexity
    private mutating func lower(_ id: Int, position: Int) throws {
        let node = graph.nodes[id]
        let inputs = node.inputs
        let (rows, positions) = try layout(of: id)
        let columns = positions * batch
        switch node.op {
        case .input:
            let output = try newBuffer(for: id)
            assign(id, to: output)
            inputLayout = userLayout(shape: node.shape, rows: rows, positions: positions, tokens: graph.tokenInput)
            steps.append(ImportStep(output: output, layout: inputLayout, batch: batch))

        case .gemm(let layer):
            try lowerGemm(node, layer, position: position)

        case .depthwise(let layer):
            let geometry = try convGeometry(layer.spec, input: inputs[0], output: id, channels: layer.spec.inChannels)
            let output = try newBuffer(for: id)
            let padded = addBuffer(floats: Operators.depthwiseScratchFloats(geometry, threads: threads), label: "\(node.name) padded planes")
            assign(id, to: output)
            steps.append(DepthwiseStep(node: node.name, fused: node.fused, input: buffer(inputs[0]), output: output, padded: padded,
                                       geometry: geometry, batch: batch, weights: layer.weights, bias: layer.bias,
                                       activation: layer.activation))

        case .affine(let scale, let shift, let activation):
            let output = try dyingBuffer(inputs[0], at: position) ?? newBuffer(for: id)
            let source = buffer(inputs[0])
            assign(id, to: output)
            steps.append(AffineStep(node: node.name, fused: node.fused, input: source, output: output, rows: rows,
                                    columns: columns, scale: scale, shift: shift, activation: activation))

        case .activation(let activation):
            let output = try dyingBuffer(inputs[0], at: position) ?? newBuffer(for: id)
            let source = buffer(inputs[0])
            assign(id, to: output)
            steps.append(ActivationStep(node: node.name, input: source, output: output, count: rows * columns, activation: activation))

        case .add(let activation):
            let sources = inputs.map { buffer($0) }
            var reusable: BufferID?
            for input in inputs where reusable == nil { reusable = dyingBuffer(input, at: position) }
            let output = try reusable ?? newBuffer(for: id)
            assign(id, to: output)
            steps.append(AddStep(node: node.name, fused: node.fused, inputs: sources, output: output, count: rows * columns,
                                 activation: activation))

        case .layerNorm(let gamma, let beta):
            // In place is safe: each column block is read fully before it is written.
            let output = try dyingBuffer(inputs[0], at: position) ?? newBuffer(for: id)
            let source = buffer(inputs[0])
            assign(id, to: output)
            steps.append(LayerNormStep(node: node.name, input: source, output: output, features: rows, columns: columns,
                                       gamma: gamma, beta: beta))

        case .attention(let heads, let causal):
            let output = try newBuffer(for: id)
            let scores = addBuffer(floats: Operators.attentionScratchFloats(tokens: positions, threads: threads),
                                   label: "\(node.name) scores")
            assign(id, to: output)
            steps.append(AttentionStep(node: node.name, fused: node.fused, q: buffer(inputs[0]), k: buffer(inputs[1]),
                                       v: buffer(inputs[2]), output: output, scores: scores, width: rows, heads: heads,
                                       tokens: positions, batch: batch, causal: causal))

        case .maxPool(let pool), .avgPool(let pool):
            var isMax = false
            if case .maxPool = node.op { isMax = true }
            let inShape = graph.nodes[inputs[0]].shape
            let geometry = ConvGeometry(channels: inShape[0], height: inShape[1], width: inShape[2], kernelHeight: pool.kernel,
                                        kernelWidth: pool.kernel, stride: pool.stride, padding: pool.padding,
                                        outHeight: node.shape[1], outWidth: node.shape[2])
            let output = try newBuffer(for: id)
            assign(id, to: output)
            steps.append(PoolStep(node: node.name, input: buffer(inputs[0]), output: output, isMax: isMax, geometry: geometry, batch: batch))

        case .globalAvgPool:
            let (channels, inPositions) = try layout(of: inputs[0])
            let output = try newBuffer(for: id)
            assign(id, to: output)
            steps.append(GlobalAveragePoolStep(node: node.name, input: buffer(inputs[0]), output: output, channels: channels,
                                               batch: batch, positions: inPositions))

        case .flatten:
            let inShape = graph.nodes[inputs[0]].shape
            switch inShape.count {
            case 1:  // already [D, batch]: the same buffer
                assign(id, to: buffer(inputs[0]))
            case 3:
                let output = try newBuffer(for: id)
                assign(id, to: output)
                steps.append(FlattenStep(node: node.name, input: buffer(inputs[0]), output: output, channels: inShape[0],
                                         batch: batch, positions: inShape[1] * inShape[2]))
            default:
                throw RuntimeError.unsupported("\(node.name): flatten of a \(inShape.count)-D value \(inShape)")
            }

        case .embedding(let table, _, let dim):
            let output = try newBuffer(for: id)
            assign(id, to: output)
            steps.append(EmbeddingStep(node: node.name, input: buffer(inputs[0]), output: output, dim: dim, count: columns,
                                       table: table))

        case .positionEmbedding(let table):
            let output = try dyingBuffer(inputs[0], at: position) ?? newBuffer(for: id)
            let source = buffer(inputs[0])
            assign(id, to: output)
            steps.append(PositionStep(node: node.name, input: source, output: output, dim: rows, tokens: positions, batch: batch,
                                      table: table))

        case .attentionScores, .softmax, .attentionContext:
            throw RuntimeError.unsupported(
                "\(node.name) (\(node.op.kind)): attention runs only as the fused pattern scores -> softmax -> context, each read once")
        }
    }

    private func convGeometry(_ spec: Conv2dSpec, input: Int, output: Int, channels: Int) throws -> ConvGeometry {
        let inShape = graph.nodes[input].shape, outShape = graph.nodes[output].shape
        return ConvGeometry(channels: channels, height: inShape[1], width: inShape[2], kernelHeight: spec.kernelHeight,
                            kernelWidth: spec.kernelWidth, stride: spec.stride, padding: spec.padding,
                            outHeight: outShape[1], outWidth: outShape[2])
    }

    private mutating func lowerGemm(_ node: GraphNode, _ layer: GemmLayer, position: Int) throws {
        let inputs = node.inputs
        let (_, inPositions) = try layout(of: inputs[0])
        let (_, positions) = try layout(of: node.id)
        let columns = positions * batch
        var geometry: ConvGeometry?
        var chunk = columns
        var patches: BufferID?
        var perThread = false
        if case .conv(let lowered) = layer.form {
            // One group's im2col: its C_in / groups input channels.
            let g = ConvGeometry(channels: lowered.inChannels / lowered.groups, height: lowered.inHeight, width: lowered.inWidth,
                                 kernelHeight: lowered.kernelHeight, kernelWidth: lowered.kernelWidth, stride: lowered.stride,
                                 padding: lowered.padding, outHeight: lowered.outHeight, outWidth: lowered.outWidth)
            guard layer.product.N == g.outHeight * g.outWidth, layer.product.N == positions else {
                throw RuntimeError.unsupported("\(node.name): the lowering's N = \(layer.product.N) is not the output's \(positions) positions")
            }
            if !g.isPointwise {
                geometry = g
                switch schedule {
                case .automatic: perThread = columns >= threads * Self.perThreadMinimumColumns
                case .perThreadColumns: perThread = true
                case .sharedChunks: perThread = false
                }
                let tile = perThread ? Self.perThreadTile : Self.chunkTile
                let blockBytes = perThread ? chunkBytes : chunkBytes * threads
                let fitting = blockBytes / max(1, layer.reduction * MemoryLayout<Float>.size) / tile * tile
                chunk = min(perThread ? (columns + threads - 1) / threads : columns, max(tile, fitting))
                patches = addBuffer(floats: layer.reduction * chunk * (perThread ? threads : 1), label: "\(node.name) im2col")
            }
        }
        let output = try newBuffer(for: node.id)
        assign(node.id, to: output)
        let step = GemmStep(node: node.name, fused: node.fused, kind: node.op.kind, input: buffer(inputs[0]), output: output,
                            residual: layer.hasResidual ? buffer(inputs[1]) : nil,
                            rowsPerGroup: layer.outputs / layer.groups, reduction: layer.reduction, groups: layer.groups,
                            columns: columns, inputColumns: inPositions * batch, activation: layer.activation,
                            convolution: geometry, batch: batch, chunkColumns: chunk, im2colBuffer: patches, perThread: perThread,
                            bias: layer.bias,
                            work: StepWork(denseFLOPs: 2 * Double(layer.outputs) * Double(layer.reduction) * Double(columns)))
        steps.append(step)
        pending.append((step, layer))
    }
}
