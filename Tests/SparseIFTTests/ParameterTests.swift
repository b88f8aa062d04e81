import Foundation
import Testing
@testable import SparseIFT

@Suite struct ParameterTests {
    @Test func initialisationIsDeterministicAndMasked() throws {
        let network = try SparseIFT.transform(try Small.resnet(.cifar), kind: .parallel, sparsity: 0.75).network
        let a = try ParameterStore.initialize(network, options: .init(seed: 11))
        let b = try ParameterStore.initialize(network, options: .init(seed: 11))
        let c = try ParameterStore.initialize(network, options: .init(seed: 12))
        #expect(a.tensors == b.tensors)
        #expect(a.tensors["layer1.0.conv1.branch0.weight"] != c.tensors["layer1.0.conv1.branch0.weight"])
        try a.validate(for: network)
        for layer in Accounting.account(network).layers where layer.role == .body {
            let weight = a["\(layer.name).weight"]!
            let mask = a["\(layer.name).mask"]!
            #expect(mask.values.filter { $0 == 1 }.count == layer.nonzeroWeights)
            for index in weight.values.indices where mask.values[index] == 0 { #expect(weight.values[index] == 0) }
        }
        // Dense layers have no mask.
        #expect(a["conv1.mask"] == nil)
    }

    @Test func kaimingScale() throws {
        let network = try MLP.build(widths: [512, 512, 10])
        let store = try ParameterStore.initialize(network)
        let values = store["fc1.weight"]!.values.map(Double.init)
        let variance = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
        #expect(abs(variance / (2.0 / 512) - 1) < 0.03)
    }

    @Test func saveAndLoadRoundTrip() throws {
        let network = try SparseIFT.transform(try Small.gpt(), kind: .doped, sparsity: 0.5).network
        let store = try ParameterStore.initialize(network, options: .init(seed: 4, randomizeAffine: true))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sift-params-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try store.save(to: directory)
        let loaded = try ParameterStore.load(from: directory, for: network)
        #expect(loaded.tensors == store.tensors)
        // A missing file is a clear error.
        try FileManager.default.removeItem(atPath: "\(directory)/h.0.attn.q_proj.mask.npy")
        #expect(throws: SparseIFTError.self) { try ParameterStore.load(from: directory, for: network) }
    }
}

/// Weights checked against the network a command names, and no silent infinities.
@Suite struct ParameterCheckTests {
    @Test func masksAreCheckedAgainstTheLayersSparsityAndPattern() throws {
        let mlp = try MLP.build(widths: [16, 32, 4])
        let half = try SparseIFT.transform(mlp, kind: .dense, sparsity: 0.5).network
        let most = try SparseIFT.transform(mlp, kind: .dense, sparsity: 0.9).network
        let blocks = try SparseIFT.transform(mlp, kind: .dense, sparsity: 0.5, options: TransformOptions(pattern: .block(rows: 4, columns: 4))).network
        let store = try ParameterStore.initialize(half, options: .init(seed: 1))
        try store.validateMasks(for: half)
        // Same shapes, other sparsity or pattern: refused, naming the layer and the counts.
        #expect(throws: SparseIFTError.self) { try store.validateMasks(for: most) }
        do {
            try store.validateMasks(for: most)
        } catch let error as SparseIFTError {
            #expect(error.description.contains("fc1.mask keeps 256 of 512") && error.description.contains("0.900000"))
        }
        #expect(throws: SparseIFTError.self) { try store.validateMasks(for: blocks) }
    }

    @Test func checkedLoadComparesTheManifest() throws {
        let mlp = try MLP.build(widths: [16, 32, 4])
        let options = ModelZoo.Options(mlpWidths: [16, 32, 4])
        let half = try SparseIFT.transform(mlp, kind: .dense, sparsity: 0.5)
        let store = try ParameterStore.initialize(half.network, options: .init(seed: 1))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sift-manifest-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let identity = WeightsManifest.Identity(model: "mlp", zooOptions: options, transformed: half)
        try store.save(to: directory, network: half.network.name, identity: identity, seed: 1)
        #expect(try ParameterStore.load(from: directory, for: half.network, identity: identity).tensors == store.tensors)
        let manifest = try WeightsManifest.read(from: directory)
        #expect(manifest.seed == 1 && manifest.identity == identity && manifest.tensors.count == store.tensors.count)
        let other = try SparseIFT.transform(mlp, kind: .dense, sparsity: 0.75)
        let otherIdentity = WeightsManifest.Identity(model: "mlp", zooOptions: options, transformed: other)
        #expect(identity.differences(from: otherIdentity) == ["sparsity: 0.5 (weights) vs 0.75 (this command)"])
        #expect(throws: SparseIFTError.self) { try ParameterStore.load(from: directory, for: other.network, identity: otherIdentity) }
        // Options that do not apply to a transform cannot cause a mismatch.
        let withUnusedOption = try SparseIFT.transform(mlp, kind: .dense, sparsity: 0.5, options: TransformOptions(dopedLowRank: .sparse))
        #expect(WeightsManifest.Identity(model: "mlp", zooOptions: options, transformed: withUnusedOption) == identity)
    }

    /// Finite inputs whose products overflow float32 are an error naming the node.
    @Test func referenceExecutionRefusesOverflow() throws {
        let mlp = try MLP.build(widths: [4, 4, 2])
        var store = try ParameterStore.initialize(mlp, options: .init(seed: 3))
        store["fc1.weight"] = try Tensor(shape: [4, 4], values: [Float](repeating: 1e30, count: 16))
        let input = try Tensor(shape: [1, 4], values: [1e30, 1e30, 1e30, 1e30])
        do {
            _ = try ReferenceExecution.run(mlp, parameters: store, input: input)
            Issue.record("overflow was not reported")
        } catch let error as SparseIFTError {
            guard case .nonFiniteResult(let message) = error else { Issue.record("wrong error \(error)"); return }
            #expect(message.contains("fc1") && message.contains("overflowed"))
        }
    }
}
