import SparseIFT

/// A tensor whose values are known when the model is read: an initializer, a `Constant`
/// node, or the result of folding a shape operation on constants. Integers (int32, int64,
/// bool, int8, uint8) are held as Int64; floats (float32, float64) as Float.
struct ConstantTensor: Equatable, Sendable {
    enum Values: Equatable, Sendable {
        case floats([Float])
        case integers([Int64])
    }

    var shape: [Int]
    var values: Values

    var count: Int {
        switch values {
        case .floats(let v): v.count
        case .integers(let v): v.count
        }
    }

    var isFloat: Bool {
        if case .floats = values { return true }
        return false
    }

    /// The values as floats (integers converted).
    var floats: [Float] {
        switch values {
        case .floats(let v): v
        case .integers(let v): v.map { Float($0) }
        }
    }

    /// The values as integers, or nil for float values.
    var integers: [Int64]? {
        if case .integers(let v) = values { return v }
        return nil
    }

    /// The single value of a one-element tensor (any rank), as a Double.
    var scalar: Double? {
        guard count == 1 else { return nil }
        switch values {
        case .floats(let v): return Double(v[0])
        case .integers(let v): return Double(v[0])
        }
    }

    init(shape: [Int], floats: [Float]) {
        self.shape = shape
        self.values = .floats(floats)
    }

    init(shape: [Int], integers: [Int64]) {
        self.shape = shape
        self.values = .integers(integers)
    }

    /// The same values under another shape of the same element count.
    func reshaped(_ newShape: [Int]) -> ConstantTensor {
        var copy = self
        copy.shape = newShape
        return copy
    }

    /// Reads a `TensorProto`, checking that its declared shape, type and payload agree.
    init(_ proto: TensorProto, what: String) throws(ONNXError) {
        guard !proto.isExternal else {
            throw .unsupported("\(what) stores its values in an external file; only self-contained .onnx files are supported")
        }
        guard !proto.hasSegment else { throw .unsupported("\(what) is a segment of a larger tensor; segments are not supported") }
        var shape: [Int] = []
        var count = 1
        for dim in proto.dims {
            guard dim >= 0, dim <= Int64(maximumMessageBytes) else { throw .invalidModel("\(what) has an invalid dimension \(dim)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow, product <= maximumMessageBytes else {
                throw .invalidModel("\(what) has shape \(proto.dims), more values than an ONNX file can hold")
            }
            shape.append(Int(dim))
            count = product
        }
        guard let type = ONNXDataType(rawValue: proto.dataType) else {
            throw .unsupported("\(what) has element type \(ONNXDataType.name(proto.dataType)); supported: float, double, int8, uint8, int32, int64, bool")
        }
        if case .raw(let bytes) = proto.payload {
            // `count · width` cannot overflow: count ≤ 2^31 and width ≤ 8.
            guard bytes.count == count * type.byteWidth else {
                throw .invalidModel("\(what): raw_data has \(bytes.count) bytes, shape \(shape) of \(ONNXDataType.name(proto.dataType)) needs \(count * type.byteWidth)")
            }
            self.shape = shape
            self.values = Self.decodeRaw(bytes, type: type, count: count)
            return
        }
        func checkCount(_ actual: Int, _ field: String) throws(ONNXError) {
            guard actual == count else { throw .invalidModel("\(what): \(field) has \(actual) values, shape \(shape) needs \(count)") }
        }
        self.shape = shape
        switch type {
        case .float:
            try checkCount(proto.floatData.count, "float_data")
            values = .floats(proto.floatData)
        case .double:
            try checkCount(proto.doubleData.count, "double_data")
            values = .floats(proto.doubleData.map { Float($0) })
        case .int64:
            try checkCount(proto.int64Data.count, "int64_data")
            values = .integers(proto.int64Data)
        case .int32, .int8, .uint8, .bool:
            try checkCount(proto.int32Data.count, "int32_data")
            values = .integers(proto.int32Data)
        }
    }

    private static func decodeRaw(_ bytes: ArraySlice<UInt8>, type: ONNXDataType, count: Int) -> Values {
        let base = bytes.startIndex
        func word(_ index: Int, width: Int) -> UInt64 {
            var value: UInt64 = 0
            for byte in 0..<width { value |= UInt64(bytes[base + index * width + byte]) << (8 * UInt64(byte)) }
            return value
        }
        switch type {
        case .float:
            var result = [Float](repeating: 0, count: count)
            #if _endian(little)
            result.withUnsafeMutableBytes { destination in
                bytes.withUnsafeBytes { source in destination.copyMemory(from: source) }
            }
            #else
            for index in 0..<count { result[index] = Float(bitPattern: UInt32(word(index, width: 4))) }
            #endif
            return .floats(result)
        case .double:
            return .floats((0..<count).map { Float(Double(bitPattern: word($0, width: 8))) })
        case .int64:
            return .integers((0..<count).map { Int64(bitPattern: word($0, width: 8)) })
        case .int32:
            return .integers((0..<count).map { Int64(Int32(bitPattern: UInt32(word($0, width: 4)))) })
        case .int8:
            return .integers((0..<count).map { Int64(Int8(bitPattern: bytes[base + $0])) })
        case .uint8, .bool:
            return .integers((0..<count).map { Int64(bytes[base + $0]) })
        }
    }
}
