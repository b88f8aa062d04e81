import ArgumentParser
import Foundation
import SiftCore
import SiftONNX
import SparseIFT

/// `sift import`: what sift understands of an ONNX file (the network, each weight's
/// detected sparsity and pattern), and optionally the reference forward pass of it on an
/// input, so its outputs can be compared with another runtime's on the very same file.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read an ONNX model into a sift network: print its layers with the sparsity found in the weights; optionally run it.",
        discussion: """
            Reads the operators `sift export` writes and their common equivalents (Gemm or MatMul+Add, Clip, \
            GlobalAveragePool or ReduceMean, Gelu or its tanh expansion, attention as Reshape/Transpose/MatMul). \
            With --input and --output it runs the reference forward pass (the truth the runtime is checked against).
            """)

    @Option(help: "The .onnx file to read.")
    var onnx: String

    @Option(help: "Input .npy: shape [batch] + the model's input shape (token ids as floats for GPT).")
    var input: String?

    @Option(help: "Output .npy to write (with --input; a new or regular file, written whole or not at all).")
    var output: String?

    @Flag(name: .customLong("all-nodes"), help: "List every node, not only the weight layers.")
    var allNodes = false

    func run() throws {
        let text = try reportingErrors {
            guard (input == nil) == (output == nil) else {
                throw SparseIFTError.invalidArgument("--input and --output go together")
            }
            if let output { try SafeFile.checkOutput(output) }
            let (network, parameters) = try ONNXModel.load(path: onnx)
            var lines = [summary(network)]
            if let input, let output {
                let x = try NPY.read(contentsOf: input)
                let y = try ReferenceExecution.run(network, parameters: parameters, input: x)
                try NPY.write(y, to: output)
                lines.append("wrote \(output), shape \(y.shape)")
            }
            return lines.joined(separator: "\n")
        }
        print(text)
    }

    func summary(_ network: Network) -> String {
        var rows = [["node", "operation", "per-sample shape", "weight"]]
        for node in network.nodes where allNodes || node.op.weight != nil {
            var weight = ""
            if case .linear(let spec) = node.op, let owner = spec.tiedTo {
                weight = "tied to \(owner)"
            } else if let state = node.op.weight {
                weight = state.isSparse ? String(format: "sparse %.4f, %@", state.sparsity, state.pattern.description) : "dense (\(state.role.rawValue))"
            }
            rows.append([node.name, node.op.kind, "\(node.shape)", weight])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        let table = rows.map { row in
            row.enumerated().map { column, cell in column == 3 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        let sparse = network.weightLayers.filter { $0.op.weight?.isSparse == true }.count
        return (["\(network.name): input '\(network.input.name)' \(network.input.shape), output '\(network.output.name)' \(network.output.shape), "
                 + "\(network.nodes.count - 1) layers, \(network.weightLayers.count) with weights (\(sparse) sparse)"] + table)
            .joined(separator: "\n")
    }
}
