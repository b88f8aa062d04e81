import Foundation
import SiftCore

/// A table of text cells with a header row: what every sweep writes and the merge reads.
/// The text form is RFC 4180 CSV (comma-separated, a cell quoted when it holds a comma,
/// a quote or a line break, quotes doubled inside), LF line ends, UTF-8, so pandas,
/// spreadsheets and `csvkit` read it as is.
public struct CSVTable: Equatable, Sendable {
    public private(set) var header: [String]
    public private(set) var rows: [[String]]

    /// The largest CSV text the parser accepts (a sweep of millions of points stays far
    /// below it); a bigger file is refused before it is read into memory.
    public static let maxBytes = 256 << 20

    /// An empty table with these columns. Column names must be unique and non-empty.
    public init(header: [String]) throws(SweepError) {
        try Self.validateHeader(header, source: "table")
        self.header = header
        self.rows = []
    }

    public init(header: [String], rows: [[String]]) throws(SweepError) {
        try self.init(header: header)
        for row in rows { try append(row) }
    }

    private static func validateHeader(_ header: [String], source: String) throws(SweepError) {
        guard !header.isEmpty else { throw .malformedCSV("\(source): the header row is empty") }
        var seen: Set<String> = []
        for name in header {
            guard !name.isEmpty else { throw .malformedCSV("\(source): a column name is empty") }
            guard seen.insert(name).inserted else { throw .malformedCSV("\(source): column '\(name)' appears twice") }
        }
    }

    /// Appends a row given in header order.
    public mutating func append(_ row: [String]) throws(SweepError) {
        guard row.count == header.count else {
            throw .malformedCSV("a row has \(row.count) cells but the header has \(header.count) columns")
        }
        rows.append(row)
    }

    /// Appends a row given by column name. Every column must be named exactly once, so a
    /// misspelt or forgotten column is an error, not an empty cell.
    public mutating func append(_ cells: [String: String]) throws(SweepError) {
        let unknown = Set(cells.keys).subtracting(header)
        guard unknown.isEmpty else {
            throw .malformedCSV("unknown column(s) \(unknown.sorted().joined(separator: ", ")); the header is \(header.joined(separator: ","))")
        }
        var row: [String] = []
        for name in header {
            guard let value = cells[name] else { throw .malformedCSV("no value for column '\(name)'") }
            row.append(value)
        }
        rows.append(row)
    }

    public func columnIndex(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// Replaces one cell (by row number and column name).
    public mutating func set(row: Int, column name: String, to value: String) throws(SweepError) {
        guard let column = columnIndex(name) else { throw .malformedCSV("no column '\(name)'") }
        guard rows.indices.contains(row) else { throw .malformedCSV("no row \(row) (the table has \(rows.count))") }
        rows[row][column] = value
    }

    /// The cells of one column, top to bottom.
    public func column(_ name: String) throws(SweepError) -> [String] {
        guard let index = columnIndex(name) else {
            throw .malformedCSV("no column '\(name)' (columns: \(header.joined(separator: ",")))")
        }
        return rows.map { $0[index] }
    }

    /// Rows as dictionaries keyed by column name (convenient, not fast).
    public var records: [[String: String]] {
        rows.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    /// The same table without the named columns (names not present are ignored).
    public func removingColumns(_ names: Set<String>) -> CSVTable {
        let kept = header.indices.filter { !names.contains(header[$0]) }
        var copy = self
        copy.header = kept.map { header[$0] }
        copy.rows = rows.map { row in kept.map { row[$0] } }
        return copy
    }

    /// Keeps the rows for which `isIncluded` is true.
    public func filter(_ isIncluded: ([String: String]) -> Bool) -> CSVTable {
        var copy = self
        copy.rows = zip(rows, records).filter { isIncluded($0.1) }.map(\.0)
        return copy
    }

    // MARK: text

    /// The CSV text, header first, one line per row, ending in a newline.
    public func text() -> String {
        var out = ""
        for line in [header] + rows {
            out += line.map(Self.quoted).joined(separator: ",")
            out += "\n"
        }
        return out
    }

    static func quoted(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Parses CSV text. `source` names the file in error messages. Accepts LF or CRLF line
    /// ends and a missing final newline; refuses an unterminated quote, a row whose cell
    /// count differs from the header's, stray text after a closing quote, and an empty file.
    public init(parsing text: String, source: String) throws(SweepError) {
        guard text.utf8.count <= Self.maxBytes else {
            throw .malformedCSV("\(source) is larger than \(Self.maxBytes >> 20) MiB")
        }
        var records: [[String]] = []
        var record: [String] = []
        var cell = ""
        var inQuotes = false
        var afterClosingQuote = false
        var line = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        var sawAnything = false
        while let scalar = next() {
            sawAnything = true
            if inQuotes {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" { cell.unicodeScalars.append("\"") } else {
                            inQuotes = false
                            afterClosingQuote = true
                            pending = following
                        }
                    } else {
                        inQuotes = false
                        afterClosingQuote = true
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    cell.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                record.append(cell)
                cell = ""
                afterClosingQuote = false
            case "\r":
                // A CR is only allowed as part of CRLF.
                guard let following = next(), following == "\n" else {
                    throw .malformedCSV("\(source) line \(line): a carriage return outside quotes not followed by a line feed")
                }
                pending = following
            case "\n":
                record.append(cell)
                records.append(record)
                record = []
                cell = ""
                afterClosingQuote = false
                line += 1
            case "\"":
                guard cell.isEmpty, !afterClosingQuote else {
                    throw .malformedCSV("\(source) line \(line): a quote inside an unquoted cell")
                }
                inQuotes = true
            default:
                guard !afterClosingQuote else {
                    throw .malformedCSV("\(source) line \(line): text after a closing quote")
                }
                cell.unicodeScalars.append(scalar)
            }
        }
        guard !inQuotes else { throw .malformedCSV("\(source): a quoted cell is not closed (truncated file?)") }
        if !cell.isEmpty || !record.isEmpty || afterClosingQuote {
            record.append(cell)
            records.append(record)
        }
        guard sawAnything, let header = records.first else { throw .malformedCSV("\(source) is empty") }
        try Self.validateHeader(header, source: source)
        for (offset, row) in records.dropFirst().enumerated() where row.count != header.count {
            throw .malformedCSV("\(source) row \(offset + 1) has \(row.count) cells but the header has \(header.count) (truncated file?)")
        }
        self.header = header
        self.rows = Array(records.dropFirst())
    }

    /// Reads and parses a CSV file (through SiftCore's `SafeFile`: regular files only).
    public init(contentsOf path: String) throws(SweepError) {
        let bytes: [UInt8]
        do { bytes = try SafeFile.read(path) } catch { throw .io(error.message) }
        guard bytes.count <= Self.maxBytes else { throw .malformedCSV("\(path) is larger than \(Self.maxBytes >> 20) MiB") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformedCSV("\(path) is not UTF-8 text") }
        try self.init(parsing: text, source: path)
    }

    /// Writes the table as a CSV file, whole or not at all (SiftCore's `SafeFile`).
    public func write(to path: String) throws(SweepError) {
        do { try SafeFile.write(text(), to: path) } catch { throw .io(error.message) }
    }
}
