import SparseIFT
import SiftCore

/// Pass 4 of the import: orders the layers from the input to the output, builds the
/// network with `NetworkBuilder` (which infers and checks every shape), and gathers the
/// parameters, with each weight's sparsity detected from its zeros.
extension ONNXImporter {
    /// The network input from the graph input: a float tensor, or int64/int32 token ids,
    /// with a batch axis first (symbolic or fixed) and a fixed per-sample shape.
    func inputShape() throws -> [Int] {
        let info = graph.input
        guard let type = info.elementType else {
            throw ONNXError.unsupported("input '\(info.name)' is not a tensor")
        }
        guard [ONNXDataType.float, .int64, .int32].contains(where: { $0.rawValue == type }) else {
            throw ONNXError.unsupported("input '\(info.name)' has element type \(ONNXDataType.name(type)); sift reads float32 data or int64/int32 token ids")
        }
        guard let dims = info.shape, dims.count >= 2 else {
            throw ONNXError.unsupported("input '\(info.name)' needs a known shape with a batch axis first and at least one more axis")
        }
        var sample: [Int] = []
        for (axis, dim) in dims.enumerated().dropFirst() {
            guard let value = dim.value, value > 0, value <= Int64(Int32.max) else {
                throw ONNXError.unsupported("input '\(info.name)' has a symbolic or invalid size at axis \(axis) (\(dim.parameter ?? "\(dim.value ?? 0)")); only the batch axis may be symbolic")
            }
            sample.append(Int(value))
        }
        return sample
    }

    /// The layers the output depends on, in the order of the ONNX nodes that produce their
    /// values (a topological order, since the nodes are sorted), so the imported network
    /// lists its nodes as the file does; layers the output does not need are dropped.
    func orderedLayers() throws -> [Int] {
        var byName: [String: Int] = [:]
        for (index, layer) in layers.enumerated() { byName[layer.name] = index }
        let outputName = graph.output.name
        guard outputName != graph.input.name else { throw ONNXError.unsupported("the graph's output is its input: there is nothing to run") }
        guard let outputLayer = byName[outputName] else {
            throw ONNXError.invalidModel("the output '\(outputName)' is not produced by any imported node")
        }
        // Iterative depth-first search (a deep graph must not exhaust the stack).
        var done = Set<Int>()
        var onPath = Set<Int>()
        var order: [Int] = []
        var stack: [(layer: Int, next: Int)] = [(outputLayer, 0)]
        onPath.insert(outputLayer)
        while let (layer, next) = stack.last {
            let inputs = layers[layer].inputs
            if next < inputs.count {
                stack[stack.count - 1].next += 1
                let name = inputs[next]
                if name == graph.input.name { continue }
                guard let producer = byName[name] else {
                    throw ONNXError.invalidModel("\(layers[layer].source) reads '\(name)', which no imported node produces (a constant-only computation, or a value inside a fused pattern)")
                }
                if done.contains(producer) { continue }
                guard !onPath.contains(producer) else { throw ONNXError.invalidModel("the graph has a cycle through \(layers[producer].source)") }
                onPath.insert(producer)
                stack.append((producer, 0))
            } else {
                stack.removeLast()
                onPath.remove(layer)
                done.insert(layer)
                order.append(layer)
            }
        }
        return order.sorted { (graph.producer[layers[$0].name] ?? 0) < (graph.producer[layers[$1].name] ?? 0) }
    }

