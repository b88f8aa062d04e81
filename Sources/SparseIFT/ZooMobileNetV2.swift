/// MobileNetV2 1.0 (Sandler et al. 2018) at 224x224, torchvision layout: inverted
/// residual blocks (1x1 expand → BN → ReLU6 → 3x3 depthwise → BN → ReLU6 → 1x1 project
/// → BN, residual when the shape is kept), a 1x1 conv to 1280 and a dense classifier.
/// Depthwise convs have no channel-mixing matrix, so they stay dense (role `grouped`).
public enum MobileNetV2 {
    public struct Config: Sendable {
        public var classes: Int = 1000
        public var imageSize: Int = 224
        /// (expansion t, channels c, repeats n, first stride s) per stage.
        public var stages: [(t: Int, c: Int, n: Int, s: Int)] = [
            (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
        ]
        public var stemChannels = 32
        public var lastChannels = 1280
        public init() {}
    }

    public static func build(_ config: Config) throws -> Network {
        // The stage table is public: refuse entries the loops below cannot run.
        for (index, stage) in config.stages.enumerated() {
            guard stage.t > 0, stage.c > 0, stage.n >= 0, stage.s > 0, stage.n <= 1 << 10, stage.t <= 1 << 10 else {
                throw SparseIFTError.invalidArgument(
                    "MobileNetV2 stage \(index) (t \(stage.t), c \(stage.c), n \(stage.n), s \(stage.s)) needs t, c, s > 0 and 0 <= n, t <= 1024")
            }
        }
        guard config.classes > 0, config.imageSize > 0, config.stemChannels > 0, config.lastChannels > 0 else {
            throw SparseIFTError.invalidArgument("MobileNetV2 needs positive classes, image size, stem and last channels")
        }
        var b = NetworkBuilder()
        var x = try b.add("input", .input(shape: [3, config.imageSize, config.imageSize]))
        x = try b.conv("features.0.0", x, out: config.stemChannels, kernel: 3, stride: 2, padding: 1, role: .stem)
        x = try b.unary("features.0.1", .batchNorm, x)
        x = try b.unary("features.0.2", .relu6, x)
        var index = 1
        for stage in config.stages {
            for repeatIndex in 0..<stage.n {
                let stride = repeatIndex == 0 ? stage.s : 1
                x = try invertedResidual(&b, prefix: "features.\(index)", input: x, out: stage.c, stride: stride, expansion: stage.t)
                index += 1
            }
        }
        x = try b.conv("features.\(index).0", x, out: config.lastChannels, kernel: 1)
        x = try b.unary("features.\(index).1", .batchNorm, x)
        x = try b.unary("features.\(index).2", .relu6, x)
        x = try b.unary("avgpool", .globalAvgPool, x)
        _ = try b.linear("classifier.1", x, out: config.classes, bias: true, role: .classifier)
        return try b.build(name: "mobilenetv2", metadata: NetworkMetadata(parallelActivation: .perBranch, family: .mobileNetV2))
    }

    static func invertedResidual(_ b: inout NetworkBuilder, prefix: String, input: Int, out: Int, stride: Int, expansion: Int) throws -> Int {
        let inChannels = b.shape(of: input)[0]
        let hidden = inChannels * expansion
        var y = input
        var part = 0
        if expansion != 1 {
            y = try b.conv("\(prefix).conv.\(part).0", y, out: hidden, kernel: 1)
            y = try b.unary("\(prefix).conv.\(part).1", .batchNorm, y)
            y = try b.unary("\(prefix).conv.\(part).2", .relu6, y)
            part += 1
        }
        y = try b.conv("\(prefix).conv.\(part).0", y, out: hidden, kernel: 3, stride: stride, padding: 1, groups: hidden)
        y = try b.unary("\(prefix).conv.\(part).1", .batchNorm, y)
        y = try b.unary("\(prefix).conv.\(part).2", .relu6, y)
        part += 1
        y = try b.conv("\(prefix).conv.\(part)", y, out: out, kernel: 1)
        y = try b.unary("\(prefix).conv.\(part + 1)", .batchNorm, y)
        if stride == 1 && inChannels == out {
            y = try b.add("\(prefix).add", .add, inputs: [input, y])
        }
        return y
    }
}
