/// The ONNX messages the toolkit reads and writes (onnx.proto, proto2 syntax), with only
/// the fields it uses. Field numbers are in `ONNXMessagesEncoding.swift` and
/// `ONNXMessagesDecoding.swift`; unknown fields are skipped on reading.

/// `TensorProto.DataType` values the toolkit knows by name.
enum ONNXDataType: Int32, Sendable {
    case float = 1
    case uint8 = 2
    case int8 = 3
    case int32 = 6
    case int64 = 7
    case bool = 9
    case double = 11

    /// Bytes per element in `raw_data`.
    var byteWidth: Int {
        switch self {
        case .float, .int32: 4
        case .uint8, .int8, .bool: 1
        case .int64, .double: 8
        }
    }

    static func name(_ code: Int32) -> String {
        switch code {
        case 1: "float"
        case 2: "uint8"
        case 3: "int8"
        case 4: "uint16"
        case 5: "int16"
        case 6: "int32"
        case 7: "int64"
        case 8: "string"
        case 9: "bool"
        case 10: "float16"
        case 11: "double"
        case 12: "uint32"
        case 13: "uint64"
        case 16: "bfloat16"
        default: "data type \(code)"
        }
    }
}

/// A tensor's payload as it travels: raw little-endian bytes (the usual form), or one
/// of the typed repeated fields.
enum TensorPayload: Equatable, Sendable {
    case none
    /// `raw_data`, as a slice of the file's bytes (no copy while reading).
    case raw(ArraySlice<UInt8>)
    /// Float32 values to write as `raw_data`.
    case floats([Float])
    /// Int64 values to write as `raw_data`.
    case int64s([Int64])
}

struct TensorProto: Equatable, Sendable {
    var name = ""
    var dims: [Int64] = []
    var dataType: Int32 = 0
    var docString = ""
    var payload: TensorPayload = .none
    /// The typed repeated fields, as decoded (used when there is no `raw_data`).
    var floatData: [Float] = []
    var int32Data: [Int64] = []
    var int64Data: [Int64] = []
    var doubleData: [Double] = []
    /// Entries of `string_data`, `uint64_data` (never used by the toolkit's operators).
    var otherDataCount = 0
    /// `data_location = EXTERNAL`: the values live in another file.
    var isExternal = false
    /// A `segment` field (a chunk of a larger tensor): not supported.
    var hasSegment = false
}

struct TensorShapeDimension: Equatable, Sendable {
    /// A fixed size, or nil when the dimension is symbolic (`dim_param`) or unknown.
    var value: Int64?
    var parameter: String?
}

struct ValueInfoProto: Equatable, Sendable {
    var name = ""
    /// `TypeProto.tensor_type.elem_type`; nil when the type is not a tensor or absent.
    var elementType: Int32?
    /// nil when the shape is absent (unknown rank).
    var shape: [TensorShapeDimension]?
    var docString = ""
}

enum AttributeType: Int32, Sendable {
    case undefined = 0
    case float = 1
    case int = 2
    case string = 3
    case tensor = 4
    case graph = 5
    case floats = 6
    case ints = 7
    case strings = 8
    case tensors = 9
    case graphs = 10
    case sparseTensor = 11
    case sparseTensors = 12
    case typeProto = 13
    case typeProtos = 14
}

struct AttributeProto: Equatable, Sendable {
    var name = ""
    /// The declared type (`type` field); 0 when absent.
    var type: Int32 = 0
    var f: Float?
    var i: Int64?
    var s: ArraySlice<UInt8>?
    var t: TensorProto?
    var floats: [Float] = []
    var ints: [Int64] = []
    var strings: [ArraySlice<UInt8>] = []
    /// Counts of the fields the toolkit never reads (subgraphs, sparse tensors, types):
    /// a node that carries them is refused by name instead of misread.
    var skippedComplexFields = 0
    /// `ref_attr_name`: only meaningful inside functions, which are not supported.
    var refAttributeName: String?

    init(name: String = "", type: Int32 = 0) {
        self.name = name
        self.type = type
    }

    static func int(_ name: String, _ value: Int64) -> AttributeProto {
        var attribute = AttributeProto(name: name, type: AttributeType.int.rawValue)
        attribute.i = value
        return attribute
    }

    static func ints(_ name: String, _ values: [Int64]) -> AttributeProto {
        var attribute = AttributeProto(name: name, type: AttributeType.ints.rawValue)
        attribute.ints = values
        return attribute
    }

    static func float(_ name: String, _ value: Float) -> AttributeProto {
        var attribute = AttributeProto(name: name, type: AttributeType.float.rawValue)
        attribute.f = value
        return attribute
    }

    static func string(_ name: String, _ value: String) -> AttributeProto {
        var attribute = AttributeProto(name: name, type: AttributeType.string.rawValue)
        attribute.s = ArraySlice(value.utf8)
        return attribute
    }

    static func tensor(_ name: String, _ value: TensorProto) -> AttributeProto {
        var attribute = AttributeProto(name: name, type: AttributeType.tensor.rawValue)
        attribute.t = value
        return attribute
    }
}

struct NodeProto: Equatable, Sendable {
    var name = ""
    var opType = ""
    var domain = ""
    var inputs: [String] = []
    var outputs: [String] = []
    var attributes: [AttributeProto] = []
    var docString = ""

    func attribute(_ name: String) -> AttributeProto? { attributes.last { $0.name == name } }
}

struct OperatorSetID: Equatable, Sendable {
    var domain = ""
    var version: Int64 = 0
}

struct GraphProto: Equatable, Sendable {
    var name = ""
    var nodes: [NodeProto] = []
    var initializers: [TensorProto] = []
    var inputs: [ValueInfoProto] = []
    var outputs: [ValueInfoProto] = []
    var valueInfo: [ValueInfoProto] = []
    var docString = ""
    /// Count of `sparse_initializer` entries (refused on import).
    var sparseInitializerCount = 0
}

struct ModelProto: Equatable, Sendable {
    var irVersion: Int64 = 0
    var opsetImports: [OperatorSetID] = []
    var producerName = ""
    var producerVersion = ""
    var domain = ""
    var modelVersion: Int64 = 0
    var docString = ""
    var graph: GraphProto?
    var metadata: [(key: String, value: String)] = []
    /// Count of model-local `functions` (refused on import: their ops are not standard).
    var functionCount = 0

    static func == (a: ModelProto, b: ModelProto) -> Bool {
        a.irVersion == b.irVersion && a.opsetImports == b.opsetImports && a.producerName == b.producerName
            && a.producerVersion == b.producerVersion && a.domain == b.domain && a.modelVersion == b.modelVersion
            && a.docString == b.docString && a.graph == b.graph && a.functionCount == b.functionCount
            && a.metadata.map(\.key) == b.metadata.map(\.key) && a.metadata.map(\.value) == b.metadata.map(\.value)
    }

    /// The version of the default ("" or "ai.onnx") operator set, if imported.
    var defaultOpset: Int64? {
        opsetImports.last { $0.domain == "" || $0.domain == "ai.onnx" }?.version
    }
}
