import Foundation
import SiftCore

/// The tensors of a network, by PyTorch-like key: `<node>.weight`, `<node>.bias`,
/// `<node>.mask` (sparse layers only), and for BatchNorm `<node>.running_mean` /
/// `<node>.running_var`. A tied layer (GPT's LM head) has no tensor of its own.
public struct ParameterStore: Sendable {
    public var tensors: [String: Tensor]

    public init(tensors: [String: Tensor] = [:]) { self.tensors = tensors }

    public subscript(key: String) -> Tensor? {
        get { tensors[key] }
        set { tensors[key] = newValue }
    }

    public struct InitOptions: Sendable {
        public var seed: UInt64
        /// Random biases and BatchNorm / LayerNorm statistics and affines instead of the
        /// identity ones, so tests exercise every term of the forward pass.
        public var randomizeAffine: Bool
        public init(seed: UInt64 = 0, randomizeAffine: Bool = false) {
            self.seed = seed
            self.randomizeAffine = randomizeAffine
        }
    }

    /// Deterministic initialisation: Kaiming-normal weights, for convolutions as the
    /// authors' ResNets do (`std = sqrt(2 / fan_out)`, fan_out = out·kh·kw as PyTorch computes it, its
    /// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`), for linear layers
    /// `std = sqrt(2 / fan_in)`,
    /// embeddings `N(0, 0.02²)`, zero biases, identity norms; each sparse layer gets a
    /// seeded mask of its pattern and its weight is multiplied by it. Each tensor draws
    /// from its own stream (seed, key), so it does not depend on the other layers.
    public static func initialize(_ network: Network, options: InitOptions = InitOptions()) throws -> ParameterStore {
        // Refuse before allocating: a too-large store would abort the process.
        _ = try Self.checkedFloatCount(network)
        var store = ParameterStore()
        func normal(_ key: String, shape: [Int], std: Double, mean: Double = 0) -> Tensor {
            var generator = SeededGenerator(seed: options.seed, stream: key)
            var tensor = Tensor(zeros: shape)
            for index in tensor.values.indices { tensor.values[index] = Float(mean + std * generator.nextNormal()) }
            return tensor
        }
        func constant(_ shape: [Int], _ value: Float) -> Tensor {
            var tensor = Tensor(zeros: shape)
            for index in tensor.values.indices { tensor.values[index] = value }
            return tensor
        }
        func affine(_ key: String, count: Int, identity: Float, spread: Double) -> Tensor {
            options.randomizeAffine ? normal(key, shape: [count], std: spread, mean: Double(identity)) : constant([count], identity)
        }
        var jobs: [WeightJob] = []
        for node in network.nodes {
            switch node.op {
            case .conv2d(let c):
                let fanOut = c.outChannels * c.kernelHeight * c.kernelWidth
                jobs.append(WeightJob(name: node.name, shape: c.weightShape, rows: c.outChannels, reduction: c.reduction,
                                      weight: c.weight, std: (2 / Double(fanOut)).squareRoot()))
                if c.bias { store["\(node.name).bias"] = affine("\(node.name).bias", count: c.outChannels, identity: 0, spread: 0.1) }
            case .linear(let l):
                if l.tiedTo == nil {
                    jobs.append(WeightJob(name: node.name, shape: l.weightShape, rows: l.outFeatures, reduction: l.inFeatures,
                                          weight: l.weight, std: (2 / Double(l.inFeatures)).squareRoot()))
                }
                if l.bias { store["\(node.name).bias"] = affine("\(node.name).bias", count: l.outFeatures, identity: 0, spread: 0.1) }
            case .batchNorm:
                let channels = node.shape[0]
                store["\(node.name).weight"] = affine("\(node.name).weight", count: channels, identity: 1, spread: 0.1)
                store["\(node.name).bias"] = affine("\(node.name).bias", count: channels, identity: 0, spread: 0.1)
                store["\(node.name).running_mean"] = affine("\(node.name).running_mean", count: channels, identity: 0, spread: 0.1)
                if options.randomizeAffine {
                    var generator = SeededGenerator(seed: options.seed, stream: "\(node.name).running_var")
                    store["\(node.name).running_var"] = try Tensor(shape: [channels], values: (0..<channels).map { _ in Float(0.5 + generator.nextUnit()) })
                } else {
                    store["\(node.name).running_var"] = constant([channels], 1)
                }
            case .layerNorm:
                let features = node.shape.last!
                store["\(node.name).weight"] = affine("\(node.name).weight", count: features, identity: 1, spread: 0.1)
                store["\(node.name).bias"] = affine("\(node.name).bias", count: features, identity: 0, spread: 0.1)
            case .embedding(let vocabulary, let dim):
                store["\(node.name).weight"] = normal("\(node.name).weight", shape: [vocabulary, dim], std: 0.02)
            case .positionEmbedding(let length):
                store["\(node.name).weight"] = normal("\(node.name).weight", shape: [length, node.shape[1]], std: 0.01)
            default:
                break
            }
        }
        // Every weight (and mask) has random streams of its own, keyed by its name, so the
        // layers are drawn concurrently with the same values as one after the other (the
        // Kaiming weights of a Sparse Wide ImageNet ResNet are 10^8 normals).
        let results = ConcurrentResults<(weight: Tensor, mask: Tensor?)>(count: jobs.count)
        let drawn = jobs, seed = options.seed
        DispatchQueue.concurrentPerform(iterations: drawn.count) { index in
            results.set(index, Result { try drawn[index].draw(seed: seed) })
        }
        for (job, result) in zip(jobs, results.values) {
            let (weight, mask) = try result.get()
            store["\(job.name).weight"] = weight
            if let mask { store["\(job.name).mask"] = mask }
        }
        return store
    }

