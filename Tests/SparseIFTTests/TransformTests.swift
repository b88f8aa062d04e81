import Foundation
import Testing
@testable import SparseIFT

@Suite struct TransformTests {
    static let members: [TransformKind] = [.wide, .parallel, .factorized, .doped]
    static let zooModels = ["resnet18-cifar", "resnet18-imagenet", "resnet34-cifar", "resnet34-imagenet", "mobilenetv2", "gpt3-small", "mlp"]

    static func zoo(_ name: String) throws -> Network {
        try ModelZoo.build(name, options: ModelZoo.Options(sequenceLength: 256))
    }

    @Test(arguments: members)
    func atZeroSparsityEveryMemberIsTheDenseNetwork(kind: TransformKind) throws {
        for name in Self.zooModels {
            let dense = try Self.zoo(name)
            let transformed = try SparseIFT.transform(dense, kind: kind, sparsity: 0)
            #expect(transformed.network.nodes == dense.nodes, "\(name) \(kind)")
            let a = Accounting.account(transformed.network)
            let b = Accounting.account(dense)
            #expect(a.params == b.params && a.macs == b.macs && a.effectiveMACs == b.effectiveMACs && a.searchSpace == b.searchSpace)
            #expect(transformed.sparsity == 0)
        }
    }

    @Test func integerWidthConventions() throws {
        #expect(try SparseIFT.base(sparsity: 0) == 1)
        #expect(try SparseIFT.base(sparsity: 0.5) == 2)
        #expect(try SparseIFT.base(sparsity: 0.75) == 4)
        #expect(try SparseIFT.base(sparsity: 0.9) == 10)
        #expect(try SparseIFT.base(sparsity: 0.8) == 5)
        #expect(try SparseIFT.base(sparsity: 0.3) == 1)
    }

    @Test func sparseWideFollowsTheAuthorsResNetRule() throws {
        let dense = try Self.zoo("resnet18-imagenet")
        // int(64·sqrt(2)) = 90, doubled: 720; 64·2 = 128 → 1024; int(64·sqrt(10)) = 202 → 1616.
        for (s, stem, last) in [(0.5, 90, 720), (0.75, 128, 1024), (0.9, 202, 1616)] {
            let wide = try SparseIFT.transform(dense, kind: .wide, sparsity: s).network
            guard case .conv2d(let c) = wide.node(named: "conv1")!.op else { Issue.record("no stem"); return }
            #expect(c.inChannels == 3 && c.outChannels == stem)
            guard case .linear(let fc) = wide.node(named: "fc")!.op else { Issue.record("no fc"); return }
            #expect(fc.inFeatures == last && fc.outFeatures == 1000)
        }
    }

    @Test func transformerWidthRule() throws {
        let dense = try Self.zoo("gpt3-small")
        // ceil(768·sqrt(base)/12)·12: 1092, 1536, 2436; d_ff = 4·d_model.
        for (s, dModel) in [(0.5, 1092), (0.75, 1536), (0.9, 2436)] {
            let transformed = try SparseIFT.transform(dense, kind: .wide, sparsity: s)
            let wide = transformed.network
            guard case .linear(let fc) = wide.node(named: "h.0.mlp.c_fc")!.op else { Issue.record("no c_fc"); return }
            #expect(fc.inFeatures == dModel && fc.outFeatures == 4 * dModel)
            #expect(wide.node(named: "wte")!.shape == [256, dModel])
            #expect(wide.node(named: "lm_head")!.shape == [256, 50257])
            #expect(transformed.sparsity == s)  // no search for transformers
        }
    }

