import Foundation
import Testing
@testable import SiftONNX
import SparseIFT
import SiftCore

/// Small networks that keep the reference execution fast.
enum Small {
    static func resnet(widths: [Int] = [4, 8, 8, 16], imageSize: Int = 32, variant: ResNet.Variant = .cifar) throws -> Network {
        try ResNet.build(ResNet.Config(depth: .resnet18, variant: variant, stageWidths: widths, classes: 5, imageSize: imageSize))
    }

    static func gpt(dModel: Int = 16, heads: Int = 4, layers: Int = 2, vocabulary: Int = 11, sequence: Int = 5) throws -> Network {
        try GPT.build(GPT.Config(name: "gpt-small-test", dModel: dModel, dFF: 4 * dModel, layers: layers, heads: heads,
                                 vocabulary: vocabulary, sequenceLength: sequence))
    }

    static func mlp(_ widths: [Int] = [12, 16, 16, 3]) throws -> Network {
        try MLP.build(widths: widths)
    }

    static func mobile() throws -> Network {
        var config = MobileNetV2.Config()
        config.imageSize = 16
        config.classes = 4
        config.stemChannels = 8
        config.lastChannels = 16
        config.stages = [(1, 8, 1, 1), (2, 8, 2, 2), (2, 16, 1, 2)]
        return try MobileNetV2.build(config)
    }

    /// A deterministic input: images in [-1, 1), token ids in range.
    static func input(for network: Network, batch: Int = 2, seed: UInt64 = 7) throws -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let count = batch * network.input.shape.reduce(1, *)
        let values: [Float]
        if let vocabulary = network.nodes.lazy.compactMap({ node -> Int? in
            if case .embedding(let vocabulary, _) = node.op { return vocabulary }
            return nil
        }).first {
            values = (0..<count).map { _ in Float(generator.nextIndex(below: vocabulary)) }
        } else {
            values = (0..<count).map { _ in Float(generator.nextUnit() * 2 - 1) }
        }
        return try Tensor(shape: [batch] + network.input.shape, values: values)
    }
}

/// The operation with its weight's role and sparsity cleared: what the graph itself says.
/// Roles are the zoo's conventions, which an ONNX file does not carry (the importer infers
/// stem / classifier / body, and Sparse Doped's dense low-rank factors come back as body).
func structural(_ op: IROperation) -> IROperation {
    switch op {
    case .conv2d(var spec):
        spec.weight = WeightSparsity(role: .body)
        return .conv2d(spec)
    case .linear(var spec):
        spec.weight = WeightSparsity(role: .body)
        return .linear(spec)
    default:
        return op
    }
}

/// Exports, re-imports, and checks the imported network is the original: same nodes,
/// names, inputs, shapes and operations, each sparse layer detected sparse with the
/// original mask (and pattern, unless `unstructured`, which a small mask may satisfy by
/// chance in a stricter form), and the same parameters.
@discardableResult
func roundTrip(_ network: Network, parameters: ParameterStore, options: ONNXModel.ExportOptions = ONNXModel.ExportOptions(),
               sourceLocation: SourceLocation = #_sourceLocation) throws -> (network: Network, parameters: ParameterStore) {
    let bytes = try ONNXModel.serialize(network, parameters: parameters, options: options)
    let imported = try ONNXModel.load(bytes: bytes)
    let back = imported.network
    try #require(back.nodes.count == network.nodes.count, "node count \(back.nodes.count) vs \(network.nodes.count)",
                 sourceLocation: sourceLocation)
    for (a, b) in zip(network.nodes, back.nodes) {
        #expect(a.name == b.name, sourceLocation: sourceLocation)
        #expect(a.inputs == b.inputs, "\(a.name): inputs", sourceLocation: sourceLocation)
        #expect(a.shape == b.shape, "\(a.name): shape", sourceLocation: sourceLocation)
        #expect(structural(a.op) == structural(b.op), "\(a.name): \(a.op) vs \(b.op)", sourceLocation: sourceLocation)
        if let original = a.op.weight, let detected = b.op.weight {
            #expect(original.isSparse == detected.isSparse, "\(a.name): sparse \(original.isSparse) vs \(detected.isSparse)",
                    sourceLocation: sourceLocation)
            if original.isSparse {
                if original.pattern != .unstructured {
                    #expect(original.pattern == detected.pattern, "\(a.name): pattern", sourceLocation: sourceLocation)
                }
                let sameMask = sameTensor(parameters["\(a.name).mask"], imported.parameters["\(b.name).mask"])
                #expect(sameMask, "\(a.name): mask", sourceLocation: sourceLocation)
            }
        }
    }
    for (key, tensor) in parameters.tensors where !key.hasSuffix(".mask") {
        let same = sameTensor(imported.parameters[key], tensor)
        #expect(same, "\(key) differs", sourceLocation: sourceLocation)
    }
    return imported
}

