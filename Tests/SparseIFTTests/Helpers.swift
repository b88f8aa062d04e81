@testable import SparseIFT

/// Small networks that keep the reference execution fast.
enum Small {
    static func resnet(_ variant: ResNet.Variant) throws -> Network {
        try ResNet.build(ResNet.Config(depth: .resnet18, variant: variant, stageWidths: [4, 8, 8, 16], classes: 5,
                                       imageSize: variant == .cifar ? 8 : 32))
    }

    static func gpt() throws -> Network {
        try GPT.build(GPT.Config(name: "gpt-tiny", dModel: 16, dFF: 64, layers: 2, heads: 4, vocabulary: 11, sequenceLength: 5))
    }

    static func mlp() throws -> Network {
        try MLP.build(widths: [12, 16, 16, 3])
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

    static var all: [Network] {
        get throws { [try resnet(.cifar), try resnet(.imagenet), try gpt(), try mlp(), try mobile()] }
    }

    /// A deterministic input for a network: images in [-1, 1), token ids in range.
    static func input(for network: Network, batch: Int = 2, seed: UInt64 = 7) throws -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let count = batch * network.input.shape.reduce(1, *)
        let values: [Float]
        if case .embedding(let vocabulary, _) = network.nodes[1].op {
            values = (0..<count).map { _ in Float(generator.nextIndex(below: vocabulary)) }
        } else {
            values = (0..<count).map { _ in Float(generator.nextUnit() * 2 - 1) }
        }
        return try Tensor(shape: [batch] + network.input.shape, values: values)
    }
}