    @Test func rankRoundingConventions() throws {
        // ResNet 3x3 conv 64→64: K = 576.
        // Factorized d = ceil(576·64 / ((1-s)(576+64))) = ceil(57.6/(1-s)).
        #expect(try SparseIFT.factorizedRank(reduction: 576, outputs: 64, sparsity: 0.5) == 116)
        #expect(try SparseIFT.factorizedRank(reduction: 576, outputs: 64, sparsity: 0.75) == 231)
        #expect(try SparseIFT.factorizedRank(reduction: 576, outputs: 64, sparsity: 0.9) == 576)  // 576 exactly, despite 1-0.9 ≠ 0.1 in binary
        // Doped d = floor(s·57.6).
        #expect(try SparseIFT.dopedRank(reduction: 576, outputs: 64, sparsity: 0.5) == 28)
        #expect(try SparseIFT.dopedRank(reduction: 576, outputs: 64, sparsity: 0.9) == 51)
        #expect(try SparseIFT.dopedRank(reduction: 576, outputs: 64, sparsity: 0) == 0)
        // Linear 1024x1024, s = 0.75: d_sf = 1024²/(2048·0.25) = 2048; d_sd = 0.75·512 = 384.
        #expect(try SparseIFT.factorizedRank(reduction: 1024, outputs: 1024, sparsity: 0.75) == 2048)
        #expect(try SparseIFT.dopedRank(reduction: 1024, outputs: 1024, sparsity: 0.75) == 384)
    }

    @Test func wideMobileNetKeepsDepthwiseConvsDepthwise() throws {
        let wide = try SparseIFT.transform(try Self.zoo("mobilenetv2"), kind: .wide, sparsity: 0.75).network
        guard case .conv2d(let expand) = wide.node(named: "features.2.conv.0.0")!.op,
              case .conv2d(let depthwise) = wide.node(named: "features.2.conv.1.0")!.op else { Issue.record("missing convs"); return }
        #expect(expand.inChannels == 32 && expand.outChannels == 192)  // 16·2, 96·2
        #expect(depthwise.isDepthwise && depthwise.groups == 192 && depthwise.weight.role == .grouped && depthwise.weight.sparsity == 0)
        #expect(expand.weight.sparsity > 0.7)
    }

    @Test func factorizedStructure() throws {
        let dense = try Self.zoo("resnet18-cifar")
        let net = try SparseIFT.transform(dense, kind: .factorized, sparsity: 0.75).network
        guard case .conv2d(let u) = net.node(named: "layer2.0.conv1.U")!.op,
              case .conv2d(let v) = net.node(named: "layer2.0.conv1.V")!.op else { Issue.record("missing factors"); return }
        // K = 9·64, C_out = 128: d = ceil(73728 / (0.25·704)) = ceil(418.9) = 419.
        #expect(u.inChannels == 64 && u.outChannels == 419 && u.kernelHeight == 3 && u.stride == 2)
        #expect(v.inChannels == 419 && v.outChannels == 128 && v.kernelHeight == 1 && v.stride == 1)
        #expect(u.weight.sparsity == 0.75 && v.weight.sparsity == 0.75)
        #expect(net.node(named: "layer2.0.conv1.U.bn")!.op == .batchNorm)
        #expect(net.node(named: "layer2.0.conv1.U.relu")!.op == .relu)
        // Stem and classifier untouched.
        #expect(net.node(named: "conv1")!.op == dense.node(named: "conv1")!.op)
        #expect(net.node(named: "fc")!.op == dense.node(named: "fc")!.op)
    }

    @Test func dopedStructure() throws {
        let dense = try Self.zoo("resnet18-cifar")
        let net = try SparseIFT.transform(dense, kind: .doped, sparsity: 0.9).network
        guard case .conv2d(let w) = net.node(named: "layer1.0.conv1")!.op,
              case .conv2d(let u) = net.node(named: "layer1.0.conv1.U")!.op,
              case .conv2d(let v) = net.node(named: "layer1.0.conv1.V")!.op else { Issue.record("missing parts"); return }
        #expect(w.weight.sparsity == 0.9 && w.weight.role == .body)
        #expect(u.outChannels == 51 && u.kernelHeight == 3 && u.weight.role == .lowRank && u.weight.sparsity == 0)
        #expect(v.inChannels == 51 && v.kernelHeight == 1 && v.weight.sparsity == 0)
        let sum = net.node(named: "layer1.0.conv1.sum")!
        #expect(sum.op == .add && sum.inputs.count == 2)
        // No nonlinearity inside U·V: V reads U directly.
        #expect(net.node(named: "layer1.0.conv1.V")!.inputs == [net.node(named: "layer1.0.conv1.U")!.id])
    }