    mutating func buildNetwork(name: String) throws -> (network: Network, parameters: ParameterStore) {
        let sampleShape = try inputShape()
        let order = try orderedLayers()
        var builder = NetworkBuilder()
        var idOf: [String: Int] = [:]
        do {
            idOf[graph.input.name] = try builder.add(graph.input.name, .input(shape: sampleShape))
        } catch let error as SparseIFTError {
            throw ONNXError.unsupported("input '\(graph.input.name)': \(error.description)")
        }
        var parameters = ParameterStore()
        var embeddings: [(name: String, table: ConstantTensor)] = []
        var transformer: TransformerShape?
        for (position, layerIndex) in order.enumerated() {
            let layer = layers[layerIndex]
            var inputIDs: [Int] = []
            for input in layer.inputs {
                guard let id = idOf[input] else { throw ONNXError.invalidModel("\(layer.source) reads '\(input)' before it is computed") }
                inputIDs.append(id)
            }
            let shapes = inputIDs.map { builder.shape(of: $0) }
            guard var op = try layer.build(shapes) else {
                idOf[layer.name] = inputIDs[0]
                continue
            }
            var tensors = layer.tensors
            let isLast = position == order.count - 1
            try assignWeightState(&op, tensors: &tensors, input: inputIDs[0], isLast: isLast, embeddings: embeddings, source: layer.source)
            if case .embedding = op, let table = tensors["weight"] { embeddings.append((layer.name, table)) }
            if case .attentionScores(let heads, _) = op, transformer == nil, shapes[0].count == 2 {
                transformer = TransformerShape(dModel: shapes[0][1], heads: heads)
            }
            do {
                idOf[layer.name] = try builder.add(layer.name, op, inputs: inputIDs)
            } catch let error as SparseIFTError {
                throw ONNXError.unsupported("\(layer.source): \(error.description)")
            }
            for (suffix, tensor) in tensors {
                parameters["\(layer.name).\(suffix)"] = try Tensor(shape: tensor.shape, values: tensor.floats)
            }
        }
        let metadata = NetworkMetadata(transformer: transformer, parallelActivation: transformer == nil ? .perBranch : .afterSum)
        let network: Network
        do {
            network = try builder.build(name: name.isEmpty ? "onnx" : name, metadata: metadata)
        } catch let error as SparseIFTError {
            throw ONNXError.invalidModel(error.description)
        }
        if let problem = ParameterCheck.problem(parameters, for: network) { throw ONNXError.invalidModel(problem) }
        return (network, parameters)
    }

    /// Sets a weight layer's role and sparsity the way the zoo does, from what the graph
    /// shows: a layer whose weight has exact zeros is a sparse body layer (its mask and
    /// pattern detected, see `SparsityDetection`); otherwise a convolution on the input is
    /// the stem, the last layer the classifier, a grouped convolution stays grouped, the
    /// rest are dense body layers. A linear layer whose weight equals an embedding table
    /// reads that table (`tiedTo`), like GPT's LM head.
    func assignWeightState(_ op: inout Operation, tensors: inout [String: ConstantTensor], input: Int, isLast: Bool,
                           embeddings: [(name: String, table: ConstantTensor)], source: String) throws {
        switch op {
        case .conv2d(var spec):
            guard let weight = tensors["weight"] else { return }
            if spec.groups == 1, let found = SparsityDetection.detect(weight: weight.floats, rows: spec.outChannels, reduction: spec.reduction) {
                spec.weight = WeightSparsity(role: .body, sparsity: found.sparsity, pattern: found.pattern)
                tensors["mask"] = ConstantTensor(shape: weight.shape, floats: found.mask)
            } else if spec.groups == 1 {
                spec.weight = WeightSparsity(role: input == 0 ? .stem : (isLast ? .classifier : .body))
            }
            op = .conv2d(spec)
        case .linear(var spec):
            guard let weight = tensors["weight"] else { return }
            if let owner = embeddings.first(where: { $0.table == weight }) {
                spec.tiedTo = owner.name
                spec.weight = WeightSparsity(role: .classifier)
                tensors["weight"] = nil
            } else if let found = SparsityDetection.detect(weight: weight.floats, rows: spec.outFeatures, reduction: spec.inFeatures) {
                spec.weight = WeightSparsity(role: .body, sparsity: found.sparsity, pattern: found.pattern)
                tensors["mask"] = ConstantTensor(shape: weight.shape, floats: found.mask)
            } else {
                spec.weight = WeightSparsity(role: isLast ? .classifier : .body)
            }
            op = .linear(spec)
        default:
            return
        }
    }
}
