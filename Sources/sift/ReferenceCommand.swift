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

    @Option(help: "Directory of .npy weights and masks (from `sift weights`).")
    var weights: String

    @Option(help: "Input .npy: shape [batch] + the model's input shape (token ids as floats for GPT).")
    var input: String

    @Option(help: "Output .npy to write.")
    var output: String

    func run() throws {
        let shape = try reportingErrors {
            let dense = try ModelZoo.build(modelOptions.model, options: try modelOptions.zooOptions())
            let network = try transformOptions.run(on: dense).network
            let parameters = try ParameterStore.load(from: weights, for: network)
            let x: Tensor
            // NPY's own error already says what failed (I/O or malformed file).
            x = try NPY.read(contentsOf: input)
            let y = try ReferenceExecution.run(network, parameters: parameters, input: x)
            try NPY.write(y, to: output)
            return y.shape
        }
        print("wrote \(output), shape \(shape)")
    }
}