    @Test func parallelVariants() throws {
        let cifar = try SparseIFT.transform(try Self.zoo("resnet18-cifar"), kind: .parallel, sparsity: 0.75).network
        // CIFAR: Σ_j BN_j(conv_j(x)), then ReLU.
        let cifarSum = cifar.node(named: "layer1.0.conv1.sum")!
        #expect(cifarSum.inputs.map { cifar.nodes[$0].name } == (0..<4).map { "layer1.0.bn1.branch\($0)" })
        #expect(cifar.nodes[cifarSum.id + 1].name == "layer1.0.relu1")
        let imagenet = try SparseIFT.transform(try Self.zoo("resnet18-imagenet"), kind: .parallel, sparsity: 0.75).network
        // ImageNet: ReLU per branch, sum, then ReLU.
        let imagenetSum = imagenet.node(named: "layer1.0.conv1.sum")!
        #expect(imagenetSum.inputs.map { imagenet.nodes[$0].name } == (0..<4).map { "layer1.0.relu1.branch\($0)" })
        #expect(imagenet.node(named: "layer1.0.relu1")!.inputs == [imagenetSum.id])
        // A unit without activation (the block's second conv) is a plain sum of BN'd branches.
        let conv2Sum = imagenet.node(named: "layer1.0.conv2.sum")!
        #expect(conv2Sum.inputs.map { imagenet.nodes[$0].name } == (0..<4).map { "layer1.0.bn2.branch\($0)" })
        // The variant can be overridden.
        let overridden = try SparseIFT.transform(try Self.zoo("resnet18-imagenet"), kind: .parallel, sparsity: 0.75,
                                                 options: TransformOptions(parallelActivation: .afterSum)).network
        #expect(overridden.node(named: "layer1.0.conv1.sum")!.inputs.map { overridden.nodes[$0].name }.allSatisfy { $0.hasPrefix("layer1.0.bn1.branch") })
    }

