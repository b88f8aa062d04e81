/// Reading the ONNX messages. Unknown fields are skipped; a known field with the wrong
/// wire type is an error. Every structure decoded here has a depth fixed by the schema
/// (model → graph → node → attribute → tensor): subgraphs (`If`, `Loop`), sparse tensors,
/// functions and non-tensor types are skipped and only counted, so no input can drive
/// the decoder into deep recursion. Every allocation is bounded by the input's size.
extension TensorProto {
    static func decode(_ r: inout ProtoReader) throws(ONNXError) -> TensorProto {
        var t = TensorProto()
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.repeatedInt64(wire, field: "dims", into: &t.dims)
            case 2: t.dataType = try r.int32(wire, field: "data_type")
            case 3:
                try r.skip(wire)
                t.hasSegment = true
            case 4: try r.repeatedFloat(wire, field: "float_data", into: &t.floatData)
            case 5: try r.repeatedInt64(wire, field: "int32_data", into: &t.int32Data)
            case 6, 11:
                try r.skip(wire)
                t.otherDataCount += 1
            case 7: try r.repeatedInt64(wire, field: "int64_data", into: &t.int64Data)
            case 8: t.name = try r.string(wire, field: "name")
            case 9: t.payload = .raw(try r.bytes(wire, field: "raw_data"))
            case 10: try r.repeatedDouble(wire, field: "double_data", into: &t.doubleData)
            case 12: t.docString = try r.string(wire, field: "doc_string")
            case 14: t.isExternal = try r.int32(wire, field: "data_location") == 1
            default: try r.skip(wire)
            }
        }
        return t
    }
}

extension ValueInfoProto {
    static func decode(_ r: inout ProtoReader) throws(ONNXError) -> ValueInfoProto {
        var v = ValueInfoProto()
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: v.name = try r.string(wire, field: "name")
            case 2:
                try r.expect(wire, .lengthDelimited, field: "type")
                var type = try r.embedded("TypeProto")
                try decodeType(&type, into: &v)
            case 3: v.docString = try r.string(wire, field: "doc_string")
            default: try r.skip(wire)
            }
        }
        return v
    }

    /// `TypeProto`: only `tensor_type` is read; sequences, maps and the rest are skipped
    /// (and leave `elementType` nil, which the importer refuses by name).
    private static func decodeType(_ r: inout ProtoReader, into v: inout ValueInfoProto) throws(ONNXError) {
        while let (field, wire) = try r.nextField() {
            guard field == 1 else {
                try r.skip(wire)
                continue
            }
            try r.expect(wire, .lengthDelimited, field: "tensor_type")
            var tensor = try r.embedded("TypeProto.Tensor")
            while let (tensorField, tensorWire) = try tensor.nextField() {
                switch tensorField {
                case 1: v.elementType = try tensor.int32(tensorWire, field: "elem_type")
                case 2:
                    try tensor.expect(tensorWire, .lengthDelimited, field: "shape")
                    var shape = try tensor.embedded("TensorShapeProto")
                    var dimensions: [TensorShapeDimension] = []
                    while let (shapeField, shapeWire) = try shape.nextField() {
                        guard shapeField == 1 else {
                            try shape.skip(shapeWire)
                            continue
                        }
                        try shape.expect(shapeWire, .lengthDelimited, field: "dim")
                        var dim = try shape.embedded("TensorShapeProto.Dimension")
                        var dimension = TensorShapeDimension()
                        while let (dimField, dimWire) = try dim.nextField() {
                            switch dimField {
                            case 1: dimension.value = try dim.int64(dimWire, field: "dim_value")
                            case 2: dimension.parameter = try dim.string(dimWire, field: "dim_param")
                            default: try dim.skip(dimWire)
                            }
                        }
                        dimensions.append(dimension)
                    }
                    v.shape = dimensions
                default: try tensor.skip(tensorWire)
                }
            }
        }
    }
}

extension AttributeProto {
    static func decode(_ r: inout ProtoReader) throws(ONNXError) -> AttributeProto {
        var a = AttributeProto()
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: a.name = try r.string(wire, field: "name")
            case 2: a.f = try r.float(wire, field: "f")
            case 3: a.i = try r.int64(wire, field: "i")
            case 4: a.s = try r.bytes(wire, field: "s")
            case 5:
                try r.expect(wire, .lengthDelimited, field: "t")
                var tensor = try r.embedded("AttributeProto.t")
                a.t = try TensorProto.decode(&tensor)
            case 7: try r.repeatedFloat(wire, field: "floats", into: &a.floats)
            case 8: try r.repeatedInt64(wire, field: "ints", into: &a.ints)
            case 9: a.strings.append(try r.bytes(wire, field: "strings"))
            case 6, 10, 11, 14, 15, 22, 23:
                try r.skip(wire)
                a.skippedComplexFields += 1
            case 20: a.type = try r.int32(wire, field: "type")
            case 21: a.refAttributeName = try r.string(wire, field: "ref_attr_name")
            default: try r.skip(wire)
            }
        }
        return a
    }
}

