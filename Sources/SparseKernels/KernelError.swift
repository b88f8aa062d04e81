/// Every way a kernel call or a file can be refused. Each case carries a message that
/// names what was wrong, so the CLI can print it as is.
public enum KernelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Operand shapes do not fit together (or do not fit the format).
    case shapeMismatch(String)
    /// An argument outside its allowed range (sparsity, thread count, block size...).
    case invalidArgument(String)
    /// The weights do not have the structure the format requires (e.g. not N:M).
    case patternViolation(String)
    /// NaN or infinity where a finite value is required.
    case nonFiniteValue(String)
    /// A file that is not a valid float32 `.npy` array, or is truncated.
    case malformedFile(String)
    /// The operating system refused a read or write.
    case io(String)
    /// The C library could not allocate memory.
    case outOfMemory(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): "shape mismatch: \(m)"
        case .invalidArgument(let m): "invalid argument: \(m)"
        case .patternViolation(let m): "pattern violation: \(m)"
        case .nonFiniteValue(let m): "non-finite value: \(m)"
        case .malformedFile(let m): "malformed file: \(m)"
        case .io(let m): "I/O error: \(m)"
        case .outOfMemory(let m): "out of memory: \(m)"
        }
    }
}
