import Testing
@testable import SiftONNX
import SiftCore

/// The protobuf subset: values round-trip, and every malformed encoding is a clear
/// `ONNXError.malformed`, never a trap.
@Suite struct ProtoWireTests {
    @Test(arguments: [UInt64(0), 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64(UInt32.max) + 1, UInt64.max])
    func varintsRoundTrip(value: UInt64) throws {
        var writer = ProtoWriter()
        writer.varint(value)
        #expect(writer.bytes.count == ProtoWriter.size { $0.varint(value) })
        var reader = ProtoReader(writer.bytes, context: "test")
        #expect(try reader.varint() == value)
        #expect(reader.isAtEnd)
    }

    @Test func negativeIntegersTakeTenBytesAndComeBack() throws {
        var writer = ProtoWriter()
        writer.int(3, -2)
        #expect(writer.bytes.count == 11)  // 1 tag byte + 10 varint bytes
        var reader = ProtoReader(writer.bytes, context: "test")
        let (field, wire) = try #require(try reader.nextField())
        #expect(field == 3)
        #expect(try reader.int64(wire, field: "x") == -2)
        #expect(try ProtoReader(writer.bytes, context: "t").readingInt32() == -2)
    }

    @Test func malformedEncodingsAreRefused() throws {
        let cases: [(String, [UInt8])] = [
            ("truncated varint", [0x08, 0x80]),
            ("varint longer than 64 bits", [0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01]),
            ("length past the end", [0x3A, 0x05, 0x01]),
            ("huge length", [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            ("group", [0x3B]),
            ("invalid wire type", [0x0E]),
            ("field number 0", [0x02, 0x00]),
            ("wrong wire type for ir_version", [0x0A, 0x00]),
            ("invalid UTF-8 in producer_name", [0x12, 0x02, 0xC3, 0x28]),
            ("truncated fixed32", [0x3A, 0x04, 0x2A, 0x02, 0x15, 0x00]),
        ]
        for (label, bytes) in cases {
            var reader = ProtoReader(bytes, context: "ModelProto")
            #expect(throws: ONNXError.self, "\(label)") { _ = try ModelProto.decode(&reader) }
        }
        #expect(throws: ONNXError.malformed("the file is empty")) { try ModelProto.decode(bytes: []) }
    }

    @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
        var model = ModelProto()
        model.irVersion = 8
        model.producerName = "p"
        model.opsetImports = [OperatorSetID(domain: "", version: 17)]
        model.graph = GraphProto()
        let plain = try model.serialized()
        var extra = ProtoWriter()
        extra.int(1000, 5)                                   // varint
        extra.tag(1001, .fixed64); extra.appendRaw([UInt8](repeating: 7, count: 8))
        extra.bytes(1002, [UInt8](repeating: 9, count: 3))   // length-delimited
        extra.float(1003, 1.5)                               // fixed32
        let decoded = try ModelProto.decode(bytes: extra.bytes + plain + extra.bytes)
        #expect(decoded == model)
    }

    @Test func repeatedNumbersArePackedOrNot() throws {
        var packed = ProtoWriter()
        packed.message(1) { inner in for dim in [2, 3, 4] { inner.varint(UInt64(dim)) } }
        var unpacked = ProtoWriter()
        for dim in [2, 3, 4] { unpacked.int(1, Int64(dim)) }
        for bytes in [packed.bytes, unpacked.bytes] {
            var reader = ProtoReader(bytes, context: "TensorProto")
            #expect(try TensorProto.decode(&reader).dims == [2, 3, 4])
        }
    }

    @Test func messagesRoundTrip() throws {
        var tensor = TensorProto()
        tensor.name = "w"
        tensor.dims = [2, 2]
        tensor.dataType = ONNXDataType.float.rawValue
        tensor.payload = .floats([1, -2, 3.5, 0])
        tensor.docString = "doc"
        var node = NodeProto()
        node.name = "n"
        node.opType = "Conv"
        node.inputs = ["x", "w", ""]
        node.outputs = ["y"]
        node.attributes = [.ints("pads", [1, 1, 1, 1]), .float("epsilon", 1e-5), .int("group", -1), .string("mode", "é"), .tensor("value", tensor)]
        var graph = GraphProto()
        graph.name = "g"
        graph.nodes = [node]
        graph.initializers = [tensor]
        graph.inputs = [GraphEmitter.valueInfo("x", sampleShape: [3, 4])]
        graph.outputs = [GraphEmitter.valueInfo("y", sampleShape: [2])]
        var model = ModelProto()
        model.irVersion = 8
        model.opsetImports = [OperatorSetID(domain: "", version: 17), OperatorSetID(domain: "com.example", version: 1)]
        model.producerName = "sift"
        model.graph = graph
        model.metadata = [("key", "value")]
        let decoded = try ModelProto.decode(bytes: try model.serialized())
        // Float payloads come back as raw bytes; their values are the same.
        let back = try #require(decoded.graph?.initializers.first)
        #expect(try ConstantTensor(back, what: "w") == ConstantTensor(shape: [2, 2], floats: [1, -2, 3.5, 0]))
        var expected = model
        expected.graph?.initializers[0].payload = back.payload
        expected.graph?.nodes[0].attributes[4].t?.payload = back.payload
        #expect(decoded == expected)
    }
}

extension ProtoReader {
    /// Reads one int32 field from the start (test helper).
    func readingInt32() throws -> Int32 {
        var copy = self
        let (_, wire) = try #require(try copy.nextField())
        return try copy.int32(wire, field: "x")
    }
}
