import ArgumentParser
import Foundation
import SparseIFT
import SparseKernels

/// `sift reference`: the plain fp32 forward pass of a (transformed) zoo model on an input
/// `.npy` with weights from `sift weights`: the truth for the runtime and the simulator.
struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Run the reference forward pass: --input x.npy ([batch] + input shape) with --weights <dir>, write --output y.npy.")

    @OptionGroup var modelOptions: ZooModelArguments
    @OptionGroup var transformOptions: TransformArguments

    @Option(help: "Directory from `sift weights` made with the same model, transform, sparsity, pattern and options (checked).")
    var weights: String

    @Option(help: "Input .npy: shape [batch] + the model's input shape (token ids as floats for GPT).")
    var input: String

    @Option(help: "Output .npy to write (a new or regular file; written whole or not at all).")
    var output: String

    func run() throws {
        let shape = try reportingErrors {
            // Refused before the forward pass when --output cannot be written.
            try SafeFile.checkOutput(output)
            let zooOptions = try modelOptions.zooOptions()
            let dense = try ModelZoo.build(modelOptions.model, options: zooOptions)
            let transformed = try transformOptions.run(on: dense)
            // The weights must have been made for exactly this network (manifest, masks, checksums).
            let identity = WeightsManifest.Identity(model: modelOptions.model, zooOptions: zooOptions, transformed: transformed)
            let parameters = try ParameterStore.load(from: weights, for: transformed.network, identity: identity)
            // NPY's own error already says what failed (I/O or malformed file).
            let x = try NPY.read(contentsOf: input)
            let y = try ReferenceExecution.run(transformed.network, parameters: parameters, input: x)
            try NPY.write(y, to: output)
            return y.shape
        }
        print("wrote \(output), shape \(shape)")
    }
}
