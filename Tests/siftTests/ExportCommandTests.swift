import Foundation
import Testing
import SiftCore
import SiftONNX
import SparseIFT

/// `sift export` end to end: the file it writes imports back as the zoo network with the
/// same weights; bad requests are refused with one `error:` line and write nothing.
@Suite("sift export")
struct ExportCommandTests {
    func expectRefusal(_ arguments: [String], mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try SiftProcess.run(arguments)
        let context = "\(arguments.joined(separator: " ")): status \(outcome.status), stderr \(outcome.standardError)"
        #expect(outcome.status != 0, "\(context)", sourceLocation: sourceLocation)
        #expect(![132, 133, 134].contains(outcome.status), "\(context)", sourceLocation: sourceLocation)
        #expect(outcome.standardError.lowercased().contains("error:"), "\(context)", sourceLocation: sourceLocation)
        for text in mentions {
            #expect(outcome.standardError.contains(text), "\(context): should mention \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func exportsAModelThatImportsBackWithTheSameWeights() throws {
        let folder = try ScratchFolder()
        let path = folder.path("mlp.onnx")
        let arguments = ["--model", "mlp", "--mlp-widths", "8,16,4", "--transform", "wide", "--sparsity", "0.5"]
        let outcome = try SiftProcess.run(["export"] + arguments + ["--seed", "4", "--onnx", path])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("opset 17"))
        let imported = try ONNXModel.load(path: path)
        let dense = try ModelZoo.build("mlp", options: ModelZoo.Options(mlpWidths: [8, 16, 4]))
        let network = try SparseIFT.transform(dense, kind: .wide, sparsity: 0.5).network
        let parameters = try ParameterStore.initialize(network, options: .init(seed: 4))
        #expect(imported.network.nodes.map(\.name) == network.nodes.map(\.name))
        for (key, tensor) in parameters.tensors {
            #expect(imported.parameters[key] == tensor, "\(key)")
        }
        // The same weights through `sift weights` and `--weights`.
        let weights = folder.path("weights")
        #expect(try SiftProcess.run(["weights"] + arguments + ["--seed", "4", "--out", weights]).status == 0)
        let second = folder.path("second.onnx")
        let fromWeights = try SiftProcess.run(["export"] + arguments + ["--weights", weights, "--onnx", second])
        #expect(fromWeights.status == 0, "\(fromWeights.standardError)")
        #expect(FileManager.default.contents(atPath: second) == FileManager.default.contents(atPath: path))
    }

    @Test func aShortGPTTakesTokenIDs() throws {
        let folder = try ScratchFolder()
        let path = folder.path("gpt.onnx")
        let outcome = try SiftProcess.run(["export", "--model", "gpt3-small", "--layers", "1", "--sequence", "4", "--onnx", path])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("int64 token ids"))
        let imported = try ONNXModel.load(path: path)
        #expect(imported.network.nodes.filter { $0.op.kind == "attention_scores" }.count == 1)
    }

    @Test func importRunsTheFileLikeTheReference() throws {
        let folder = try ScratchFolder()
        let arguments = ["--model", "mlp", "--mlp-widths", "6,8,3", "--transform", "parallel", "--sparsity", "0.5"]
        let weights = folder.path("w")
        #expect(try SiftProcess.run(["weights"] + arguments + ["--out", weights]).status == 0)
        let model = folder.path("m.onnx")
        #expect(try SiftProcess.run(["export"] + arguments + ["--weights", weights, "--onnx", model]).status == 0)
        let x = folder.path("x.npy")
        try NPY.write(try Tensor(shape: [2, 6], values: (0..<12).map { Float($0) / 6 - 1 }), to: x)
        let reference = try SiftProcess.run(["reference"] + arguments + ["--weights", weights, "--input", x, "--output", folder.path("ref.npy")])
        #expect(reference.status == 0, "\(reference.standardError)")
        let imported = try SiftProcess.run(["import", "--onnx", model, "--input", x, "--output", folder.path("imp.npy")])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.contains("sparse 0.5000, unstructured"))
        #expect(try NPY.read(contentsOf: folder.path("imp.npy")) == NPY.read(contentsOf: folder.path("ref.npy")))
        // Not a model: one clear error line, no output.
        let text = folder.path("text.onnx")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        try expectRefusal(["import", "--onnx", text, "--input", x, "--output", folder.path("none.npy")], mentions: ["malformed"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("none.npy")))
        try expectRefusal(["import", "--onnx", model, "--input", x], mentions: ["--output"])
    }

    @Test func refusals() throws {
        let folder = try ScratchFolder()
        try expectRefusal(["export", "--model", "nope", "--onnx", folder.path("a.onnx")], mentions: ["nope"])
        try expectRefusal(["export", "--model", "mlp", "--layers", "2", "--onnx", folder.path("a.onnx")], mentions: ["layers"])
        try expectRefusal(["export", "--model", "mlp", "--layernorm", "fused", "--onnx", folder.path("a.onnx")], mentions: ["--layernorm"])
        try expectRefusal(["export", "--model", "mlp", "--onnx", folder.path("missing/a.onnx")], mentions: ["does not exist"])
        try expectRefusal(["export", "--model", "mlp", "--onnx", folder.url.path], mentions: ["directory"])
        // Weights made for another sparsity.
        let weights = folder.path("weights")
        #expect(try SiftProcess.run(["weights", "--model", "mlp", "--mlp-widths", "8,16,4", "--transform", "dense", "--sparsity", "0.5",
                                     "--out", weights]).status == 0)
        try expectRefusal(["export", "--model", "mlp", "--mlp-widths", "8,16,4", "--transform", "dense", "--sparsity", "0.9",
                           "--weights", weights, "--onnx", folder.path("b.onnx")], mentions: ["sparsity"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("a.onnx")))
        #expect(!FileManager.default.fileExists(atPath: folder.path("b.onnx")))
        // A symbolic link is refused and left as it is.
        let target = folder.path("target.txt")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        let link = folder.path("link.onnx")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try expectRefusal(["export", "--model", "mlp", "--onnx", link], mentions: ["symbolic link"])
        #expect(FileManager.default.contents(atPath: target) == Data("keep".utf8))
    }
}
