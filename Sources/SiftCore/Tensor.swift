/// A dense float32 tensor: a shape and its values in row-major (C) order.
///
/// This is the project's interchange type for weights, activations and masks: it is
/// what `.npy` files load into and what every kernel's inputs and outputs are made of.
public struct Tensor: Equatable, Sendable {
    public let shape: [Int]
    public var values: [Float]

    /// Creates a tensor; the value count must equal the product of the shape.
    public init(shape: [Int], values: [Float]) throws(SiftCoreError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidArgument("tensor shape \(shape) has a negative dimension")
        }
        let count = shape.reduce(1, *)
        guard count == values.count else {
            throw .shapeMismatch("tensor shape \(shape) holds \(count) values, got \(values.count)")
        }
        self.shape = shape
        self.values = values
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.values = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public var count: Int { values.count }
}

/// A row-major float32 matrix: the operand type of every kernel.
public struct Matrix: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    /// `rows * columns` values, row after row.
    public var values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) throws(SiftCoreError) {
        guard rows >= 0, columns >= 0 else {
            throw .invalidArgument("matrix shape \(rows)x\(columns) has a negative dimension")
        }
        guard values.count == rows * columns else {
            throw .shapeMismatch("a \(rows)x\(columns) matrix needs \(rows * columns) values, got \(values.count)")
        }
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public init(zeros rows: Int, _ columns: Int) {
        self.rows = rows
        self.columns = columns
        self.values = [Float](repeating: 0, count: rows * columns)
    }

    /// Views a 2-D tensor as a matrix; a 1-D tensor becomes a column vector (K×1), the
    /// batch-1 input of a matrix-vector product.
    public init(_ tensor: Tensor) throws(SiftCoreError) {
        switch tensor.shape.count {
        case 2: try self.init(rows: tensor.shape[0], columns: tensor.shape[1], values: tensor.values)
        case 1: try self.init(rows: tensor.shape[0], columns: 1, values: tensor.values)
        default:
            throw .shapeMismatch("expected a 1-D or 2-D array, got shape \(tensor.shape)")
        }
    }

    public var tensor: Tensor { Tensor(unchecked: [rows, columns], values) }

    public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// True when every value is finite (no NaN, no infinity).
    public var isFinite: Bool { values.allSatisfy { $0.isFinite } }

    /// Fraction of entries that are exactly zero.
    public var sparsity: Double {
        guard !values.isEmpty else { return 0 }
        return Double(values.lazy.filter { $0 == 0 }.count) / Double(values.count)
    }
}

extension Tensor {
    /// For shapes already known to match (internal use only).
    init(unchecked shape: [Int], _ values: [Float]) {
        self.shape = shape
        self.values = values
    }
}
