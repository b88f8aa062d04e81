internal import CSparseKernels

/// The activation a kernel applies last in its fused epilogue, after bias and residual:
/// `Y = activation(W·X + bias + residual)`.
public enum Activation: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case none
    /// `max(v, 0)`
    case relu
    /// `min(max(v, 0), 6)`
    case relu6
    /// `0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³)))`, the tanh form GPT-2/GPT-3 use and
    /// `ReferenceExecution` computes. The kernels evaluate it as `v / (1 + e^(-2u))` with
    /// their own vectorized exponential, with identical bits on every ISA. Measured against
    /// double precision (ActivationTests): within 1 float ulp of |v| everywhere; within
    /// 1.4 ulps of the result on [-1, ∞) and 8 on [-4, -1], where the result is small
    /// against v and inherits the rounding of the exponent's argument.
    case gelu

    public var description: String { rawValue }

    /// Parses "none", "relu", "relu6", "gelu" (any case).
    public init(parsing text: String) throws(KernelError) {
        guard let activation = Activation(rawValue: text.lowercased()) else {
            throw .invalidArgument("unknown activation '\(text)': expected one of none, relu, relu6, gelu")
        }
        self = activation
    }

    var cValue: sk_activation {
        switch self {
        case .none: SK_ACTIVATION_NONE
        case .relu: SK_ACTIVATION_RELU
        case .relu6: SK_ACTIVATION_RELU6
        case .gelu: SK_ACTIVATION_GELU
        }
    }

    /// Applies the activation to `values` with the code the kernels of `isa` run in their
    /// stores (for tests and for applying an epilogue outside a multiply).
    public func apply(to values: [Float], isa: ISA) -> [Float] {
        var out = values
        values.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                sk_activation_apply(cValue, isa.cValue, input.baseAddress, output.baseAddress, Int64(input.count))
            }
        }
        return out
    }
}
