@_exported import SiftCore

/// Every way a kernel call or a file can be refused. Each case carries a message that
/// names what was wrong, so the CLI can print it as is.
///
/// SparseKernels re-exports SiftCore (`Matrix`, `Tensor`, `NPY`, `SparsityPattern`...),
/// since its API is stated in those types; SiftCore's own errors are `SiftCoreError`.
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

    /// The same refusal from SiftCore, same category and message.
    public init(_ error: SiftCoreError) {
        switch error {
        case .shapeMismatch(let m): self = .shapeMismatch(m)
        case .invalidArgument(let m): self = .invalidArgument(m)
        case .patternViolation(let m): self = .patternViolation(m)
        case .nonFiniteValue(let m): self = .nonFiniteValue(m)
        case .malformedFile(let m): self = .malformedFile(m)
        case .io(let m): self = .io(m)
        }
    }
}
