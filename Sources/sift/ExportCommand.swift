import ArgumentParser
import Foundation
import SiftCore
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

    @Option(help: "Directory from `sift weights` made with the same model, transform and options (checked); default: seeded Kaiming weights.")
    var weights: String?

    @Option(help: "Seed of the weights and masks when --weights is not given.")
    var seed: UInt64 = 0

    @Option(help: "The .onnx file to write (a new or regular file; written whole or not at all).")
    var onnx: String

    @Option(help: "decomposed (ReduceMean/Sub/Pow/Sqrt/Div..., which DeepSparse 1.8 runs natively) | operator (LayerNormalization, opset 17).")
    var layernorm: String = "decomposed"

    func run() throws {
        let summary = try reportingErrors {
            // A bad --onnx is refused before any work.
            try SafeFile.checkOutput(onnx)
            guard let layerNorm = ONNXModel.ExportOptions.LayerNormForm(rawValue: layernorm) else {
                throw SparseIFTError.invalidArgument("--layernorm must be decomposed or operator, got '\(layernorm)'")
            }
            let zooOptions = try modelOptions.zooOptions()
            let dense = try ModelZoo.build(modelOptions.model, options: zooOptions)
            let transformed = try transformOptions.run(on: dense)
            let network = transformed.network
            let parameters: ParameterStore
            if let weights {
                // The weights must have been made for exactly this network (manifest, masks, checksums).
                let identity = WeightsManifest.Identity(model: modelOptions.model, zooOptions: zooOptions, transformed: transformed)
                parameters = try ParameterStore.load(from: weights, for: network, identity: identity)
            } else {
                parameters = try ParameterStore.initialize(network, options: .init(seed: seed))
            }
            let bytes = try ONNXModel.serialize(network, parameters: parameters,
                                                options: ONNXModel.ExportOptions(layerNorm: layerNorm, producerVersion: "sift"))
            try SafeFile.write(bytes, to: onnx)
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
