/// The protobuf wire format, the small part ONNX needs: varints, 32- and 64-bit fixed
/// values and length-delimited fields (strings, bytes, embedded messages, packed arrays).
/// Groups (wire types 3 and 4) are deprecated and never used by ONNX; they are refused.
enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// The largest file the toolkit reads or writes: protobuf messages are limited to 2 GiB.
let maximumMessageBytes = Int(Int32.max)

// MARK: - Writing

/// Serializes fields into bytes. An embedded message needs its length before its bytes,
/// so `message` runs the body twice: once on a counting writer (cheap: byte runs are only
/// counted, not copied) and once for real. Depth is fixed by the ONNX schema (at most
/// model → graph → node → attribute → tensor), so the repeated counting stays small.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []
    /// Bytes written so far (or counted, in counting mode).
    private(set) var count = 0
    private let counting: Bool

    init(counting: Bool = false, reserving capacity: Int = 0) {
        self.counting = counting
        if !counting && capacity > 0 { bytes.reserveCapacity(capacity) }
    }

    /// The size `body` writes, without writing it.
    static func size(of body: (inout ProtoWriter) -> Void) -> Int {
        var counter = ProtoWriter(counting: true)
        body(&counter)
        return counter.count
    }

    private mutating func append(_ byte: UInt8) {
        count += 1
        if !counting { bytes.append(byte) }
    }

    mutating func appendRaw<C: Collection>(_ data: C) where C.Element == UInt8 {
        count += data.count
        if !counting { bytes.append(contentsOf: data) }
    }

    /// Appends float32 values as little-endian bytes (ONNX `raw_data` layout).
    mutating func appendRawFloats(_ values: [Float]) {
        count += values.count * 4
        if counting { return }
        #if _endian(little)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for value in values { appendLittleEndian(value.bitPattern) }
        #endif
    }

    /// Appends int64 values as little-endian bytes.
    mutating func appendRawInt64s(_ values: [Int64]) {
        count += values.count * 8
        if counting { return }
        for value in values {
            var v = UInt64(bitPattern: value)
            for _ in 0..<8 {
                bytes.append(UInt8(truncatingIfNeeded: v))
                v >>= 8
            }
        }
    }

    private mutating func appendLittleEndian(_ value: UInt32) {
        var v = value
        for _ in 0..<4 {
            append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wire: WireType) {
        varint(UInt64(field) << 3 | UInt64(wire.rawValue))
    }

    /// An int64 / int32 / enum field: negative values are sign-extended to 10 bytes, as
    /// protobuf requires for both int32 and int64.
    mutating func int(_ field: Int, _ value: Int64) {
        tag(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    mutating func float(_ field: Int, _ value: Float) {
        tag(field, .fixed32)
        appendLittleEndian(value.bitPattern)
    }

    mutating func string(_ field: Int, _ value: String) {
        bytes(field, Array(value.utf8))
    }

    mutating func bytes<C: Collection>(_ field: Int, _ value: C) where C.Element == UInt8 {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        appendRaw(value)
    }

    /// A length-delimited field whose payload `body` writes.
    mutating func message(_ field: Int, _ body: (inout ProtoWriter) -> Void) {
        let length = ProtoWriter.size(of: body)
        tag(field, .lengthDelimited)
        varint(UInt64(length))
        if counting {
            count += length
        } else {
            body(&self)
        }
    }
}

// MARK: - Reading

/// Reads fields from a byte range of a shared buffer. Every length is checked against
/// the bytes that remain before anything is allocated, so a truncated or hostile file
/// yields a `ONNXError.malformed` naming the byte offset, never a trap or a huge buffer.
struct ProtoReader {
    let buffer: [UInt8]
    private(set) var position: Int
    let end: Int
    /// What is being read, for error messages (e.g. `GraphProto.node`).
    let context: String

    init(_ buffer: [UInt8], range: Range<Int>? = nil, context: String) {
        self.buffer = buffer
        let range = range ?? buffer.indices
        self.position = range.lowerBound
        self.end = range.upperBound
        self.context = context
    }

    var isAtEnd: Bool { position >= end }

    func fail(_ message: String) -> ONNXError {
        .malformed("\(context): \(message) (at byte \(position))")
    }

    mutating func varint() throws(ONNXError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw fail("truncated varint") }
            let byte = buffer[position]
            position += 1
            // The 10th byte may only carry the top bit of a 64-bit value.
            if shift == 63 && byte > 1 { throw fail("varint longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The next field's number and wire type, or nil at the end of the range.
    mutating func nextField() throws(ONNXError) -> (number: Int, wire: WireType)? {
        if isAtEnd { return nil }
        let key = try varint()
        let number = key >> 3
        guard number >= 1, number <= (1 << 29) - 1 else { throw fail("invalid field number \(number)") }
        guard let wire = WireType(rawValue: UInt8(key & 7)) else { throw fail("invalid wire type \(key & 7)") }
        if wire == .startGroup || wire == .endGroup {
            throw fail("field \(number) uses the deprecated group encoding, which ONNX never uses")
        }
        return (Int(number), wire)
    }

    mutating func fixed32() throws(ONNXError) -> UInt32 {
        guard end - position >= 4 else { throw fail("truncated 32-bit value") }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(buffer[position + index]) << (8 * UInt32(index)) }
        position += 4
        return value
    }

    mutating func fixed64() throws(ONNXError) -> UInt64 {
        guard end - position >= 8 else { throw fail("truncated 64-bit value") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(buffer[position + index]) << (8 * UInt64(index)) }
        position += 8
        return value
    }

    /// The byte range of a length-delimited payload; the reader moves past it.
    mutating func lengthDelimited() throws(ONNXError) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw fail("length \(length) runs past the end of the enclosing data (\(end - position) bytes left)")
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    mutating func skip(_ wire: WireType) throws(ONNXError) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed32: _ = try fixed32()
        case .fixed64: _ = try fixed64()
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw fail("group encoding is not supported")
        }
    }

    /// A reader over an embedded message's payload.
    mutating func embedded(_ name: String) throws(ONNXError) -> ProtoReader {
        let range = try lengthDelimited()
        return ProtoReader(buffer, range: range, context: name)
    }

    // Typed field readers: each checks the wire type the schema declares.

    func expect(_ wire: WireType, _ expected: WireType, field: String) throws(ONNXError) {
        guard wire == expected else { throw fail("field \(field) has wire type \(wire.rawValue), expected \(expected.rawValue)") }
    }

    mutating func int64(_ wire: WireType, field: String) throws(ONNXError) -> Int64 {
        try expect(wire, .varint, field: field)
        return Int64(bitPattern: try varint())
    }

    /// An int32 or enum field: protobuf sign-extends negative values to 64 bits; a value
    /// outside Int32 is refused rather than truncated.
    mutating func int32(_ wire: WireType, field: String) throws(ONNXError) -> Int32 {
        let value = try int64(wire, field: field)
        guard let narrow = Int32(exactly: value) else { throw fail("field \(field) value \(value) does not fit in int32") }
        return narrow
    }

    mutating func float(_ wire: WireType, field: String) throws(ONNXError) -> Float {
        try expect(wire, .fixed32, field: field)
        return Float(bitPattern: try fixed32())
    }

    mutating func bytes(_ wire: WireType, field: String) throws(ONNXError) -> ArraySlice<UInt8> {
        try expect(wire, .lengthDelimited, field: field)
        return buffer[try lengthDelimited()]
    }

    mutating func string(_ wire: WireType, field: String) throws(ONNXError) -> String {
        let raw = try bytes(wire, field: field)
        guard let text = String(validating: raw, as: UTF8.self) else { throw fail("field \(field) is not valid UTF-8") }
        return text
    }

    /// Appends a repeated varint field, packed (one length-delimited run) or not.
    mutating func repeatedInt64(_ wire: WireType, field: String, into values: inout [Int64]) throws(ONNXError) {
        if wire == .lengthDelimited {
            var packed = try embedded(context + "." + field)
            while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.varint())) }
        } else {
            values.append(try int64(wire, field: field))
        }
    }

    /// Appends a repeated float field, packed or not.
    mutating func repeatedFloat(_ wire: WireType, field: String, into values: inout [Float]) throws(ONNXError) {
        if wire == .lengthDelimited {
            let range = try lengthDelimited()
            guard range.count % 4 == 0 else { throw fail("packed float field \(field) has \(range.count) bytes, not a multiple of 4") }
            var packed = ProtoReader(buffer, range: range, context: context + "." + field)
            values.reserveCapacity(values.count + range.count / 4)
            while !packed.isAtEnd { values.append(Float(bitPattern: try packed.fixed32())) }
        } else {
            values.append(try float(wire, field: field))
        }
    }

    /// Appends a repeated double field, packed or not.
    mutating func repeatedDouble(_ wire: WireType, field: String, into values: inout [Double]) throws(ONNXError) {
        if wire == .lengthDelimited {
            let range = try lengthDelimited()
            guard range.count % 8 == 0 else { throw fail("packed double field \(field) has \(range.count) bytes, not a multiple of 8") }
            var packed = ProtoReader(buffer, range: range, context: context + "." + field)
            while !packed.isAtEnd { values.append(Double(bitPattern: try packed.fixed64())) }
        } else {
            try expect(wire, .fixed64, field: field)
            values.append(Double(bitPattern: try fixed64()))
        }
    }
}
