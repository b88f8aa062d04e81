/// The kernel benchmark's default shapes, taken from the `GEMMLowering` of zoo models
/// rather than written by hand, so they follow the one M/N/K convention (M = weight rows,
/// K = reduction, N = positions × batch) and change with the models.
public enum KernelWorkloads {
    /// One benchmark shape: W is M×K, X is K×N.
    public struct Shape: Hashable, Sendable {
        public let name: String
        public let M: Int
        public let K: Int
        public let N: Int
    }

    /// MLP layers (the zoo MLP's 1024×1024 hidden layer at batch 1, 64, 256, and a
    /// 4096-wide MLP's at batch 1 and 256), the GPT-3 Small FFN at 512 tokens, and the
    /// stride-1 3×3 convolutions of ResNet-18 (ImageNet, batch 1) of each stage.
    public static func defaultShapes() throws -> [Shape] {
        var shapes: [Shape] = []
        let mlp = try ModelZoo.build("mlp")
        for batch in [1, 64, 256] {
            shapes.append(try shape("mlp-1024 N=\(batch)", of: "fc2", in: mlp, batch: batch))
        }
        let wideMLP = try MLP.build(widths: [4096, 4096, 4096, 10])
        shapes.append(try shape("gemv-4096", of: "fc2", in: wideMLP, batch: 1))
        shapes.append(try shape("mlp-4096 N=256", of: "fc2", in: wideMLP, batch: 256))
        let gpt = try ModelZoo.build("gpt3-small", options: ModelZoo.Options(sequenceLength: 512))
        shapes.append(try shape("gpt3s-ffn-up", of: "h.0.mlp.c_fc", in: gpt, batch: 1))
        shapes.append(try shape("gpt3s-ffn-down", of: "h.0.mlp.c_proj", in: gpt, batch: 1))
        let resnet = try ModelZoo.build("resnet18-imagenet")
        for stage in 1...4 {
            shapes.append(try shape("r18-conv\(stage + 1)", of: "layer\(stage).1.conv1", in: resnet, batch: 1))
        }
        return shapes
    }

    /// The weight product of one named node of `network`, at a batch.
    public static func shape(_ name: String, of nodeName: String, in network: Network, batch: Int) throws -> Shape {
        guard let node = network.node(named: nodeName),
              let product = GEMMLowering(network).products(ofNode: node.id).first, product.kind == .weight else {
            throw SparseIFTError.invalidArgument("\(network.name) has no weight product named \(nodeName)")
        }
        guard product.groups == 1 else {
            throw SparseIFTError.invalidArgument("\(nodeName) is a grouped convolution (\(product.groups) groups), not one GEMM")
        }
        return Shape(name: name, M: product.M, K: product.K, N: product.columns(batch: batch))
    }
}
