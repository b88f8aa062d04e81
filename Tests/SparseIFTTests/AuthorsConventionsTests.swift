import Testing
@testable import SparseIFT

/// The conventions of the authors' released code (CerebrasResearch/Sparse-IFT,
/// `ComputerVision/CIFAR/models/cifar_resnet18.py`, `ComputerVision/ImageNet/models/
/// resnet_basic.py`): Sparse Wide's stage widths, the untransformed projection shortcuts,
/// Sparse Doped's U and V both ways, and block / N:M patterns on widened layers.
@Suite struct AuthorsConventionsTests {
    static let resnets = ["resnet18-cifar", "resnet34-cifar", "resnet18-imagenet", "resnet34-imagenet"]

    func conv(_ name: String, in network: Network, sourceLocation: SourceLocation = #_sourceLocation) throws -> Conv2dSpec {
        let node = try #require(network.node(named: name), "no node \(name)", sourceLocation: sourceLocation)
        guard case .conv2d(let c) = node.op else {
            Issue.record("\(name) is not a conv", sourceLocation: sourceLocation)
            throw SparseIFTError.invalidArgument(name)
        }
        return c
    }

    /// `int(64·sqrt(base))` once, doubled per stage: 90/180/360/720, 128/…/1024,
    /// 202/404/808/1616, the stem's output and the classifier's input included.
    @Test(arguments: [(0.5, 90), (0.75, 128), (0.9, 202)])
    func sparseWideStageWidths(sparsity: Double, first: Int) throws {
        for model in Self.resnets {
            let wide = try SparseIFT.transform(try ModelZoo.build(model), kind: .wide, sparsity: sparsity).network
            #expect(try conv("conv1", in: wide).outChannels == first, "\(model)")
            #expect(try conv("conv1", in: wide).inChannels == 3)
            let lastBlock = model.hasPrefix("resnet18") ? 1 : 2
            for (stage, multiple) in [(1, 1), (2, 2), (3, 4), (4, 8)] {
                #expect(try conv("layer\(stage).0.conv1", in: wide).outChannels == first * multiple, "\(model) stage \(stage)")
                #expect(try conv("layer\(stage).\(lastBlock).conv2", in: wide).outChannels == first * multiple, "\(model) stage \(stage)")
                if stage > 1 {
                    let shortcut = try conv("layer\(stage).0.downsample.0", in: wide)
                    #expect(shortcut.inChannels == first * multiple / 2 && shortcut.outChannels == first * multiple)
                    #expect(shortcut.weight.role == .shortcut && shortcut.weight.sparsity > 0)
                }
            }
            guard case .linear(let fc) = wide.node(named: "fc")?.op else { Issue.record("no fc"); return }
            #expect(fc.inFeatures == 8 * first && fc.outFeatures == (model.hasSuffix("cifar") ? 100 : 1000))
        }
    }

    /// Parallel, Factorized and Doped transform only the 3x3 convs: each 1x1 projection
    /// shortcut stays one sparse conv + BN, unless `transformShortcuts` asks otherwise.
    @Test(arguments: [0.5, 0.75, 0.9])
    func shortcutsStaySingleSparseConvs(sparsity: Double) throws {
        for model in Self.resnets {
            let dense = try ModelZoo.build(model)
            for kind in [TransformKind.parallel, .factorized, .doped] {
                let network = try SparseIFT.transform(dense, kind: kind, sparsity: sparsity).network
                for stage in 2...4 {
                    let shortcut = try conv("layer\(stage).0.downsample.0", in: network)
                    #expect(shortcut.kernelHeight == 1 && shortcut.stride == 2 && shortcut.weight.sparsity == sparsity, "\(model) \(kind)")
                    let node = try #require(network.node(named: "layer\(stage).0.downsample.0"))
                    #expect(network.consumers[node.id].map { network.nodes[$0].name } == ["layer\(stage).0.downsample.1"])
                    #expect(!network.nodes.contains { $0.name.hasPrefix("layer\(stage).0.downsample.0.") }, "\(model) \(kind)")
                }
                // The 3x3 convs are transformed.
                let replaced = kind == .parallel ? "layer2.0.conv1.branch0" : "layer2.0.conv1.U"
                #expect(network.node(named: replaced) != nil, "\(model) \(kind)")
                // Transforming the shortcuts too is an option.
                let all = try SparseIFT.transform(dense, kind: kind, sparsity: sparsity, options: TransformOptions(transformShortcuts: true)).network
                let transformedShortcut = kind == .parallel ? "layer2.0.downsample.0.branch0" : "layer2.0.downsample.0.U"
                #expect(all.node(named: transformedShortcut) != nil, "\(model) \(kind)")
            }
        }
    }

