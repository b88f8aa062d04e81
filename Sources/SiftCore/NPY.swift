import Foundation

/// Reads and writes NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
///
/// Little-endian float32 is the native type; little-endian float64 and float16 are
/// accepted on read and converted (a float64 beyond float32's range is refused, never
/// turned into an infinity), since NumPy's default dtype is float64. Fortran-order arrays
/// are reordered to row-major. Headers are parsed as numpy parses them (`NPYHeader`).
/// Anything else (big-endian, integer, object, a truncated file, bytes after the data,
/// which numpy would ignore) is a `.malformedFile` error that names the problem.
public enum NPY {
    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Reads an `.npy` file. The path must name a regular file (see `SafeFile.read`).
    public static func read(contentsOf path: String) throws(SiftCoreError) -> Tensor {
        let bytes = try SafeFile.read(path)
        do {
            return try decodeOrThrow(bytes)
        } catch {
            // Prefix the path so the user knows which of several files is broken.
            throw .malformedFile("\(path): \(error.message)")
        }
    }

    /// Writes whole or not at all, and never through a link or into a device (see
    /// `SafeFile.write`).
    public static func write(_ tensor: Tensor, to path: String) throws(SiftCoreError) {
        try SafeFile.write(encode(tensor), to: path)
    }

    // MARK: - Encoding

    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let shapeText: String
        switch tensor.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(tensor.shape[0]),)"
        default: shapeText = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Version 1.0: magic(6) + version(2) + length(2) + header, padded with spaces and
        // ended by a newline so the data starts on a 64-byte boundary.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes = magic + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + tensor.count * 4)
        for value in tensor.values {
            let bits = value.bitPattern.littleEndian
            bytes += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
        }
        return bytes
    }

    // MARK: - Decoding

    struct DecodeError: Error { let message: String }

    public static func decode(_ bytes: [UInt8]) throws(SiftCoreError) -> Tensor {
        do {
            return try decodeOrThrow(bytes)
        } catch {
            throw .malformedFile(error.message)
        }
    }

    private static func decodeOrThrow(_ bytes: [UInt8]) throws(DecodeError) -> Tensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw DecodeError(message: "not an .npy file (missing the \\x93NUMPY magic)")
        }
        let (major, minor) = (bytes[6], bytes[7])
        guard [1, 2, 3].contains(major), minor == 0 else {
            throw DecodeError(message: "unsupported .npy format version \(major).\(minor) (numpy reads 1.0, 2.0 and 3.0)")
        }
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw DecodeError(message: "truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        }
        guard bytes.count - headerStart >= headerLength else {
            throw DecodeError(message: "truncated header: needs \(headerLength) bytes, file has \(bytes.count - headerStart)")
        }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        let text: String
        if major == 3 {
            guard let utf8 = String(validating: headerBytes, as: UTF8.self) else {
                throw DecodeError(message: "a format 3.0 header must be UTF-8")
            }
            text = utf8
        } else {
            // Latin-1: every byte is the character of the same code.
            text = String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))
        }
        let header: NPYHeader
        do {
            header = try NPYHeader.parse(text, major: major)
        } catch {
            throw DecodeError(message: error.message)
        }
        let elementType = header.elementType
        let shape = header.shape
        let dataStart = headerStart + headerLength
        // Check the size before multiplying further: a hostile header could overflow.
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= Int(Int32.max) * 16 else {
                throw DecodeError(message: "shape \(shape) is too large")
            }
            count = product
        }
        let needed = count * elementType.size
        guard bytes.count - dataStart >= needed else {
            throw DecodeError(message: "truncated data: shape \(shape) needs \(needed) bytes, file has \(bytes.count - dataStart)")
        }
        guard bytes.count - dataStart == needed else {
            throw DecodeError(message: "\(bytes.count - dataStart - needed) unexpected bytes after the data")
        }
        var values = [Float](repeating: 0, count: count)
        // A finite float64 beyond float32's range would become an infinity: refused below.
        var overflowing: (index: Int, value: Double)?
        bytes.withUnsafeBytes { raw in
            for index in 0..<count {
                let offset = dataStart + index * elementType.size
                switch elementType {
                case .float32:
                    values[index] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                case .float64:
                    let value = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                    values[index] = Float(value)
                    if value.isFinite && !values[index].isFinite && overflowing == nil { overflowing = (index, value) }
                case .float16:
                    values[index] = halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                }
            }
        }
        if let overflowing {
            throw DecodeError(message: "float64 value \(overflowing.value) at index \(overflowing.index) is beyond float32's range (it would become infinite)")
        }
        if header.fortranOrder, shape.count > 1 {
            values = fortranToRowMajor(values, shape: shape)
        }
        return Tensor(unchecked: shape, values)
    }

    private static func fortranToRowMajor(_ values: [Float], shape: [Int]) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        var columnMajorStrides = [Int](repeating: 1, count: shape.count)
        for axis in 1..<shape.count { columnMajorStrides[axis] = columnMajorStrides[axis - 1] * shape[axis - 1] }
        var index = [Int](repeating: 0, count: shape.count)
        for rowMajorOffset in 0..<values.count {
            var source = 0
            for axis in 0..<shape.count { source += index[axis] * columnMajorStrides[axis] }
            result[rowMajorOffset] = values[source]
            // Advance the multi-index in row-major order.
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    private static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
