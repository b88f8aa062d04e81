@_exported import SiftCore

// SparseIFT re-exports SiftCore (`Tensor`, `NPY`, `SparsityPattern`, `SeededGenerator`...),
// since its API is stated in those types. It converts SiftCore's errors to its own at its
// boundary (`fromCore`), so everything it throws is a `SparseIFTError`.

/// Every way the Sparse-IFT library refuses a request. Each case carries a message that
/// names the offending value, so the CLI can print it as is.
public enum SparseIFTError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An argument outside its allowed range (sparsity, width, seed file...).
    case invalidArgument(String)
    /// A model name the zoo does not know.
    case unknownModel(String)
    /// A transformation name that is not one of the four members (or `dense`).
    case unknownTransform(String)
    /// Shapes that do not fit together while building or rewriting a network.
    case shapeMismatch(String)
    /// A sparsity pattern that cannot be applied to a layer (e.g. 2:4 with K % 4 != 0).
    case patternNotApplicable(String)
    /// The Sparse Wide search could not match the dense FLOP budget.
    case flopMatchFailed(String)
    /// Weights or masks that are missing or do not fit the network.
    case parameterMismatch(String)
    /// A file could not be read or written.
    case io(String)
    /// A file was read but is not a valid float32 `.npy` array (or is truncated).
    case malformedFile(String)
    /// A computation on finite inputs produced an infinity or NaN (float32 overflow).
    case nonFiniteResult(String)

    public var description: String {
        switch self {
        case .invalidArgument(let m): "invalid argument: \(m)"
        case .unknownModel(let m): "unknown model: \(m)"
        case .unknownTransform(let m): "unknown transform: \(m)"
        case .shapeMismatch(let m): "shape mismatch: \(m)"
        case .patternNotApplicable(let m): "pattern not applicable: \(m)"
        case .flopMatchFailed(let m): "cannot match the dense FLOPs: \(m)"
        case .parameterMismatch(let m): "parameter mismatch: \(m)"
        case .io(let m): "I/O error: \(m)"
        case .malformedFile(let m): "malformed file: \(m)"
        case .nonFiniteResult(let m): "non-finite result: \(m)"
        }
    }

    /// The library's error for a SiftCore error (NPY reading and writing, patterns, masks),
    /// keeping its message but not its category prefix, so the prefix is printed once.
    public init(_ error: SiftCoreError) {
        switch error {
        case .io(let m): self = .io(m)
        case .malformedFile(let m): self = .malformedFile(m)
        case .shapeMismatch(let m): self = .shapeMismatch(m)
        case .invalidArgument(let m): self = .invalidArgument(m)
        case .patternViolation(let m): self = .parameterMismatch(m)
        case .nonFiniteValue(let m): self = .invalidArgument("non-finite value: \(m)")
        }
    }
}

/// Runs a SiftCore call, turning its error into the library's own.
func fromCore<T>(_ body: () throws(SiftCoreError) -> T) throws(SparseIFTError) -> T {
    do {
        return try body()
    } catch {
        throw SparseIFTError(error)
    }
}

/// Checks that a sparsity is a number in [0, 1); every public entry point calls this first.
func validateSparsity(_ sparsity: Double, name: String = "sparsity") throws {
    guard !sparsity.isNaN, sparsity >= 0, sparsity < 1 else {
        throw SparseIFTError.invalidArgument("\(name) must be in [0, 1), got \(sparsity)")
    }
}
