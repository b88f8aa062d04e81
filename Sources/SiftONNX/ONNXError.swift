/// Every way reading or writing an ONNX file can fail. Each case carries a message that
/// names the offending node, operator, field or byte offset, so the CLI prints it as is.
public enum ONNXError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not a well-formed protobuf `ModelProto` (truncated, bad varint,
    /// impossible length, wrong wire type, invalid UTF-8...).
    case malformed(String)
    /// A well-formed model that uses an operator, attribute or graph form the toolkit's
    /// network IR cannot represent. The message names the node and its operator.
    case unsupported(String)
    /// A well-formed model whose graph is inconsistent: a value used but never produced,
    /// shapes that do not fit, non-finite weights, a cycle.
    case invalidModel(String)
    /// An export request the toolkit refuses (missing weights, a model too large for one file).
    case invalidArgument(String)
    /// A file that cannot be read or written.
    case io(String)

    public var description: String {
        switch self {
        case .malformed(let m): "malformed ONNX file: \(m)"
        case .unsupported(let m): "unsupported ONNX model: \(m)"
        case .invalidModel(let m): "invalid ONNX model: \(m)"
        case .invalidArgument(let m): "invalid argument: \(m)"
        case .io(let m): "I/O error: \(m)"
        }
    }
}
