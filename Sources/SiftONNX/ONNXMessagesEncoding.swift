/// Writing the ONNX messages. Field numbers follow onnx.proto; empty optional fields are
/// left out. Tensor values are written as `raw_data` (little-endian), which every ONNX
/// reader accepts and which is by far the most compact for weights.
extension TensorProto {
    func write(to w: inout ProtoWriter) {
        for dim in dims { w.int(1, dim) }
        w.int(2, Int64(dataType))
        if !name.isEmpty { w.string(8, name) }
        if !docString.isEmpty { w.string(12, docString) }
        switch payload {
        case .none:
            break
        case .raw(let bytes):
            w.bytes(9, bytes)
        case .floats(let values):
            w.tag(9, .lengthDelimited)
            w.varint(UInt64(values.count * 4))
            w.appendRawFloats(values)
        case .int64s(let values):
            w.tag(9, .lengthDelimited)
            w.varint(UInt64(values.count * 8))
            w.appendRawInt64s(values)
        }
        // The typed fields, packed as onnx.proto declares them (used by tests and by
        // tensors built from decoded files; the exporter itself always fills `payload`).
        if !floatData.isEmpty {
            w.message(4) { inner in for value in floatData { inner.appendRaw(withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }) } }
        }
        if !int32Data.isEmpty { w.message(5) { inner in for value in int32Data { inner.varint(UInt64(bitPattern: value)) } } }
        if !int64Data.isEmpty { w.message(7) { inner in for value in int64Data { inner.varint(UInt64(bitPattern: value)) } } }
        if !doubleData.isEmpty {
            w.message(10) { inner in for value in doubleData { inner.appendRaw(withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }) } }
        }
        if isExternal { w.int(14, 1) }
    }
}

extension ValueInfoProto {
    func write(to w: inout ProtoWriter) {
        w.string(1, name)
        if let elementType {
            w.message(2) { type in                       // TypeProto
                type.message(1) { tensor in              // TypeProto.Tensor
                    tensor.int(1, Int64(elementType))
                    if let shape {
                        tensor.message(2) { shapeProto in    // TensorShapeProto
                            for dimension in shape {
                                shapeProto.message(1) { dim in
                                    if let value = dimension.value { dim.int(1, value) }
                                    if let parameter = dimension.parameter { dim.string(2, parameter) }
                                }
                            }
                        }
                    }
                }
            }
        }
        if !docString.isEmpty { w.string(3, docString) }
    }
}

extension AttributeProto {
    func write(to w: inout ProtoWriter) {
        w.string(1, name)
        if let f { w.float(2, f) }
        if let i { w.int(3, i) }
        if let s { w.bytes(4, s) }
        if let t { w.message(5) { t.write(to: &$0) } }
        for value in floats { w.float(7, value) }
        for value in ints { w.int(8, value) }
        for value in strings { w.bytes(9, value) }
        w.int(20, Int64(type))
    }
}

extension NodeProto {
    func write(to w: inout ProtoWriter) {
        for input in inputs { w.string(1, input) }
        for output in outputs { w.string(2, output) }
        if !name.isEmpty { w.string(3, name) }
        w.string(4, opType)
        for attribute in attributes { w.message(5) { attribute.write(to: &$0) } }
        if !docString.isEmpty { w.string(6, docString) }
        if !domain.isEmpty { w.string(7, domain) }
    }
}

extension GraphProto {
    func write(to w: inout ProtoWriter) {
        for node in nodes { w.message(1) { node.write(to: &$0) } }
        if !name.isEmpty { w.string(2, name) }
        for tensor in initializers { w.message(5) { tensor.write(to: &$0) } }
        if !docString.isEmpty { w.string(10, docString) }
        for value in inputs { w.message(11) { value.write(to: &$0) } }
        for value in outputs { w.message(12) { value.write(to: &$0) } }
        for value in valueInfo { w.message(13) { value.write(to: &$0) } }
    }
}

extension ModelProto {
    func write(to w: inout ProtoWriter) {
        w.int(1, irVersion)
        if !producerName.isEmpty { w.string(2, producerName) }
        if !producerVersion.isEmpty { w.string(3, producerVersion) }
        if !domain.isEmpty { w.string(4, domain) }
        if modelVersion != 0 { w.int(5, modelVersion) }
        if !docString.isEmpty { w.string(6, docString) }
        // The opsets before the graph (any field order is valid protobuf): a file cut
        // anywhere before the graph's end then lacks part of the graph, never just the opsets.
        for opset in opsetImports {
            w.message(8) { entry in
                if !opset.domain.isEmpty { entry.string(1, opset.domain) }
                entry.int(2, opset.version)
            }
        }
        if let graph { w.message(7) { graph.write(to: &$0) } }
        for (key, value) in metadata {
            w.message(14) { entry in
                entry.string(1, key)
                entry.string(2, value)
            }
        }
    }

    /// The serialized model, or an error when it would exceed protobuf's 2 GiB limit
    /// (checked by counting first, before the bytes are allocated).
    func serialized() throws(ONNXError) -> [UInt8] {
        let size = ProtoWriter.size { write(to: &$0) }
        guard size <= maximumMessageBytes else {
            throw .invalidArgument("the model needs \(size) bytes; an ONNX file holds at most \(maximumMessageBytes) (protobuf's 2 GiB limit). Export a smaller model or sparsity")
        }
        var writer = ProtoWriter(reserving: size)
        write(to: &writer)
        return writer.bytes
    }
}
