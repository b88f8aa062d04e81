/// Every way the core types (tensors, `.npy` files, patterns, masks, file writing) refuse
/// a request. Each case carries a message that names what was wrong, so a command-line
/// tool can print it as is. The libraries built on SiftCore convert it to their own
/// error type at their boundary (`KernelError`, `SparseIFTError`), keeping the message.
public enum SiftCoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Shapes or sizes that do not fit together.
    case shapeMismatch(String)
    /// An argument outside its allowed range (sparsity, pattern parameters, sizes...).
    case invalidArgument(String)
    /// A mask or matrix that does not have the structure its pattern requires.
    case patternViolation(String)
    /// NaN or infinity where a finite value is required.
    case nonFiniteValue(String)
    /// A file that is not what it should be: not a valid `.npy`, truncated, a manifest
    /// that does not parse.
    case malformedFile(String)
    /// The operating system refused a read or write, or a path is of the wrong kind
    /// (a directory, FIFO or device where a regular file is expected).
    case io(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): "shape mismatch: \(m)"
        case .invalidArgument(let m): "invalid argument: \(m)"
        case .patternViolation(let m): "pattern violation: \(m)"
        case .nonFiniteValue(let m): "non-finite value: \(m)"
        case .malformedFile(let m): "malformed file: \(m)"
        case .io(let m): "I/O error: \(m)"
        }
    }

    /// The message without its category prefix.
    public var message: String {
        switch self {
        case .shapeMismatch(let m), .invalidArgument(let m), .patternViolation(let m), .nonFiniteValue(let m),
             .malformedFile(let m), .io(let m): m
        }
    }
}
