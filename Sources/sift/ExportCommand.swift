import ArgumentParser
import Foundation
import SiftONNX
import SparseIFT

/// `sift export`: a (transformed) zoo model with its weights as a standard ONNX file, for
/// ONNX Runtime, DeepSparse or any other ONNX consumer to run exactly the same network.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a (transformed) zoo model with its weights as an ONNX file (opset 17, float32, symbolic batch).",
        discussion: """
            Without --weights the weights are the seeded Kaiming ones `sift weights` makes (--seed). \
            Sparse weights are stored densely with their zeros; node and initializer names are the \
            network's node names and weight keys (`<node>.weight`, ...). GPT models take int64 token ids.
            """)

    @OptionGroup var modelOptions: ZooModelArguments
    @OptionGroup var transformOptions: TransformArguments

    @Option(help: "Directory of .npy weights and masks (from `sift weights`); default: seeded Kaiming weights.")
    var weights: String?

    @Option(help: "Seed of the weights and masks when --weights is not given.")
    var seed: UInt64 = 0

    @Option(help: "The .onnx file to write (replaced atomically; a symlink, directory or device is refused).")
    var onnx: String

    func run() throws {
        let summary = try reportingErrors {
            let dense = try ModelZoo.build(modelOptions.model, options: try modelOptions.zooOptions())
            let network = try transformOptions.run(on: dense).network
            let parameters = try weights.map { try ParameterStore.load(from: $0, for: network) }
                ?? ParameterStore.initialize(network, options: .init(seed: seed))
            let bytes = try ONNXModel.serialize(network, parameters: parameters, producerVersion: "sift")
            try OutputFile.write(bytes, to: onnx)
            let sparseLayers = network.weightLayers.filter { $0.op.weight?.isSparse == true }.count
            let isTokens = network.nodes.contains { if case .embedding = $0.op { true } else { false } }
            return """
                wrote \(onnx): \(bytes.count) bytes, ONNX opset \(ONNXModel.opsetVersion), \(network.nodes.count - 1) layers (\(sparseLayers) sparse)
                input  '\(network.input.name)' [batch, \(network.input.shape.map(String.init).joined(separator: ", "))] \(isTokens ? "int64 token ids" : "float32")
                output '\(network.output.name)' [batch, \(network.output.shape.map(String.init).joined(separator: ", "))] float32
                """
        }
        print(summary)
    }
}
