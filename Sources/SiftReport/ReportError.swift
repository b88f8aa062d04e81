/// Every way `sift report` refuses a request or fails, with a message naming the value,
/// file or step at fault.
public enum ReportError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidArgument(String)
    /// A file or directory could not be read or written.
    case io(String)
    /// Inputs to `--merge` that are not report shard folders, or do not belong together.
    case malformedInput(String)
    /// A backend (runtime, simulator, kernels) failed on a point.
    case backendFailed(String)

    public var description: String {
        switch self {
        case .invalidArgument(let m): "invalid argument: \(m)"
        case .io(let m): "I/O error: \(m)"
        case .malformedInput(let m): "malformed input: \(m)"
        case .backendFailed(let m): "\(m)"
        }
    }
}
