/// The model zoo: the networks of the paper's experiments, by their command-line names.
public enum ModelZoo {
    /// Options some families take; the others ignore them.
    public struct Options: Hashable, Sendable {
        /// Tokens per sequence for the GPT models (the position table has this many rows).
        public var sequenceLength: Int = 2048
        /// Layer widths of `mlp`, input first: `[784, 1024, 1024, 1024, 10]` is three
        /// hidden layers and a 10-way classifier.
        public var mlpWidths: [Int] = [784, 1024, 1024, 1024, 10]
        /// Transformer blocks of the GPT models (nil: the model's own, 12 or 24). Fewer
        /// blocks give a model of the same shape that is quicker to check (e.g. 2).
        public var layers: Int?
        public init(sequenceLength: Int = 2048, mlpWidths: [Int] = [784, 1024, 1024, 1024, 10], layers: Int? = nil) {
            self.sequenceLength = sequenceLength
            self.mlpWidths = mlpWidths
            self.layers = layers
        }
    }

    public struct Entry: Sendable {
        public let name: String
        public let summary: String
    }

    public static let entries: [Entry] = [
        Entry(name: "resnet18-cifar", summary: "ResNet-18, CIFAR-100 (32x32, 3x3 stem, no max-pool, 100 classes)"),
        Entry(name: "resnet18-imagenet", summary: "ResNet-18, ImageNet (224x224, 7x7 stem, max-pool, 1000 classes)"),
        Entry(name: "resnet34-cifar", summary: "ResNet-34, CIFAR-100 (32x32, 100 classes)"),
        Entry(name: "resnet34-imagenet", summary: "ResNet-34, ImageNet (224x224, 1000 classes)"),
        Entry(name: "mobilenetv2", summary: "MobileNetV2 1.0, ImageNet (224x224, 1000 classes)"),
        Entry(name: "gpt3-small", summary: "GPT-3 Small (d_model 768, d_ff 3072, 12 layers, 12 heads), sequence configurable"),
        Entry(name: "gpt3-medium", summary: "GPT-3 Medium (d_model 1024, d_ff 4096, 24 layers, 16 heads), sequence configurable"),
        Entry(name: "mlp", summary: "Multi-layer perceptron of given widths (ReLU between layers, last layer the classifier)"),
    ]

    public static var names: [String] { entries.map(\.name) }

    /// Builds a zoo model by name.
    public static func build(_ name: String, options: Options = Options()) throws -> Network {
        if let layers = options.layers {
            guard name.hasPrefix("gpt3-") else {
                throw SparseIFTError.invalidArgument("the number of layers can only be set for the GPT models, not \(name)")
            }
            guard layers >= 1, layers <= 1024 else {
                throw SparseIFTError.invalidArgument("layers must be in 1...1024, got \(layers)")
            }
        }
        func gpt(_ config: GPT.Config) throws -> Network {
            var config = config
            if let layers = options.layers { config.layers = layers }
            return try GPT.build(config)
        }
        return switch name {
        case "resnet18-cifar": try ResNet.build(ResNet.Config(depth: .resnet18, variant: .cifar))
        case "resnet18-imagenet": try ResNet.build(ResNet.Config(depth: .resnet18, variant: .imagenet))
        case "resnet34-cifar": try ResNet.build(ResNet.Config(depth: .resnet34, variant: .cifar))
        case "resnet34-imagenet": try ResNet.build(ResNet.Config(depth: .resnet34, variant: .imagenet))
        case "mobilenetv2": try MobileNetV2.build(MobileNetV2.Config())
        case "gpt3-small": try gpt(.small(sequenceLength: options.sequenceLength))
        case "gpt3-medium": try gpt(.medium(sequenceLength: options.sequenceLength))
        case "mlp": try MLP.build(widths: options.mlpWidths)
        default:
            throw SparseIFTError.unknownModel("'\(name)'; known models: \(names.joined(separator: ", "))")
        }
    }
}