    /// Every transformed layer costs the dense layer's FLOPs, within the rounding of its
    /// width or rank. Sparse Wide is checked here at its nominal s (before the search,
    /// which by design moves every layer by the same factor to pay for the dense layers).
    /// The ResNets' 1x1 shortcuts, which Parallel, Factorized and Doped leave one sparse
    /// conv by default (the authors' structure), cost 1-s of their dense FLOPs; with
    /// `transformShortcuts` they are iso-FLOP like the rest.
    @Test(arguments: [0.5, 0.75, 0.9])
    func isoFLOPPerTransformedLayer(sparsity: Double) throws {
        let base = Double(try SparseIFT.base(sparsity: sparsity))
        for name in Self.zooModels {
            let dense = try Self.zoo(name)
            for kind in Self.members {
              for transformShortcuts in [false, true] {
                let options = TransformOptions(matchDenseFLOPs: false, transformShortcuts: transformShortcuts)
                let transformed = try SparseIFT.transform(dense, kind: kind, sparsity: sparsity, options: options)
                for layer in Accounting.compareByOrigin(transformed: transformed.network, dense: dense) {
                    let node = dense.node(named: layer.origin)!
                    let matrix = try #require(node.op.weightMatrix)
                    let (reduction, outputs) = (Double(matrix.reduction), Double(matrix.rows))
                    var inputs: Double
                    if case .conv2d(let c) = node.op { inputs = Double(c.inChannels) } else { inputs = reduction }
                    var widthOutputs = outputs
                    if let first = dense.metadata.firstStageWidth {
                        // The ResNet rule floors the first stage's width once and scales it:
                        // every width loses the same fraction, at most 1/(64·sqrt(base)).
                        inputs = Double(first)
                        widthOutputs = Double(first)
                    }
                    let untransformedShortcut = node.op.weight?.role == .shortcut && !transformShortcuts && kind != .wide
                    // Rounding bounds, from the formulas: the floor of both widths loses at
                    // most one channel on each side (the transformer rule rounds d_model up
                    // by less than one head); the rank's ceil/floor moves it by less than 1.
                    // Plus the rounding of each non-zero count (half a weight per tensor).
                    let countSlack = 0.5 * 2 * base / Double(matrix.reduction * matrix.rows) + 1e-6
                    var low = -countSlack, high = countSlack
                    switch kind {
                    case .wide:
                        if node.inputs == [0] { continue }  // reads the network input, which does not widen
                        if let transformer = dense.metadata.transformer {
                            let step = Double(transformer.heads) / (Double(transformer.dModel) * base.squareRoot())
                            high += (1 + step) * (1 + step) - 1
                        } else {
                            low -= 1 - (1 - 1 / (inputs * base.squareRoot())) * (1 - 1 / (widthOutputs * base.squareRoot()))
                        }
                    case .factorized: high += (1 - sparsity) * (reduction + outputs) / (reduction * outputs)
                    case .doped: low -= (reduction + outputs) / (reduction * outputs)
                    case .parallel, .dense: break
                    }
                    if untransformedShortcut {
                        (low, high) = (-sparsity - countSlack, -sparsity + countSlack)
                    }
                    #expect(layer.ratio - 1 >= low && layer.ratio - 1 <= high,
                            "\(name) \(kind) s=\(sparsity) shortcuts \(transformShortcuts) \(layer.origin): ratio \(layer.ratio)")
                }
              }
            }
        }
    }

    @Test(arguments: [0.5, 0.75, 0.9])
    func sparseWideMatchesTheDenseFLOPsAfterTheSearch(sparsity: Double) throws {
        var misses: [String] = []
        for name in ["resnet18-cifar", "resnet18-imagenet", "resnet34-cifar", "resnet34-imagenet", "mobilenetv2", "mlp"] {
            let dense = try Self.zoo(name)
            let transformed = try SparseIFT.transform(dense, kind: .wide, sparsity: sparsity)
            let ratio = Double(Accounting.effectiveMACs(transformed.network)) / Double(Accounting.effectiveMACs(dense))
            #expect(abs(ratio - 1) <= 0.001, "\(name) s=\(sparsity): ratio \(ratio)")
            // Without the search the network misses the budget (the dense stem and head
            // widen; the floor of the widths and the unwidened input layer of an MLP pull
            // the other way), by more than the tolerance somewhere.
            let naive = try SparseIFT.transform(dense, kind: .wide, sparsity: sparsity, options: TransformOptions(matchDenseFLOPs: false))
            let naiveRatio = Double(Accounting.effectiveMACs(naive.network)) / Double(Accounting.effectiveMACs(dense))
            if abs(naiveRatio - 1) > SparseIFT.flopMatchTolerance { misses.append(name) }
        }
        #expect(!misses.isEmpty, "s=\(sparsity): no model misses the budget without the search, so the search is untested")
        for name in ["resnet18-imagenet", "resnet34-imagenet"] {
            // ImageNet's 7x7 stem is big: widened, it overshoots, so the body gets sparser.
            let dense = try Self.zoo(name)
            let naive = try SparseIFT.transform(dense, kind: .wide, sparsity: sparsity, options: TransformOptions(matchDenseFLOPs: false))
            #expect(Accounting.effectiveMACs(naive.network) > Accounting.effectiveMACs(dense))
            #expect(try SparseIFT.transform(dense, kind: .wide, sparsity: sparsity).sparsity > sparsity)
        }
    }

    @Test func wideSearchIsTightOnResNet18ImageNet() throws {
        let dense = try Self.zoo("resnet18-imagenet")
        let wide = try SparseIFT.transform(dense, kind: .wide, sparsity: 0.9)
        let ratio = Double(Accounting.effectiveMACs(wide.network)) / 1_814_073_344
        #expect(abs(ratio - 1) < 1e-5)
        #expect(abs(wide.sparsity - 0.9149) < 1e-3)
    }

    /// Table 1: search-space cardinality of a D_in × D_out layer. With widths where the
    /// integer conventions are exact (s = 0.75: base 4, k_sw = 2), the network's body
    /// search space equals the formula.
    @Test func table1Cardinalities() throws {
        let dIn = 64, dOut = 64
        let s = 0.75
        // fc2 is a 64x64 body layer whose input is widened too (fc1's output); the
        // integer conventions are exact at s = 0.75 (base 4, k_sw = 2).
        let mlp = try MLP.build(widths: [dIn, dIn, dOut, 8])
        func searchSpace(_ network: Network, origin: String) -> Int {
            Accounting.account(network).layers.filter { $0.origin == origin }.reduce(0) { $0 + $1.searchSpace }
        }
        let product = Double(dIn * dOut)
        #expect(searchSpace(mlp, origin: "fc2") == dIn * dOut)
        let options = TransformOptions(matchDenseFLOPs: false)
        let wide = try SparseIFT.transform(mlp, kind: .wide, sparsity: s, options: options).network
        #expect(Double(searchSpace(wide, origin: "fc2")) == Accounting.table1SearchSpace(.wide, dIn: dIn, dOut: dOut, sparsity: s))
        #expect(Double(searchSpace(wide, origin: "fc2")) == 4 * product)
        let parallel = try SparseIFT.transform(mlp, kind: .parallel, sparsity: s).network
        #expect(Double(searchSpace(parallel, origin: "fc2")) == Accounting.table1SearchSpace(.parallel, dIn: dIn, dOut: dOut, sparsity: s))
        let factorized = try SparseIFT.transform(mlp, kind: .factorized, sparsity: s).network
        let rank = try SparseIFT.factorizedRank(reduction: dIn, outputs: dOut, sparsity: s)
        #expect(rank == 128)
        #expect(searchSpace(factorized, origin: "fc2") == rank * (dIn + dOut))
        #expect(Double(searchSpace(factorized, origin: "fc2")) == Accounting.table1SearchSpace(.factorized, dIn: dIn, dOut: dOut, sparsity: s))
        let doped = try SparseIFT.transform(mlp, kind: .doped, sparsity: s).network
        #expect(Double(searchSpace(doped, origin: "fc2")) == Accounting.table1SearchSpace(.doped, dIn: dIn, dOut: dOut, sparsity: s))
        #expect(searchSpace(doped, origin: "fc2") == dIn * dOut)
    }

    @Test func networkSearchSpaceRatios() throws {
        let dense = try Self.zoo("resnet18-cifar")
        let denseSpace = Accounting.account(dense).searchSpace
        let shortcutSpace = Accounting.account(dense).layers.filter { $0.role == .shortcut }.reduce(0) { $0 + $1.searchSpace }
        #expect(shortcutSpace == 64 * 128 + 128 * 256 + 256 * 512)
        // The authors' structure: ten copies of every 3x3 conv, one of each shortcut.
        let parallel = try SparseIFT.transform(dense, kind: .parallel, sparsity: 0.9).network
        #expect(Accounting.account(parallel).searchSpace == 10 * (denseSpace - shortcutSpace) + shortcutSpace)
        let everything = try SparseIFT.transform(dense, kind: .parallel, sparsity: 0.9, options: TransformOptions(transformShortcuts: true)).network
        #expect(Accounting.account(everything).searchSpace == 10 * denseSpace)
        let doped = try SparseIFT.transform(dense, kind: .doped, sparsity: 0.9).network
        #expect(Accounting.account(doped).searchSpace == denseSpace)
        // The released code's Doped masks U and V too: they join the search space.
        let maskedDoped = try SparseIFT.transform(dense, kind: .doped, sparsity: 0.9, options: TransformOptions(dopedLowRank: .sparse)).network
        let lowRank = Accounting.account(maskedDoped).layers.filter { $0.role == .lowRank }.reduce(0) { $0 + $1.weights }
        #expect(lowRank > 0 && Accounting.account(maskedDoped).searchSpace == denseSpace + lowRank)
    }

    /// Training FLOPs of a network small enough to count on paper: an MLP 4 → 8 → 2,
    /// fc1 a 32-weight body layer at s = 0.75 (8 non-zeros), fc2 the dense 16-weight head.
    /// f_S = 2·(8 + 16) = 48, f_D = 2·(32 + 16) = 96; static sparse training is 3·f_S = 144;
    /// RigL at ΔT = 100 is (3·48·100 + 2·48 + 96)/101 = 14592/101.
    @Test func trainingFLOPs() throws {
        let dense = try MLP.build(widths: [4, 8, 2])
        let sparse = try SparseIFT.transform(dense, kind: .dense, sparsity: 0.75).network
        let account = Accounting.account(sparse)
        #expect(account.forwardFLOPs == 48)
        #expect(account.denseStructureForwardFLOPs == 96)
        #expect(account.trainingFLOPs == 144)
        #expect(abs(account.rigLTrainingFLOPs(updateInterval: 100) - 14592.0 / 101) < 1e-9)
        // ΔT = 1 (update every step): (3·48 + 2·48 + 96)/2 = 168.
        #expect(account.rigLTrainingFLOPs(updateInterval: 1) == 168)
        // Dense: f_S = f_D = 96, RigL costs the same as dense training, 3·96 = 288.
        let denseAccount = Accounting.account(dense)
        #expect(denseAccount.trainingFLOPs == 288)
        #expect(abs(denseAccount.rigLTrainingFLOPs(updateInterval: 7) - 288) < 1e-9)
    }

    @Test func erkDistributionKeepsTheOverallDensity() throws {
        let dense = try Self.zoo("resnet18-cifar")
        let erk = try SparseIFT.transform(dense, kind: .dense, sparsity: 0.9, options: TransformOptions(distribution: .erk)).network
        let body = Accounting.account(erk).layers.filter { $0.role?.takesNetworkSparsity == true }
        let kept = Double(body.reduce(0) { $0 + $1.nonzeroWeights })
        let total = Double(body.reduce(0) { $0 + $1.weights })
        #expect(abs(kept / total - 0.1) < 1e-3)
        // Small layers (1x1 shortcuts) are denser than big 3x3 layers.
        let shortcut = body.first { $0.name == "layer2.0.downsample.0" }!
        let big = body.first { $0.name == "layer4.1.conv2" }!
        #expect(shortcut.sparsity < big.sparsity)
    }

    @Test func nOfMAndBlockPatternsInAccounting() throws {
        let dense = try Self.zoo("resnet18-cifar")
        let nm = try SparseIFT.transform(dense, kind: .parallel, sparsity: 0.5, options: TransformOptions(pattern: .nOfM(n: 2, m: 4))).network
        for layer in Accounting.account(nm).layers where layer.role == .body {
            #expect(layer.nonzeroWeights * 2 == layer.weights)
        }
        // The masks actually generated realise the accounted count, in whole 4x4 blocks
        // (a small MLP, so every mask can be initialised and inspected).
        let mlp = try MLP.build(widths: [64, 32, 48, 10])
        for pattern in [SparsityPattern.block(rows: 4, columns: 4), .nOfM(n: 2, m: 4)] {
            let s = pattern.fixedSparsity ?? 0.9
            let sparse = try SparseIFT.transform(mlp, kind: .dense, sparsity: s, options: TransformOptions(pattern: pattern)).network
            let parameters = try ParameterStore.initialize(sparse, options: .init(seed: 9))
            var checked = 0
            for layer in Accounting.account(sparse).layers where layer.role == .body {
                let mask = try #require(parameters["\(layer.name).mask"])
                let (rows, reduction) = (layer.weightShape![0], layer.weightShape![1])
                #expect(MaskSampler.violation(of: mask.values, rows: rows, reduction: reduction, pattern: pattern) == nil, "\(layer.name) \(pattern)")
                #expect(mask.values.filter { $0 == 1 }.count == layer.nonzeroWeights, "\(layer.name) \(pattern)")
                checked += 1
            }
            #expect(checked == 2)
        }
        // fc1 64 → 32 at 90% in 4x4 blocks: 128 blocks, round(12.8) = 13 kept, 208 weights.
        let block = try SparseIFT.transform(mlp, kind: .dense, sparsity: 0.9, options: TransformOptions(pattern: .block(rows: 4, columns: 4))).network
        #expect(Accounting.account(block).layers.first { $0.name == "fc1" }?.nonzeroWeights == 208)
    }
}