extension NodeProto {
    static func decode(_ r: inout ProtoReader) throws(ONNXError) -> NodeProto {
        var n = NodeProto()
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: n.inputs.append(try r.string(wire, field: "input"))
            case 2: n.outputs.append(try r.string(wire, field: "output"))
            case 3: n.name = try r.string(wire, field: "name")
            case 4: n.opType = try r.string(wire, field: "op_type")
            case 5:
                try r.expect(wire, .lengthDelimited, field: "attribute")
                var attribute = try r.embedded("NodeProto.attribute")
                n.attributes.append(try AttributeProto.decode(&attribute))
            case 6: n.docString = try r.string(wire, field: "doc_string")
            case 7: n.domain = try r.string(wire, field: "domain")
            default: try r.skip(wire)
            }
        }
        return n
    }
}

extension GraphProto {
    static func decode(_ r: inout ProtoReader) throws(ONNXError) -> GraphProto {
        var g = GraphProto()
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1:
                try r.expect(wire, .lengthDelimited, field: "node")
                var node = try r.embedded("GraphProto.node[\(g.nodes.count)]")
                g.nodes.append(try NodeProto.decode(&node))
            case 2: g.name = try r.string(wire, field: "name")
            case 5:
                try r.expect(wire, .lengthDelimited, field: "initializer")
                var tensor = try r.embedded("GraphProto.initializer[\(g.initializers.count)]")
                g.initializers.append(try TensorProto.decode(&tensor))
            case 10: g.docString = try r.string(wire, field: "doc_string")
            case 11, 12, 13:
                try r.expect(wire, .lengthDelimited, field: "value info")
                var value = try r.embedded("GraphProto.value_info")
                let decoded = try ValueInfoProto.decode(&value)
                if field == 11 { g.inputs.append(decoded) } else if field == 12 { g.outputs.append(decoded) } else { g.valueInfo.append(decoded) }
            case 15:
                try r.skip(wire)
                g.sparseInitializerCount += 1
            default: try r.skip(wire)
            }
        }
        return g
    }
}

extension ModelProto {
    static func decode(_ r: inout ProtoReader) throws(ONNXError) -> ModelProto {
        var m = ModelProto()
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: m.irVersion = try r.int64(wire, field: "ir_version")
            case 2: m.producerName = try r.string(wire, field: "producer_name")
            case 3: m.producerVersion = try r.string(wire, field: "producer_version")
            case 4: m.domain = try r.string(wire, field: "domain")
            case 5: m.modelVersion = try r.int64(wire, field: "model_version")
            case 6: m.docString = try r.string(wire, field: "doc_string")
            case 7:
                try r.expect(wire, .lengthDelimited, field: "graph")
                var graph = try r.embedded("GraphProto")
                // A repeated embedded message merges in protobuf; two graphs never occur
                // in a real file, so the last one is taken whole.
                m.graph = try GraphProto.decode(&graph)
            case 8:
                try r.expect(wire, .lengthDelimited, field: "opset_import")
                var entry = try r.embedded("OperatorSetIdProto")
                var opset = OperatorSetID()
                while let (entryField, entryWire) = try entry.nextField() {
                    switch entryField {
                    case 1: opset.domain = try entry.string(entryWire, field: "domain")
                    case 2: opset.version = try entry.int64(entryWire, field: "version")
                    default: try entry.skip(entryWire)
                    }
                }
                m.opsetImports.append(opset)
            case 14:
                try r.expect(wire, .lengthDelimited, field: "metadata_props")
                var entry = try r.embedded("StringStringEntryProto")
                var key = "", value = ""
                while let (entryField, entryWire) = try entry.nextField() {
                    switch entryField {
                    case 1: key = try entry.string(entryWire, field: "key")
                    case 2: value = try entry.string(entryWire, field: "value")
                    default: try entry.skip(entryWire)
                    }
                }
                m.metadata.append((key, value))
            case 25:
                try r.skip(wire)
                m.functionCount += 1
            default: try r.skip(wire)
            }
        }
        return m
    }

    /// Decodes a whole file's bytes.
    static func decode(bytes: [UInt8]) throws(ONNXError) -> ModelProto {
        guard !bytes.isEmpty else { throw .malformed("the file is empty") }
        guard bytes.count <= maximumMessageBytes else {
            throw .malformed("\(bytes.count) bytes is more than an ONNX file can hold (2 GiB)")
        }
        var reader = ProtoReader(bytes, context: "ModelProto")
        let model = try decode(&reader)
        guard model.graph != nil else { throw .malformed("the model has no graph (is this an ONNX file?)") }
        return model
    }
}
