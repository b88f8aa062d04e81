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
