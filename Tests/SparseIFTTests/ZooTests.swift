import Testing
@testable import SparseIFT

/// Known totals of the zoo models (torchvision / the GPT-3 paper), so users can trust
/// that our dense networks are the papers' networks.
@Suite struct ZooTests {
    @Test func resnet18ImageNetMatchesTorchvision() throws {
        let account = Accounting.account(try ModelZoo.build("resnet18-imagenet"))
        #expect(account.params == 11_689_512)  // torchvision resnet18
        #expect(account.macs == 1_814_073_344)  // the well-known 1.82 GMACs
    }

    @Test func resnet34ImageNetMatchesTorchvision() throws {
        let account = Accounting.account(try ModelZoo.build("resnet34-imagenet"))
        #expect(account.params == 21_797_672)
        #expect(abs(Double(account.macs) / 3.67e9 - 1) < 0.01)  // 3.6 GMACs
    }

    @Test func cifarResNetsHaveTheCIFAR100Sizes() throws {
        let r18 = Accounting.account(try ModelZoo.build("resnet18-cifar"))
        #expect(r18.params == 11_220_132)
        #expect(abs(Double(r18.macs) / 0.556e9 - 1) < 0.01)
        let r34 = Accounting.account(try ModelZoo.build("resnet34-cifar"))
        #expect(r34.params == 21_328_292)
    }

    @Test func mobileNetV2MatchesTorchvision() throws {
        let account = Accounting.account(try ModelZoo.build("mobilenetv2"))
        #expect(account.params == 3_504_872)
        #expect(abs(Double(account.macs) / 300e6 - 1) < 0.01)
    }

    @Test func gpt3SizesMatchThePaper() throws {
        let small = Accounting.account(try ModelZoo.build("gpt3-small"))
        #expect(abs(Double(small.params) / 125e6 - 1) < 0.01)
        let medium = Accounting.account(try ModelZoo.build("gpt3-medium"))
        #expect(abs(Double(medium.params) / 350e6 - 1) < 0.02)
        // Per token: 2·N_non-embedding-ish MACs plus attention; check one layer exactly.
        let network = try ModelZoo.build("gpt3-small", options: ModelZoo.Options(sequenceLength: 1024))
        let layer = Accounting.account(network).layers.first { $0.name == "h.0.attn.scores" }!
        #expect(layer.macs == 1024 * 1024 * 768)
        let fc = Accounting.account(network).layers.first { $0.name == "h.0.mlp.c_fc" }!
        #expect(fc.macs == 1024 * 768 * 3072)
    }

    @Test func gptSequenceLengthIsExplicit() throws {
        let network = try ModelZoo.build("gpt3-small", options: ModelZoo.Options(sequenceLength: 128))
        #expect(network.input.shape == [128])
        #expect(network.node(named: "h.0.attn.scores")!.shape == [12, 128, 128])
        #expect(network.output.shape == [128, 50257])
    }

    @Test func mlpOfGivenWidths() throws {
        let network = try ModelZoo.build("mlp", options: ModelZoo.Options(mlpWidths: [10, 20, 30, 5]))
        let roles = network.weightLayers.map { $0.op.weight!.role }
        #expect(roles == [.body, .body, .classifier])
        #expect(Accounting.account(network).macs == 10 * 20 + 20 * 30 + 30 * 5)
    }

    @Test func stemHeadAndEmbeddingsAreNotBody() throws {
        let resnet = try ModelZoo.build("resnet18-imagenet")
        #expect(resnet.node(named: "conv1")!.op.weight!.role == .stem)
        #expect(resnet.node(named: "fc")!.op.weight!.role == .classifier)
        #expect(resnet.node(named: "layer2.0.downsample.0")!.op.weight!.role == .shortcut)
        let mobile = try ModelZoo.build("mobilenetv2")
        #expect(mobile.node(named: "features.2.conv.1.0")!.op.weight!.role == .grouped)
        let gpt = try ModelZoo.build("gpt3-small", options: ModelZoo.Options(sequenceLength: 16))
        #expect(gpt.node(named: "lm_head")!.op.weight!.role == .classifier)
        #expect(gpt.node(named: "h.3.attn.q_proj")!.op.weight!.role == .body)
    }

    @Test func everyZooNameBuilds() throws {
        for name in ModelZoo.names {
            let network = try ModelZoo.build(name, options: ModelZoo.Options(sequenceLength: 64))
            #expect(network.nodes.count > 3)
        }
    }
}
