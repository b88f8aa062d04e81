/// The header dictionary of an `.npy` file, read exactly as numpy's `np.load` reads it
/// (numpy 2.4, `numpy/lib/format.py`): the header text is one Python literal (latin-1 for
/// format 1.0 and 2.0, UTF-8 for 3.0, at most 10000 characters), which must be a dict
/// with exactly the keys `descr`, `fortran_order` and `shape`; `fortran_order` a bool;
/// `shape` a tuple of non-negative ints (bools refused); a Python 2 `L` after an integer
/// is dropped in format 1.0 and 2.0 headers. Whatever numpy refuses is refused here.
///
/// Two deliberate differences, both refusals: a key written twice (numpy keeps the last
/// one silently, so two readers could disagree on the byte order) and the few exotic forms
/// numpy accepts but never writes (line continuations, `\N{...}` escapes). And `descr`
/// must name a little-endian (or native) float16, float32 or float64: other dtypes numpy
/// knows are refused as unsupported.
struct NPYHeader: Equatable {
    enum ElementType: Equatable {
        case float16, float32, float64
        var size: Int {
            switch self {
            case .float16: 2
            case .float32: 4
            case .float64: 8
            }
        }
    }

    let elementType: ElementType
    let fortranOrder: Bool
    let shape: [Int]

    /// numpy's `max_header_size` default.
    static let maxHeaderCharacters = 10_000

    struct Failure: Error { let message: String }

    /// Parses the header text of a file of format `major`.0.
    static func parse(_ text: String, major: UInt8) throws(Failure) -> NPYHeader {
        guard text.count <= maxHeaderCharacters else {
            throw Failure(message: "header of \(text.count) characters is larger than numpy's \(maxHeaderCharacters)-character limit")
        }
        var parser = PythonLiteralParser(text, allowsLongSuffix: major <= 2)
        let literal: PythonLiteral
        do {
            literal = try parser.parseWhole()
        } catch {
            throw Failure(message: "cannot parse the header: \(error.message)")
        }
        guard case .dict(let pairs) = literal else { throw Failure(message: "the header is not a dictionary (it is \(literal.summary))") }
        var values: [String: PythonLiteral] = [:]
        var keys: [String] = []
        for (key, value) in pairs {
            guard case .string(let name) = key else {
                throw Failure(message: "the header has a key that is not a string (\(key.summary)); it needs exactly 'descr', 'fortran_order', 'shape'")
            }
            guard values[name] == nil else {
                throw Failure(message: "the header repeats the key '\(name)' (numpy would silently keep the last one)")
            }
            values[name] = value
            keys.append(name)
        }
        guard Set(keys) == ["descr", "fortran_order", "shape"] else {
            throw Failure(message: "the header does not contain the correct keys: \(keys.sorted()); it needs exactly 'descr', 'fortran_order', 'shape'")
        }
        let shape = try parseShape(values["shape"]!)
        guard case .bool(let fortranOrder) = values["fortran_order"]! else {
            throw Failure(message: "fortran_order is not a valid bool: \(values["fortran_order"]!.summary)")
        }
        return NPYHeader(elementType: try parseDescr(values["descr"]!), fortranOrder: fortranOrder, shape: shape)
    }

    private static func parseShape(_ value: PythonLiteral) throws(Failure) -> [Int] {
        guard case .tuple(let items) = value else { throw Failure(message: "shape is not valid: \(value.summary) (a tuple of ints is expected)") }
        var shape: [Int] = []
        for item in items {
            guard case .integer(let dimension) = item else {
                throw Failure(message: "shape is not valid: \(value.summary) (a tuple of ints is expected)")
            }
            guard let dimension else { throw Failure(message: "shape \(value.summary) has a dimension beyond 64 bits") }
            guard dimension >= 0 else { throw Failure(message: "shape \(value.summary) has a negative dimension") }
            shape.append(dimension)
        }
        return shape
    }

    /// The dtype strings that mean a little-endian or native float on the machines the
    /// toolkit runs on (x86-64 and arm64 are little-endian).
    private static func parseDescr(_ value: PythonLiteral) throws(Failure) -> ElementType {
        guard case .string(let descr) = value else {
            throw Failure(message: "descr is not a valid dtype descriptor: \(value.summary)")
        }
        switch descr {
        case "<f4", "=f4", "|f4", "f4", "float32", "single", "f": return .float32
        case "<f8", "=f8", "|f8", "f8", "float64", "double", "d", "float": return .float64
        case "<f2", "=f2", "|f2", "f2", "float16", "half", "e": return .float16
        default:
            throw Failure(message: "unsupported dtype '\(descr)': expected little-endian float32 ('<f4'), float64 or float16")
        }
    }
}
