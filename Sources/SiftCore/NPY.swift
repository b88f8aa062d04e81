import Foundation

/// Reads and writes NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
///
/// Little-endian float32 is the native type; little-endian float64 and float16 are
/// accepted on read and converted, since NumPy's default dtype is float64. Fortran-order
/// arrays are reordered to row-major. Anything else (big-endian, integer, object, a
/// truncated or inconsistent file) is a `.malformedFile` error that names the problem.
public enum NPY {
    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    public static func read(contentsOf path: String) throws(SiftCoreError) -> Tensor {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .io("cannot read \(path): \(error.localizedDescription)")
        }
        do {
            return try decodeOrThrow([UInt8](data))
        } catch {
            // Prefix the path so the user knows which of several files is broken.
            throw .malformedFile("\(path): \(error.message)")
        }
    }

    /// Writes atomically: a failed write leaves no partial file behind.
    public static func write(_ tensor: Tensor, to path: String) throws(SiftCoreError) {
        let bytes = encode(tensor)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .io("cannot write \(path): \(error.localizedDescription)")
        }
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

    private enum ElementType {
        case float16, float32, float64
        var size: Int {
            switch self {
            case .float16: 2
            case .float32: 4
            case .float64: 8
            }
        }
    }

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
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw DecodeError(message: "truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw DecodeError(message: "unsupported .npy format version \(major)")
        }
        guard bytes.count >= headerStart + headerLength else {
            throw DecodeError(message: "truncated header: needs \(headerLength) bytes, file has \(bytes.count - headerStart)")
        }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw DecodeError(message: "header is not text")
        }
        let descr = try field("descr", in: header)
        let elementType: ElementType
        switch descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) {
        case "<f4", "=f4": elementType = .float32
        case "<f8", "=f8": elementType = .float64
        case "<f2", "=f2": elementType = .float16
        case let other:
            throw DecodeError(message: "unsupported dtype \(other): expected little-endian float32 ('<f4')")
        }
        let fortranText = try field("fortran_order", in: header)
        guard fortranText == "True" || fortranText == "False" else {
            throw DecodeError(message: "fortran_order must be True or False, got \(fortranText)")
        }
        let shape = try parseShape(try field("shape", in: header))
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
        bytes.withUnsafeBytes { raw in
            for index in 0..<count {
                let offset = dataStart + index * elementType.size
                switch elementType {
                case .float32:
                    values[index] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                case .float64:
                    values[index] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
                case .float16:
                    values[index] = halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                }
            }
        }
        if fortranText == "True", shape.count > 1 {
            values = fortranToRowMajor(values, shape: shape)
        }
        return Tensor(unchecked: shape, values)
    }

    /// The text of one key's value in the header dictionary.
    private static func field(_ key: String, in header: String) throws(DecodeError) -> String {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else {
            throw DecodeError(message: "header has no '\(key)' entry")
        }
        var rest = header[keyRange.upperBound...].drop(while: { $0 == " " })
        guard rest.first == ":" else { throw DecodeError(message: "header entry '\(key)' has no value") }
        rest = rest.dropFirst().drop(while: { $0 == " " })
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else {
                throw DecodeError(message: "header entry '\(key)' is not closed")
            }
            return String(rest[...close])
        }
        let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) ?? rest.endIndex
        return String(rest[..<end]).trimmingCharacters(in: .whitespaces)
    }

    private static func parseShape(_ text: String) throws(DecodeError) -> [Int] {
        guard text.hasPrefix("("), text.hasSuffix(")") else {
            throw DecodeError(message: "shape must be a tuple, got \(text)")
        }
        let inner = text.dropFirst().dropLast()
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let dimension = Int(trimmed.hasSuffix("L") ? String(trimmed.dropLast()) : trimmed), dimension >= 0 else {
                throw DecodeError(message: "shape has an invalid dimension '\(trimmed)'")
            }
            shape.append(dimension)
        }
        return shape
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
