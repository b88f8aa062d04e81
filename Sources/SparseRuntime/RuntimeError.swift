import SparseIFT
import SparseKernels

/// Every way the runtime refuses a request. Each case carries a message that names the
/// offending value, so the CLI prints it as is.
public enum RuntimeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An argument outside its allowed range (batch size, thread count, time...).
    case invalidArgument(String)
    /// Weights or inputs that do not fit the network (names, shapes, NaN, token ids).
    case invalidInput(String)
    /// A network construct the runtime cannot compile (says which node and why).
    case unsupported(String)
    /// The plan needs more memory than `--memory-limit` allows (nothing was allocated).
    case memoryLimit(String)
    /// A file could not be read or written.
    case io(String)

    public var description: String {
        switch self {
        case .invalidArgument(let m): "invalid argument: \(m)"
        case .invalidInput(let m): "invalid input: \(m)"
        case .unsupported(let m): "unsupported: \(m)"
        case .memoryLimit(let m): "memory limit: \(m)"
        case .io(let m): "I/O error: \(m)"
        }
    }

    /// The runtime's error for an error of the libraries it calls, message kept.
    init(_ error: Error) {
        switch error {
        case let error as RuntimeError: self = error
        case let error as SparseIFTError:
            switch error {
            case .io(let m): self = .io(m)
            case .parameterMismatch(let m), .malformedFile(let m), .shapeMismatch(let m): self = .invalidInput(m)
            default: self = .invalidArgument(error.description)
            }
        case let error as SiftCoreError:
            switch error {
            case .io(let m): self = .io(m)
            default: self = .invalidInput(error.message)
            }
        case let error as KernelError:
            switch error {
            case .io(let m): self = .io(m)
            case .outOfMemory(let m): self = .memoryLimit(m)
            default: self = .invalidInput(error.description)
            }
        default: self = .invalidArgument("\(error)")
        }
    }
}
