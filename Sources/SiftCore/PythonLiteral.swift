/// A Python literal, the language of `.npy` headers: numpy reads a header with
/// `ast.literal_eval`, so a header is whatever Python source evaluates to a literal.
/// This is the subset a header can hold; anything else is a parse error, which is also
/// what numpy makes of it (or, for a few exotic forms numpy accepts and never writes,
/// such as line continuations, a refusal on our side).
indirect enum PythonLiteral: Equatable {
    case string(String)
    case bytes([UInt8])
    /// An integer; nil when it does not fit in `Int` (Python's are unbounded).
    case integer(Int?)
    case float
    case complex
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    /// Key–value pairs in source order, duplicates kept (Python keeps the last).
    case dict([(PythonLiteral, PythonLiteral)])
    case set

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): x == y
        case (.bytes(let x), .bytes(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.float, .float), (.complex, .complex), (.none, .none), (.set, .set): true
        case (.bool(let x), .bool(let y)): x == y
        case (.tuple(let x), .tuple(let y)), (.list(let x), .list(let y)): x == y
        case (.dict(let x), .dict(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// A short rendering for error messages.
    var summary: String {
        switch self {
        case .string(let s): "'\(s)'"
        case .bytes: "a bytes literal"
        case .integer(let i): i.map(String.init) ?? "an integer beyond 64 bits"
        case .float: "a float"
        case .complex: "a complex number"
        case .bool(let b): b ? "True" : "False"
        case .none: "None"
        case .tuple(let items): "(" + items.map(\.summary).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list(let items): "[" + items.map(\.summary).joined(separator: ", ") + "]"
        case .dict: "a dictionary"
        case .set: "a set"
        }
    }
}

/// Parses one Python literal expression the way `ast.literal_eval` does, for the forms a
/// header can use: dicts, tuples, lists, strings (prefixes r/u/b, single or triple
/// quotes, escapes, implicit concatenation), integers (decimal, 0x/0o/0b, underscores,
/// one unary sign), floats, True/False/None, comments and whitespace.
struct PythonLiteralParser {
    struct Failure: Error { let message: String }

    private let scalars: [Unicode.Scalar]
    private var index = 0
    /// Python 2 headers (format 1.0 and 2.0) may write `3L`; numpy drops the `L`.
    private let allowsLongSuffix: Bool

    init(_ text: String, allowsLongSuffix: Bool) {
        scalars = Array(text.unicodeScalars)
        self.allowsLongSuffix = allowsLongSuffix
    }

    /// The whole text as one literal: nothing but whitespace and comments may follow.
    mutating func parseWhole() throws(Failure) -> PythonLiteral {
        try skipTrivia()
        let value = try parseValue()
        try skipTrivia()
        guard index == scalars.count else { throw fail("unexpected text after the literal") }
        return value
    }

    private func fail(_ message: String) -> Failure {
        Failure(message: "\(message) at character \(index)")
    }

    private var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }
    private func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    /// Whitespace Python's tokenizer skips (space, tab, form feed, newlines) and comments.
    private mutating func skipTrivia() throws(Failure) {
        while let c = current {
            switch c {
            case " ", "\t", "\u{0C}", "\n", "\r":
                index += 1
            case "#":
                while let d = current, d != "\n", d != "\r" { index += 1 }
            case "\\":
                throw fail("line continuations are not supported in a header")
            default:
                return
            }
        }
    }

    private mutating func expect(_ scalar: Unicode.Scalar) throws(Failure) {
        try skipTrivia()
        guard current == scalar else { throw fail("expected '\(scalar)'") }
        index += 1
    }

    private mutating func parseValue() throws(Failure) -> PythonLiteral {
        try skipTrivia()
        guard let c = current else { throw fail("unexpected end of the header") }
        switch c {
        case "{": return try parseBraces()
        case "(": return try parseParentheses()
        case "[":
            index += 1
            return .list(try parseItems(until: "]"))
        case "+", "-":
            index += 1
            try skipTrivia()
            guard let d = current, d.properties.numericType != nil || d == "." else {
                throw fail("a sign must be followed by a number")
            }
            let number = try parseNumber()
            if c == "-", case .integer(let value?) = number { return .integer(-value) }
            return number
        case "0"..."9":
            return try parseNumber()
        case ".":
            guard let d = peek(1), ("0"..."9").contains(d) else { throw fail("unexpected '.'") }
            return try parseNumber()
        default:
            if isStringStart() { return try parseStrings() }
            if isIdentifierStart(c) { return try parseName() }
            throw fail("unexpected character '\(c.escaped(asASCII: true))'")
        }
    }

    /// `{}` dict or `{a, b}` set.
    private mutating func parseBraces() throws(Failure) -> PythonLiteral {
        index += 1
        try skipTrivia()
        if current == "}" {
            index += 1
            return .dict([])
        }
        let first = try parseValue()
        try skipTrivia()
        if current == ":" {
            index += 1
            var pairs = [(first, try parseValue())]
            while true {
                try skipTrivia()
                if current == "}" { index += 1; return .dict(pairs) }
                try expect(",")
                try skipTrivia()
                if current == "}" { index += 1; return .dict(pairs) }
                let key = try parseValue()
                try expect(":")
                pairs.append((key, try parseValue()))
            }
        }
        // A set: read the rest so a malformed one is still a parse error.
        if current != "}" {
            try expect(",")
            _ = try parseItems(until: "}")
        } else {
            index += 1
        }
        return .set
    }

    /// `()`, `(a,)`, `(a, b)` tuples, or `(a)`: a parenthesised value.
    private mutating func parseParentheses() throws(Failure) -> PythonLiteral {
        index += 1
        try skipTrivia()
        if current == ")" {
            index += 1
            return .tuple([])
        }
        let first = try parseValue()
        try skipTrivia()
        if current == ")" {
            index += 1
            return first
        }
        try expect(",")
        return .tuple([first] + (try parseItems(until: ")")))
    }

    /// Comma-separated values up to `closing`, a trailing comma allowed.
    private mutating func parseItems(until closing: Unicode.Scalar) throws(Failure) -> [PythonLiteral] {
        var items: [PythonLiteral] = []
        while true {
            try skipTrivia()
            if current == closing {
                index += 1
                return items
            }
            items.append(try parseValue())
            try skipTrivia()
            if current == closing {
                index += 1
                return items
            }
            try expect(",")
        }
    }

    private func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic
    }

    private func isIdentifierContinue(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || c.properties.numericType != nil
    }

    private mutating func parseName() throws(Failure) -> PythonLiteral {
        let start = index
        while let c = current, isIdentifierContinue(c) { index += 1 }
        let name = String(String.UnicodeScalarView(scalars[start..<index]))
        switch name {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .none
        default:
            index = start
            throw fail("'\(name)' is not a literal")
        }
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(Failure) -> PythonLiteral {
        let start = index
        var value: PythonLiteral
        if current == "0", let x = peek(1), "xXoObB".unicodeScalars.contains(x) {
            index += 2
            let radix = "xX".unicodeScalars.contains(x) ? 16 : "oO".unicodeScalars.contains(x) ? 8 : 2
            let digits = try digitRun(radix: radix, leadingUnderscore: true)
            guard !digits.isEmpty else { throw fail("invalid number") }
            value = .integer(Int(digits, radix: radix))
        } else {
            let integerPart = try digitRun(radix: 10, leadingUnderscore: false)
            var isFloat = false
            if current == "." {
                index += 1
                isFloat = true
                if let c = current, ("0"..."9").contains(c) { _ = try digitRun(radix: 10, leadingUnderscore: false) }
            }
            if let e = current, e == "e" || e == "E" {
                let mark = index
                index += 1
                if current == "+" || current == "-" { index += 1 }
                if let c = current, ("0"..."9").contains(c) {
                    _ = try digitRun(radix: 10, leadingUnderscore: false)
                    isFloat = true
                } else {
                    index = mark
                }
            }
            if let j = current, j == "j" || j == "J" {
                index += 1
                value = .complex
            } else if isFloat {
                value = .float
            } else {
                // Python 3 refuses leading zeros on a non-zero decimal integer ("01").
                if integerPart.count > 1, integerPart.first == "0", integerPart.contains(where: { $0 != "0" }) {
                    index = start
                    throw fail("leading zeros in a decimal integer")
                }
                value = .integer(Int(integerPart))
            }
        }
        if let c = current, isIdentifierContinue(c) {
            // numpy drops a Python 2 `L` after an integer of a format 1.0 or 2.0 header.
            if allowsLongSuffix, c == "L", case .integer = value, !(peek(1).map(isIdentifierContinue) ?? false) {
                index += 1
                return value
            }
            throw fail("invalid number")
        }
        if allowsLongSuffix, case .integer = value {
            // `1 L` tokenises as a number then the name L, which numpy drops too.
            let mark = index
            try skipTrivia()
            if current == "L", !(peek(1).map(isIdentifierContinue) ?? false) {
                index += 1
            } else {
                index = mark
            }
        }
        return value
    }

    /// Digits of `radix`, single underscores allowed between them (and right after a
    /// 0x/0o/0b prefix when `leadingUnderscore`); returns the digits alone.
    private mutating func digitRun(radix: Int, leadingUnderscore: Bool) throws(Failure) -> String {
        var digits = ""
        var pendingUnderscore = false
        while let c = current {
            if c == "_" {
                guard !pendingUnderscore, !digits.isEmpty || leadingUnderscore else { throw fail("invalid underscore in a number") }
                pendingUnderscore = true
                index += 1
                continue
            }
            guard let digit = Int(String(c), radix: 16), digit < radix else { break }
            digits.unicodeScalars.append(c)
            pendingUnderscore = false
            index += 1
        }
        if pendingUnderscore { throw fail("an underscore in a number must be followed by a digit") }
        return digits
    }

    // MARK: Strings

    private func isStringStart() -> Bool {
        var offset = 0
        while let c = peek(offset), "rRuUbB".unicodeScalars.contains(c), offset < 2 { offset += 1 }
        guard let quote = peek(offset), quote == "'" || quote == "\"" else { return false }
        return true
    }

    /// One or more adjacent string literals, concatenated (all str or all bytes).
    private mutating func parseStrings() throws(Failure) -> PythonLiteral {
        var text = ""
        var bytes: [UInt8] = []
        var isBytes: Bool?
        repeat {
            let (value, literalIsBytes) = try parseString()
            if let isBytes, isBytes != literalIsBytes { throw fail("cannot mix bytes and str literals") }
            isBytes = literalIsBytes
            if literalIsBytes {
                bytes += value.unicodeScalars.map { UInt8($0.value) }
            } else {
                text += value
            }
            try skipTrivia()
        } while isStringStart()
        return isBytes == true ? .bytes(bytes) : .string(text)
    }

    private mutating func parseString() throws(Failure) -> (String, Bool) {
        var prefix = ""
        while let c = current, c != "'" && c != "\"" {
            prefix.unicodeScalars.append(c)
            index += 1
        }
        let lowered = prefix.lowercased()
        guard ["", "r", "u", "b", "br", "rb"].contains(lowered) else { throw fail("invalid string prefix \(prefix)") }
        let raw = lowered.contains("r")
        let isBytes = lowered.contains("b")
        guard let quote = current else { throw fail("unterminated string") }
        let triple = peek(1) == quote && peek(2) == quote
        index += triple ? 3 : 1
        var value = String.UnicodeScalarView()
        while true {
            guard let c = current else { throw fail("unterminated string") }
            if c == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                index += triple ? 3 : 1
                return (String(value), isBytes)
            }
            if (c == "\n" || c == "\r") && !triple { throw fail("newline inside a string") }
            if isBytes && c.value > 0x7F { throw fail("bytes literals may hold only ASCII characters") }
            index += 1
            guard c == "\\" else {
                value.append(c)
                continue
            }
            guard let e = current else { throw fail("unterminated string") }
            if raw {
                // A raw string keeps the backslash; it only stops the next quote ending it.
                value.append(c)
                value.append(e)
                index += 1
                continue
            }
            index += 1
            switch e {
            case "\n": break
            case "\r": if current == "\n" { index += 1 }
            case "\\", "'", "\"": value.append(e)
            case "a": value.append("\u{07}")
            case "b": value.append("\u{08}")
            case "f": value.append("\u{0C}")
            case "n": value.append("\n")
            case "r": value.append("\r")
            case "t": value.append("\t")
            case "v": value.append("\u{0B}")
            case "0"..."7":
                var code = Int(e.value - 48)
                for _ in 0..<2 {
                    guard let d = current, ("0"..."7").contains(d) else { break }
                    code = code * 8 + Int(d.value - 48)
                    index += 1
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("invalid octal escape") }
                value.append(scalar)
            case "x":
                value.append(try hexEscape(digits: 2))
            case "u" where !isBytes:
                value.append(try hexEscape(digits: 4))
            case "U" where !isBytes:
                value.append(try hexEscape(digits: 8))
            case "N" where !isBytes:
                throw fail("named escapes (\\N{...}) are not supported in a header")
            default:
                // An unknown escape keeps its backslash, as Python does.
                value.append(c)
                value.append(e)
            }
        }
    }

    private mutating func hexEscape(digits: Int) throws(Failure) -> Unicode.Scalar {
        var code: UInt32 = 0
        for _ in 0..<digits {
            guard let d = current, let digit = UInt32(String(d), radix: 16) else { throw fail("truncated \\x, \\u or \\U escape") }
            code = code * 16 + digit
            index += 1
        }
        guard let scalar = Unicode.Scalar(code) else { throw fail("escape \\U\(code) is not a character") }
        return scalar
    }
}
