import Foundation
import Testing
@testable import SiftONNX
import SiftCore
import SparseIFT

/// Malformed, truncated and corrupted `.onnx` files: every one gets an `ONNXError` with a
/// message, or imports as some valid network; none traps, hangs or allocates without bound.
@Suite struct MalformedFileTests {
    /// A small model using most operator families (convolution, pooling, attention, GELU).
    static func smallModels() throws -> [[UInt8]] {
        var b = NetworkBuilder()
        var x = try b.add("image", .input(shape: [2, 4, 4]))
        x = try b.conv("conv", x, out: 3, kernel: 3, padding: 1, bias: true)
        x = try b.unary("bn", .batchNorm, x)
        x = try b.unary("relu6", .relu6, x)
        x = try b.unary("pool", .maxPool(PoolSpec(kernel: 2, stride: 2)), x)
        x = try b.unary("gap", .globalAvgPool, x)
        _ = try b.linear("fc", x, out: 2)
        let convolutional = try b.build(name: "c")
        let gpt = try Small.gpt(dModel: 4, heads: 2, layers: 1, vocabulary: 3, sequence: 2)
        return try [convolutional, gpt].map { try ONNXModel.serialize($0, parameters: try randomParameters($0)) }
    }

    /// Loads `bytes`; any error must be an `ONNXError` with a message. A model that loads
    /// must also run (or be refused by the reference with its own error), never trap.
    static func loadsOrRefusesClearly(_ bytes: [UInt8]) -> Bool {
        do {
            let imported = try ONNXModel.load(bytes: bytes)
            if let input = try? Small.input(for: imported.network, batch: 1) {
                _ = try? ReferenceExecution.run(imported.network, parameters: imported.parameters, input: input)
            }
            return !imported.network.nodes.isEmpty
        } catch let error as ONNXError {
            return !error.description.isEmpty
        } catch {
            return false
        }
    }

    @Test func everyTruncationIsRefused() throws {
        for model in try Self.smallModels() {
            for length in 0..<model.count {
                let prefix = Array(model[0..<length])
                #expect(Self.loadsOrRefusesClearly(prefix), "prefix of \(length) bytes")
                // Only the optional metadata after the graph (under 64 bytes) may be cut and
                // still leave a complete model; any shorter prefix lacks part of the graph.
                if (try? ONNXModel.load(bytes: prefix)) != nil {
                    #expect(length >= model.count - 64, "a prefix of \(length) of \(model.count) bytes imported")
                }
            }
        }
    }

    @Test func randomBitFlipsAreRefusedOrHarmless() throws {
        var generator = SeededGenerator(seed: 42)
        for model in try Self.smallModels() {
            for _ in 0..<600 {
                var corrupted = model
                for _ in 0..<(1 + generator.nextIndex(below: 3)) {
                    let position = generator.nextIndex(below: corrupted.count)
                    corrupted[position] ^= UInt8(1 << generator.nextIndex(below: 8))
                }
                #expect(Self.loadsOrRefusesClearly(corrupted))
            }
        }
    }

    @Test func randomBytesAreRefused() throws {
        var generator = SeededGenerator(seed: 9)
        for length in [1, 2, 7, 64, 1000] {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8(generator.nextIndex(below: 256)) }
                #expect(throws: ONNXError.self) { try ONNXModel.load(bytes: bytes) }
            }
        }
    }

    @Test func deeplyNestedUnknownFieldsAreSkippedWithoutRecursion() throws {
        // 100 000 levels of an unknown length-delimited field around a valid model:
        // unknown fields are skipped by length, never descended into.
        var payload: [UInt8] = []
        for _ in 0..<100_000 {
            var writer = ProtoWriter()
            writer.bytes(999, payload)
            payload = writer.bytes
            if payload.count > 1 << 20 { break }
        }
        let model = try Self.smallModels()[0]
        #expect(throws: Never.self) { try ONNXModel.load(bytes: payload + model) }
    }

    @Test func absurdCountsAreRefusedBeforeAllocating() throws {
        // An initializer claiming 2^40 floats with 8 bytes of data.
        var graph = TestGraph(shape: [4])
        graph.node("Relu", [graph.inputName], "y")
        var model = graph.model()
        var tensor = TensorProto()
        tensor.name = "huge"
        tensor.dims = [1 << 20, 1 << 20]
        tensor.dataType = ONNXDataType.float.rawValue
        tensor.payload = .floats([1, 2])
        model.graph?.initializers.append(tensor)
        let message = try #require(throwingMessage { try ONNXModel.load(bytes: try model.serialized()) })
        #expect(message.contains("huge"), "\(message)")
    }

    @Test func filesThatAreNotModelsAreRefusedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sift-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: ONNXError.self) { try ONNXModel.load(path: folder.path) }
        #expect(throws: ONNXError.self) { try ONNXModel.load(path: folder.appendingPathComponent("missing.onnx").path) }
        let fifo = folder.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: ONNXError.self) { try ONNXModel.load(path: fifo) }
        let text = folder.appendingPathComponent("notes.onnx")
        try Data("this is not a model\n".utf8).write(to: text)
        let message = try #require(throwingMessage { try ONNXModel.load(path: text.path) })
        #expect(message.contains("malformed"), "\(message)")
    }
}
