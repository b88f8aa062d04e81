import SparseKernels

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
        }
    }

    /// The library's error for a `SparseKernels` error (NPY reading and writing), keeping
    /// its message but not its category prefix, so the prefix is printed once.
    init(_ error: KernelError) {
        switch error {
        case .io(let m), .outOfMemory(let m): self = .io(m)
        case .malformedFile(let m): self = .malformedFile(m)
        case .shapeMismatch(let m): self = .shapeMismatch(m)
        case .invalidArgument(let m): self = .invalidArgument(m)
        case .patternViolation(let m): self = .parameterMismatch(m)
        case .nonFiniteValue(let m): self = .invalidArgument("non-finite value: \(m)")
        }
    }
}

/// Checks that a sparsity is a number in [0, 1); every public entry point calls this first.
func validateSparsity(_ sparsity: Double, name: String = "sparsity") throws {
    guard !sparsity.isNaN, sparsity >= 0, sparsity < 1 else {
        throw SparseIFTError.invalidArgument("\(name) must be in [0, 1), got \(sparsity)")
    }
}

/// Size limits that keep every count of the toolkit far from `Int` overflow and every
/// allocation within what a workstation can hold. They are checked where sizes are
/// created (network building, weight initialisation, reference execution), so that the
/// arithmetic downstream (accounting, reports, traces) cannot trap.
public enum SizeLimits {
    /// Largest output size, weight count or multiply-add count of a single node (2^50).
    public static let perNode = 1 << 50
    /// Largest total multiply-adds or parameters of a whole network (2^58): the report
    /// multiplies MACs by 6 at most (2 FLOPs per MAC, 3 passes), and 6·2^58 < 2^63.
    public static let perNetwork = 1 << 58
    /// Largest number of float32 values (weights + masks, or activations) the toolkit
    /// allocates: 2^31 floats = 8 GiB.
    public static let floats = 1 << 31

    /// `a · b`, or nil when the product exceeds `limit` (or overflows `Int`).
    static func product(_ factors: [Int], limit: Int) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow, value <= limit else { return nil }
            result = value
        }
        return result
    }

    /// Human-readable size in GiB of `floats` float32 values.
    static func gibibytes(floats: Double) -> String {
        String(format: "%.1f GiB", floats * 4 / Double(1 << 30))
    }
}