/// Runs the original and the re-imported network on the same input: the outputs must be
/// identical (same graph, same weights, same deterministic reference).
func expectSameOutputs(_ network: Network, parameters: ParameterStore, batch: Int = 2,
                       options: ONNXModel.ExportOptions = ONNXModel.ExportOptions(),
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    let imported = try roundTrip(network, parameters: parameters, options: options, sourceLocation: sourceLocation)
    let x = try Small.input(for: network, batch: batch)
    let expected = try ReferenceExecution.run(network, parameters: parameters, input: x)
    let actual = try ReferenceExecution.run(imported.network, parameters: imported.parameters, input: x)
    let same = sameTensor(expected, actual)
    #expect(same, "\(network.name): outputs differ", sourceLocation: sourceLocation)
}

/// Bit-for-bit equality, by memcmp: the generic `==` on millions of floats is slow in a
/// debug build.
func sameTensor(_ a: Tensor?, _ b: Tensor?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    guard a.shape == b.shape, a.values.count == b.values.count else { return false }
    return a.values.withUnsafeBytes { x in b.values.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
}

func randomParameters(_ network: Network, seed: UInt64 = 1) throws -> ParameterStore {
    try ParameterStore.initialize(network, options: .init(seed: seed, randomizeAffine: true))
}

/// Parameters for large networks, made quickly: `ParameterStore.initialize` draws every
/// value from a Gaussian stream, which takes tens of seconds for a GPT-3-Small-shaped model
/// in a debug build. Here each tensor repeats a block of 4093 hashed values (a prime
/// period, so rows never line up with it), copied rather than computed; each sparse layer
/// keeps about `1 - s` of its weights (unstructured), the weight already masked.
func quickParameters(_ network: Network, seed: UInt64 = 1) throws -> ParameterStore {
    let period = 4093
    func hash(_ index: Int, _ salt: UInt64) -> UInt64 {
        var x = (UInt64(index) &+ 1) &* 0x9E37_79B9_7F4A_7C15 ^ salt &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 31
        x = x &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 29)
    }
    func tiled(_ block: [Float], count: Int) -> [Float] {
        var values: [Float] = []
        values.reserveCapacity(count)
        while values.count < count { values.append(contentsOf: block.prefix(count - values.count)) }
        return values
    }
    var sparsity: [String: Double] = [:]
    for node in network.weightLayers { sparsity[node.name] = node.op.weight?.sparsity }
    var store = ParameterStore()
    for (key, shape) in ParameterStore.expectedShapes(network) where !key.hasSuffix(".mask") {
        let salt = seed ^ key.utf8.reduce(UInt64(17)) { $0 &* 31 &+ UInt64($1) }
        let count = shape.reduce(1, *)
        // Never exactly zero: a zero would read as a pruned weight.
        var block = (0..<min(period, count)).map { (Float(hash($0, salt) % 2000) + 0.5) / 1000 - 1 }
        if key.hasSuffix(".running_var") { block = block.map { 1.5 + $0 / 2 } }
        let layer = String(key.dropLast(".weight".count))
        if key.hasSuffix(".weight"), let s = sparsity[layer], s > 0 {
            let mask = (0..<block.count).map { hash($0, salt ^ 0xABCD) % 1000 < UInt64(s * 1000) ? Float(0) : 1 }
            block = zip(block, mask).map { $0 * $1 }
            store["\(layer).mask"] = try Tensor(shape: shape, values: tiled(mask, count: count))
        }
        store[key] = try Tensor(shape: shape, values: tiled(block, count: count))
    }
    return store
}
