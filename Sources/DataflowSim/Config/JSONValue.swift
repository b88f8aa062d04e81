import Foundation

/// A parsed JSON document that keeps numbers, booleans and strings apart (JSONSerialization
/// does not on every platform), so a config can be checked strictly.
enum JSONValue: Decodable, Equatable {
    case number(Double)
    case bool(Bool)
    case string(String)
    case object([String: JSONValue])
    case array([JSONValue])
    case null

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            self = .array(try container.decode([JSONValue].self))
        }
    }

    static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    var typeName: String {
        switch self {
        case .number: "a number"
        case .bool: "a boolean"
        case .string: "a string"
        case .object: "an object"
        case .array: "an array"
        case .null: "null"
        }
    }

    /// The parameter value this JSON value denotes, if it is a scalar.
    var parameterValue: ParameterValue? {
        switch self {
        case .number(let value): .number(value)
        case .bool(let value): .flag(value)
        case .string(let value): .text(value)
        default: nil
        }
    }
}
