internal import CSparseKernels

/// What a kernel applies to its accumulators before storing them:
/// `Y = activation(W·X + bias[row] + residual[row, column])`. Fusing it into the kernel
/// saves the runtime a second pass over Y.
public struct Epilogue: Sendable, Equatable {
    /// One value per output row (per output channel), or nil.
    public var bias: [Float]?
    /// A matrix of Y's shape added element-wise (a residual connection), or nil.
    public var residual: Matrix?
    /// Applied last, after bias and residual.
    public var activation: Activation

    public init(bias: [Float]? = nil, residual: Matrix? = nil, activation: Activation = .none) {
        self.bias = bias
        self.residual = residual
        self.activation = activation
    }

    /// The ReLU-or-nothing form the first kernels had.
    public init(bias: [Float]? = nil, residual: Matrix? = nil, relu: Bool) {
        self.init(bias: bias, residual: residual, activation: relu ? .relu : .none)
    }

    /// True when the activation is ReLU.
    public var relu: Bool {
        get { activation == .relu }
        set { activation = newValue ? .relu : .none }
    }

    public static let none = Epilogue()

    func validate(outputRows: Int, outputColumns: Int) throws(KernelError) {
        if let bias {
            guard bias.count == outputRows else {
                throw .shapeMismatch("bias has \(bias.count) values, the output has \(outputRows) rows")
            }
            guard bias.allSatisfy({ $0.isFinite }) else { throw .nonFiniteValue("bias contains NaN or infinity") }
        }
        if let residual {
            guard residual.rows == outputRows, residual.columns == outputColumns else {
                throw .shapeMismatch("residual is \(residual.rows)x\(residual.columns), the output is \(outputRows)x\(outputColumns)")
            }
            guard residual.isFinite else { throw .nonFiniteValue("residual contains NaN or infinity") }
        }
    }

    /// Calls `body` with the C view of this epilogue; the pointers live only inside it.
    func withCEpilogue<R>(_ body: (UnsafePointer<sk_epilogue>) -> R) -> R {
        func withOptionalPointer<T>(_ array: [Float]?, _ inner: (UnsafePointer<Float>?) -> T) -> T {
            guard let array else { return inner(nil) }
            return array.withUnsafeBufferPointer { inner($0.baseAddress) }
        }
        return withOptionalPointer(bias) { biasPointer in
            withOptionalPointer(residual?.values) { residualPointer in
                var c = sk_epilogue(bias: biasPointer, residual: residualPointer,
                                    ld_residual: Int64(residual?.columns ?? 0), activation: activation.cValue)
                return withUnsafePointer(to: &c) { body($0) }
            }
        }
    }
}