    /// A weight layer's seeded Kaiming normal weights (masked when sparse) and mask.
    private struct WeightJob: Sendable {
        let name: String
        let shape: [Int]
        let rows: Int
        let reduction: Int
        let weight: WeightSparsity
        let std: Double

        func draw(seed: UInt64) throws -> (weight: Tensor, mask: Tensor?) {
            var generator = SeededGenerator(seed: seed, stream: "\(name).weight")
            var values = (0..<shape.reduce(1, *)).map { _ in Float(std * generator.nextNormal()) }
            var maskTensor: Tensor?
            if weight.isSparse {
                var maskGenerator = SeededGenerator(seed: seed, stream: "\(name).mask")
                let mask = try fromCore { () throws(SiftCoreError) in
                    try MaskSampler.mask(rows: rows, reduction: reduction, sparsity: weight.sparsity,
                                         pattern: weight.pattern, generator: &maskGenerator)
                }
                for index in values.indices { values[index] *= mask[index] }
                maskTensor = try fromCore { () throws(SiftCoreError) in try Tensor(shape: shape, values: mask) }
            }
            return (try fromCore { () throws(SiftCoreError) in try Tensor(shape: shape, values: values) }, maskTensor)
        }
    }

    /// The number of float32 values (weights, masks, biases, norms, embeddings) the
    /// network's store holds; refuses more than `SizeLimits.floats` (8 GiB).
    public static func checkedFloatCount(_ network: Network) throws -> Int {
        var total = 0
        for shape in expectedShapes(network).values {
            // Each count is bounded by the network builder; the sum is checked here.
            let count = SizeLimits.product(shape, limit: SizeLimits.perNode) ?? SizeLimits.perNode
            total = min(total + count, SizeLimits.perNetwork)
        }
        guard total <= SizeLimits.floats else {
            throw SparseIFTError.invalidArgument(
                "\(network.name) needs \(total) float32 values of weights and masks (\(SizeLimits.gibibytes(floats: Double(total)))); the limit is \(SizeLimits.gibibytes(floats: Double(SizeLimits.floats)))")
        }
        return total
    }

    /// The keys and shapes a network needs.
    public static func expectedShapes(_ network: Network) -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for node in network.nodes {
            switch node.op {
            case .conv2d(let c):
                shapes["\(node.name).weight"] = c.weightShape
                if c.weight.isSparse { shapes["\(node.name).mask"] = c.weightShape }
                if c.bias { shapes["\(node.name).bias"] = [c.outChannels] }
            case .linear(let l):
                if l.tiedTo == nil {
                    shapes["\(node.name).weight"] = l.weightShape
                    if l.weight.isSparse { shapes["\(node.name).mask"] = l.weightShape }
                }
                if l.bias { shapes["\(node.name).bias"] = [l.outFeatures] }
            case .batchNorm:
                for suffix in ["weight", "bias", "running_mean", "running_var"] { shapes["\(node.name).\(suffix)"] = [node.shape[0]] }
            case .layerNorm:
                for suffix in ["weight", "bias"] { shapes["\(node.name).\(suffix)"] = [node.shape.last!] }
            case .embedding(let vocabulary, let dim):
                shapes["\(node.name).weight"] = [vocabulary, dim]
            case .positionEmbedding(let length):
                shapes["\(node.name).weight"] = [length, node.shape[1]]
            default:
                break
            }
        }
        return shapes
    }
}

/// Results written by concurrent workers, one slot each (slots are disjoint; the lock
/// makes the writes visible to the reader after `concurrentPerform` returns).
private final class ConcurrentResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, any Error>) { lock.withLock { slots[index] = result } }

    /// Every slot's result, in order (each was set by `concurrentPerform`).
    var values: [Result<Value, any Error>] {
        lock.withLock { slots.map { $0 ?? .failure(SparseIFTError.invalidArgument("a weight was not drawn")) } }
    }
}