    /// Doped's U and V: dense and iso-FLOP by default (the paper), masked at s when asked
    /// (the released code), which the notes say and the FLOPs show.
    @Test func dopedLowRankBothWays() throws {
        let dense = try ModelZoo.build("resnet18-cifar")
        let options = TransformOptions(transformShortcuts: true)
        let paper = try SparseIFT.transform(dense, kind: .doped, sparsity: 0.75, options: options)
        let u = try conv("layer1.0.conv1.U", in: paper.network)
        #expect(u.weight.role == .lowRank && u.weight.sparsity == 0)
        #expect(paper.notes.contains { $0.hasPrefix("U and V dense, as in the paper") })
        let paperRatio = Double(Accounting.effectiveMACs(paper.network)) / Double(Accounting.effectiveMACs(dense))
        #expect(abs(paperRatio - 1) < 0.01)

        var codeOptions = options
        codeOptions.dopedLowRank = .sparse
        let code = try SparseIFT.transform(dense, kind: .doped, sparsity: 0.75, options: codeOptions)
        let maskedU = try conv("layer1.0.conv1.U", in: code.network)
        let maskedV = try conv("layer1.0.conv1.V", in: code.network)
        #expect(maskedU.weight.role == .lowRank && maskedU.weight.sparsity == 0.75 && maskedV.weight.sparsity == 0.75)
        #expect(code.notes.contains { $0.hasPrefix("U and V masked at s, as in the authors' released code") })
        // U·V then costs a quarter: the member lands at 0.25 + 0.75·0.25 of dense.
        let codeRatio = Double(Accounting.effectiveMACs(code.network)) / Double(Accounting.effectiveMACs(dense))
        #expect(codeRatio < 0.5)
        #expect(code.notes.contains { $0.contains("not iso-FLOP") && $0.contains("U and V are masked at s") })
        // Their masks follow the pattern like every sparse layer.
        let parameters = try ParameterStore.initialize(
            try SparseIFT.transform(try Small.resnet(.cifar), kind: .doped, sparsity: 0.75, options: codeOptions).network)
        #expect(parameters["layer1.0.conv1.U.mask"] != nil && parameters["layer1.0.conv1.V.mask"] != nil)
    }

    /// The issue's example: block and N:M patterns on widened layers, whose sides are not
    /// multiples of the block or group (202 channels, K = 1818).
    @Test(arguments: ["16x16", "4x4", "2:4", "1:8"])
    func patternsOnWidenedLayers(patternText: String) throws {
        let pattern = try SparsityPattern(parsing: patternText)
        let sparsity = pattern.fixedSparsity ?? 0.9
        let wide = try SparseIFT.transform(try ModelZoo.build("resnet18-cifar"), kind: .wide, sparsity: sparsity,
                                           options: TransformOptions(pattern: pattern))
        let layer = try #require(Accounting.account(wide.network).layers.first { $0.name == "layer1.0.conv1" })
        #expect(layer.weightShape == [Int](arrayLiteral: layer.weightShape![0], layer.weightShape![0], 3, 3))
        #expect(layer.nonzeroWeights == pattern.nonzeroCount(rows: layer.weightShape![0], reduction: 9 * layer.weightShape![0],
                                                             sparsity: layer.sparsity))
        let ratio = Double(Accounting.effectiveMACs(wide.network)) / Double(Accounting.effectiveMACs(wide.dense))
        if pattern.fixedSparsity == nil { #expect(abs(ratio - 1) <= SparseIFT.flopMatchTolerance) }
    }

    /// Masks, pattern checks and accounting agree on ragged widened layers: every mask of
    /// a small widened ResNet (first stage 5 → int(5·sqrt(10)) = 15 channels at s = 0.9,
    /// int(5·sqrt(2)) = 7 for 2:4, so rows and K are ragged for 4x4 and 2:4) has the
    /// accounted count and the pattern's structure.
    @Test(arguments: ["4x4", "2:4", "unstructured"])
    func masksAgreeWithAccountingOnRaggedLayers(patternText: String) throws {
        let pattern = try SparsityPattern(parsing: patternText)
        let dense = try ResNet.build(ResNet.Config(depth: .resnet18, variant: .cifar, stageWidths: [5, 10, 20, 40], classes: 5, imageSize: 8))
        let sparsity = pattern.fixedSparsity ?? 0.9
        let wide = try SparseIFT.transform(dense, kind: .wide, sparsity: sparsity,
                                           options: TransformOptions(pattern: pattern, matchDenseFLOPs: false))
        #expect(try conv("layer1.0.conv1", in: wide.network).outChannels == Int((5 * Double(wide.base).squareRoot()).rounded(.down)))
        let parameters = try ParameterStore.initialize(wide.network, options: .init(seed: 3))
        var ragged = 0
        for layer in Accounting.account(wide.network).layers where layer.role?.takesNetworkSparsity == true {
            let mask = try #require(parameters["\(layer.name).mask"])
            let matrix = try #require(wide.network.node(named: layer.name)?.op.weightMatrix)
            #expect(MaskSampler.violation(of: mask.values, rows: matrix.rows, reduction: matrix.reduction, pattern: pattern) == nil, "\(layer.name)")
            #expect(mask.values.filter { $0 == 1 }.count == layer.nonzeroWeights, "\(layer.name)")
            if matrix.rows % 4 != 0 || matrix.reduction % 4 != 0 { ragged += 1 }
        }
        #expect(ragged > 0)
    }
}
