/// ResNet-18/34 with basic blocks (He et al. 2016), in the two variants of the paper:
/// CIFAR-100 (3x3 stem at stride 1, no max-pool, 32x32 input) and ImageNet (7x7 stem at
/// stride 2, 3x3 max-pool, 224x224 input). Convolutions have no bias (BatchNorm follows).
public enum ResNet {
    public enum Depth: Sendable {
        case resnet18, resnet34
        var blocksPerStage: [Int] {
            switch self {
            case .resnet18: [2, 2, 2, 2]
            case .resnet34: [3, 4, 6, 3]
            }
        }
        var label: String { self == .resnet18 ? "resnet18" : "resnet34" }
    }

    public enum Variant: Sendable {
        case cifar, imagenet
    }

    public struct Config: Sendable {
        public var depth: Depth
        public var variant: Variant
        /// Channels of the four stages; `[64, 128, 256, 512]` in the paper. Tests use
        /// narrower networks to keep the reference execution fast.
        public var stageWidths: [Int]
        public var classes: Int
        public var imageSize: Int

        public init(depth: Depth, variant: Variant, stageWidths: [Int] = [64, 128, 256, 512], classes: Int? = nil, imageSize: Int? = nil) {
            self.depth = depth
            self.variant = variant
            self.stageWidths = stageWidths
            self.classes = classes ?? (variant == .cifar ? 100 : 1000)
            self.imageSize = imageSize ?? (variant == .cifar ? 32 : 224)
        }
    }

    public static func build(_ config: Config) throws -> Network {
        guard config.stageWidths.count == 4, config.stageWidths.allSatisfy({ $0 > 0 }), config.classes > 0, config.imageSize > 0 else {
            throw SparseIFTError.invalidArgument("ResNet needs four positive stage widths, classes and image size")
        }
        var b = NetworkBuilder()
        var x = try b.add("input", .input(shape: [3, config.imageSize, config.imageSize]))
        switch config.variant {
        case .cifar:
            x = try b.conv("conv1", x, out: config.stageWidths[0], kernel: 3, stride: 1, padding: 1, role: .stem)
            x = try b.unary("bn1", .batchNorm, x)
            x = try b.unary("relu", .relu, x)
        case .imagenet:
            x = try b.conv("conv1", x, out: config.stageWidths[0], kernel: 7, stride: 2, padding: 3, role: .stem)
            x = try b.unary("bn1", .batchNorm, x)
            x = try b.unary("relu", .relu, x)
            x = try b.unary("maxpool", .maxPool(PoolSpec(kernel: 3, stride: 2, padding: 1)), x)
        }
        for (stage, blocks) in config.depth.blocksPerStage.enumerated() {
            let width = config.stageWidths[stage]
            for block in 0..<blocks {
                let stride = (stage > 0 && block == 0) ? 2 : 1
                x = try basicBlock(&b, prefix: "layer\(stage + 1).\(block)", input: x, out: width, stride: stride)
            }
        }
        x = try b.unary("avgpool", .globalAvgPool, x)
        _ = try b.linear("fc", x, out: config.classes, bias: true, role: .classifier)
        let variant = config.variant == .cifar ? "cifar" : "imagenet"
        return try b.build(name: "\(config.depth.label)-\(variant)", metadata: NetworkMetadata(
            parallelActivation: config.variant == .cifar ? .afterSum : .perBranch,
            family: config.variant == .cifar ? .resnetCIFAR : .resnetImageNet, firstStageWidth: config.stageWidths[0]))
    }

    /// conv3x3(stride) → BN → ReLU → conv3x3 → BN → (+ shortcut) → ReLU, with a 1x1
    /// conv + BN shortcut when the shape changes.
    static func basicBlock(_ b: inout NetworkBuilder, prefix: String, input: Int, out: Int, stride: Int) throws -> Int {
        let inChannels = b.shape(of: input)[0]
        var y = try b.conv("\(prefix).conv1", input, out: out, kernel: 3, stride: stride, padding: 1)
        y = try b.unary("\(prefix).bn1", .batchNorm, y)
        y = try b.unary("\(prefix).relu1", .relu, y)
        y = try b.conv("\(prefix).conv2", y, out: out, kernel: 3, stride: 1, padding: 1)
        y = try b.unary("\(prefix).bn2", .batchNorm, y)
        var shortcut = input
        if stride != 1 || inChannels != out {
            shortcut = try b.conv("\(prefix).downsample.0", input, out: out, kernel: 1, stride: stride, role: .shortcut)
            shortcut = try b.unary("\(prefix).downsample.1", .batchNorm, shortcut)
        }
        y = try b.add("\(prefix).add", .add, inputs: [y, shortcut])
        return try b.unary("\(prefix).relu2", .relu, y)
    }
}
