import Testing
@testable import SparseIFT

/// The one GEMM lowering: shapes in the M/N/K convention (M = weight rows, K = reduction,
/// N = positions), im2col geometry, fusable epilogues, and MAC totals.
@Suite struct LoweringTests {
    func product(_ name: String, in network: Network, sourceLocation: SourceLocation = #_sourceLocation) throws -> MatrixProduct {
        let node = try #require(network.node(named: name), "no node \(name)", sourceLocation: sourceLocation)
        return try #require(GEMMLowering(network).products(ofNode: node.id).first, "\(name) has no product", sourceLocation: sourceLocation)
    }

    @Test func resnet18ImageNetShapesAndEpilogues() throws {
        let network = try ModelZoo.build("resnet18-imagenet")
        let stem = try product("conv1", in: network)
        #expect(stem.kind == .weight && stem.M == 64 && stem.K == 147 && stem.N == 112 * 112 && stem.groups == 1)
        let geometry = try #require(stem.convolution)
        #expect(geometry == ConvolutionGeometry(inChannels: 3, inHeight: 224, inWidth: 224, kernelHeight: 7, kernelWidth: 7, stride: 2,
                                                padding: 3, outHeight: 112, outWidth: 112, groups: 1, depthwise: false))
        #expect(stem.weight?.role == .stem && stem.weight?.nonzeros == 9408 && stem.weight?.rows == 64 && stem.weight?.reduction == 147)
        #expect(stem.epilogue.batchNorm?.name == "bn1" && stem.epilogue.activation == .relu && stem.epilogue.activationNode?.name == "relu")
        #expect(stem.epilogue.residualAdd == nil && !stem.epilogue.bias)

        // Identity shortcut: the block's second conv fuses BN, the add (residual = the
        // block input, computed earlier) and the ReLU.
        let identity = try product("layer1.0.conv2", in: network)
        #expect(identity.M == 64 && identity.K == 576 && identity.N == 56 * 56)
        #expect(identity.epilogue.batchNorm?.name == "layer1.0.bn2")
        #expect(identity.epilogue.residualAdd?.name == "layer1.0.add" && identity.epilogue.residual?.name == "maxpool")
        #expect(identity.epilogue.activation == .relu && identity.epilogue.activationNode?.name == "layer1.0.relu2")
        #expect(identity.epilogue.absorbedNodes.map { network.nodes[$0].name } == ["layer1.0.bn2", "layer1.0.add", "layer1.0.relu2"])
        let first = try product("layer1.0.conv1", in: network)
        #expect(first.epilogue.batchNorm?.name == "layer1.0.bn1" && first.epilogue.residualAdd == nil && first.epilogue.activation == .relu)

        // Projection shortcut: the add goes to the shortcut, the product computed last.
        let main = try product("layer2.0.conv2", in: network)
        #expect(main.M == 128 && main.K == 1152 && main.N == 28 * 28)
        #expect(main.epilogue.batchNorm?.name == "layer2.0.bn2" && main.epilogue.residualAdd == nil && main.epilogue.activation == nil)
        let shortcut = try product("layer2.0.downsample.0", in: network)
        #expect(shortcut.M == 128 && shortcut.K == 64 && shortcut.N == 28 * 28)
        #expect(shortcut.convolution?.stride == 2 && shortcut.convolution?.kernelHeight == 1 && shortcut.convolution?.inHeight == 56)
        #expect(shortcut.epilogue.batchNorm?.name == "layer2.0.downsample.1")
        #expect(shortcut.epilogue.residualAdd?.name == "layer2.0.add" && shortcut.epilogue.residual?.name == "layer2.0.bn2")
        #expect(shortcut.epilogue.activation == .relu)

        let fc = try product("fc", in: network)
        #expect(fc.M == 1000 && fc.K == 512 && fc.N == 1 && fc.groups == 1 && fc.convolution == nil)
        #expect(fc.epilogue.bias && fc.epilogue.batchNorm == nil && fc.epilogue.activation == nil)
        #expect(fc.columns(batch: 64) == 64 && identity.columns(batch: 8) == 8 * 3136)
    }

    @Test func mobileNetV2DepthwiseAndInvertedResiduals() throws {
        let network = try ModelZoo.build("mobilenetv2")
        let depthwise = try product("features.2.conv.1.0", in: network)
        #expect(depthwise.M == 1 && depthwise.K == 9 && depthwise.N == 56 * 56 && depthwise.groups == 96)
        #expect(depthwise.convolution?.depthwise == true && depthwise.convolution?.stride == 2 && depthwise.convolution?.inHeight == 112)
        #expect(depthwise.weight?.role == .grouped && depthwise.weight?.rows == 96 && depthwise.weight?.reduction == 9)
        #expect(depthwise.epilogue.batchNorm?.name == "features.2.conv.1.1" && depthwise.epilogue.activation == .relu6)
        let expand = try product("features.3.conv.0.0", in: network)
        #expect(expand.M == 144 && expand.K == 24 && expand.N == 56 * 56 && expand.convolution?.depthwise == false)
        // The project conv of a block that keeps its shape fuses the residual add.
        let project = try product("features.3.conv.2", in: network)
        #expect(project.M == 24 && project.K == 144 && project.N == 56 * 56)
        #expect(project.epilogue.batchNorm?.name == "features.3.conv.3")
        #expect(project.epilogue.residualAdd?.name == "features.3.add" && project.epilogue.residual?.name == "features.2.conv.3")
        #expect(project.epilogue.activation == nil)
        let classifier = try product("classifier.1", in: network)
        #expect(classifier.M == 1000 && classifier.K == 1280 && classifier.N == 1 && classifier.epilogue.bias)
    }

    @Test func gptProducts() throws {
        let network = try ModelZoo.build("gpt3-small", options: ModelZoo.Options(sequenceLength: 128))
        let q = try product("h.0.attn.q_proj", in: network)
        #expect(q.M == 768 && q.K == 768 && q.N == 128 && q.epilogue.bias && q.epilogue.activation == nil)
        let scores = try product("h.0.attn.scores", in: network)
        #expect(scores.kind == .attentionScores && scores.M == 128 && scores.K == 64 && scores.N == 128 && scores.groups == 12)
        #expect(scores.weight == nil && scores.effectiveMACs == scores.macs && scores.columns(batch: 4) == 128)
        let context = try product("h.0.attn.context", in: network)
        #expect(context.kind == .attentionContext && context.M == 128 && context.K == 128 && context.N == 64 && context.groups == 12)
        let up = try product("h.0.mlp.c_fc", in: network)
        #expect(up.M == 3072 && up.K == 768 && up.N == 128 && up.epilogue.activation == .gelu)
        let down = try product("h.0.mlp.c_proj", in: network)
        #expect(down.M == 768 && down.K == 3072 && down.epilogue.residualAdd?.name == "h.0.mlp.add" && down.epilogue.residual?.name == "h.0.attn.add")
        let projection = try product("h.1.attn.c_proj", in: network)
        #expect(projection.epilogue.residualAdd?.name == "h.1.attn.add" && projection.epilogue.residual?.name == "h.0.mlp.add")
        let head = try product("lm_head", in: network)
        #expect(head.M == 50257 && head.K == 768 && head.N == 128 && head.weight?.tiedTo == "wte" && head.weight?.nonzeros == 50257 * 768)
    }

    @Test func transformedProductsCarryTheirSparsityAndEpilogues() throws {
        let dense = try ModelZoo.build("resnet18-cifar")
        let parallel = try SparseIFT.transform(dense, kind: .parallel, sparsity: 0.75).network
        let branch = try product("layer1.0.conv1.branch2", in: parallel)
        #expect(branch.weight?.sparsity == 0.75 && branch.weight?.pattern == .unstructured)
        #expect(branch.weight?.nonzeros == SparsityPattern.unstructured.nonzeroCount(rows: 64, reduction: 576, sparsity: 0.75))
        #expect(branch.effectiveMACs == branch.weight!.nonzeros * 1024)
        // CIFAR: the branch BN feeds a many-input sum, which is not fused.
        #expect(branch.epilogue.batchNorm?.name == "layer1.0.bn1.branch2" && branch.epilogue.residualAdd == nil && branch.epilogue.activation == nil)
        let imagenet = try SparseIFT.transform(try ModelZoo.build("resnet18-imagenet"), kind: .parallel, sparsity: 0.75).network
        #expect(try product("layer1.0.conv1.branch0", in: imagenet).epilogue.activationNode?.name == "layer1.0.relu1.branch0")
        // Doped: V fuses the sum with the sparse path as its residual.
        let doped = try SparseIFT.transform(dense, kind: .doped, sparsity: 0.9).network
        let v = try product("layer1.0.conv1.V", in: doped)
        #expect(v.weight?.role == .lowRank && v.epilogue.residualAdd?.name == "layer1.0.conv1.sum" && v.epilogue.residual?.name == "layer1.0.conv1")
        // Factorized: U fuses its BN and ReLU.
        let factorized = try SparseIFT.transform(dense, kind: .factorized, sparsity: 0.5).network
        let u = try product("layer1.0.conv1.U", in: factorized)
        #expect(u.epilogue.batchNorm?.name == "layer1.0.conv1.U.bn" && u.epilogue.activationNode?.name == "layer1.0.conv1.U.relu")
    }

    /// The lowering reproduces the published totals (`sift models` before the lowering
    /// existed), and the accounting is the sum of its products.
    @Test func macTotalsMatchThePublishedFigures() throws {
        let published: [(String, Int)] = [
            ("resnet18-cifar", 555_468_800), ("resnet18-imagenet", 1_814_073_344), ("resnet34-cifar", 1_159_448_576),
            ("resnet34-imagenet", 3_663_761_408), ("mobilenetv2", 300_774_272), ("gpt3-small", 330_303_012_864),
            ("gpt3-medium", 930_030_288_896), ("mlp", 2_910_208),
        ]
        for (name, macs) in published {
            let network = try ModelZoo.build(name)
            let lowering = GEMMLowering(network)
            #expect(lowering.macs == macs, "\(name)")
            #expect(Accounting.account(network).macs == macs, "\(name)")
            #expect(Accounting.effectiveMACs(network) == lowering.effectiveMACs, "\(name)")
            for product in lowering.products {
                #expect(product.macs == product.M * product.K * product.N * product.groups)
                #expect(lowering.products(ofNode: product.nodeID) == [product])
            }
        }
        for kind in TransformKind.allCases {
            let network = try SparseIFT.transform(try ModelZoo.build("resnet18-cifar"), kind: kind, sparsity: 0.9).network
            #expect(Accounting.account(network).effectiveMACs == GEMMLowering(network).effectiveMACs, "\(kind)")
        }
    }

    /// The benchmark's default shapes come from the lowering and are the shapes the
    /// benchmark always measured (M = C_out, K = 9·C_in, N = output pixels).
    @Test func benchmarkShapesComeFromTheLowering() throws {
        let shapes = try KernelWorkloads.defaultShapes().map { "\($0.name) \($0.M)x\($0.K)x\($0.N)" }
        #expect(shapes == [
            "mlp-1024 N=1 1024x1024x1", "mlp-1024 N=64 1024x1024x64", "mlp-1024 N=256 1024x1024x256",
            "gemv-4096 4096x4096x1", "mlp-4096 N=256 4096x4096x256",
            "gpt3s-ffn-up 3072x768x512", "gpt3s-ffn-down 768x3072x512",
            "r18-conv2 64x576x3136", "r18-conv3 128x1152x784", "r18-conv4 256x2304x196", "r18-conv5 512x4608x49",
        ])
        #expect(throws: SparseIFTError.self) { try KernelWorkloads.shape("x", of: "nope", in: try ModelZoo.build("mlp"), batch: 1) }
    }
}
