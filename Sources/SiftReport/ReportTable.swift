import Foundation
import SiftSweep

/// A table for people, written three ways: Markdown (the `.md` files), aligned plain
/// text (the terminal summary) and HTML (the index page). The machine-readable form of
/// the same numbers is the sweep's CSV, with every digit.
public struct ReportTable: Sendable {
    public enum Alignment: Sendable { case left, right }

    public struct Column: Sendable {
        public let title: String
        public let alignment: Alignment
        public init(_ title: String, _ alignment: Alignment = .right) {
            self.title = title
            self.alignment = alignment
        }
    }

    public var columns: [Column]
    public private(set) var rows: [[String]] = []

    public init(columns: [Column]) { self.columns = columns }

    /// Appends a row; short rows are padded with empty cells, long ones cut (a table for
    /// people should never fail to print).
    public mutating func append(_ cells: [String]) {
        var row = Array(cells.prefix(columns.count))
        while row.count < columns.count { row.append("") }
        rows.append(row)
    }

    public var isEmpty: Bool { rows.isEmpty }

    // MARK: Markdown

    /// GitHub-flavoured Markdown with aligned pipes (readable as plain text too).
    public func markdown() -> String {
        let cells = ([columns.map(\.title)] + rows).map { $0.map(Self.markdownCell) }
        let widths = columns.indices.map { column in max(3, cells.map { $0[column].count }.max() ?? 0) }
        func line(_ row: [String]) -> String {
            "| " + row.enumerated().map { pad($0.element, widths[$0.offset], columns[$0.offset].alignment) }.joined(separator: " | ") + " |"
        }
        var lines = [line(cells[0])]
        lines.append("|" + columns.indices.map { column in
            let dashes = String(repeating: "-", count: widths[column])
            return columns[column].alignment == .right ? " " + dashes.dropLast() + ": " : " " + dashes + " "
        }.joined(separator: "|") + "|")
        for row in cells.dropFirst() { lines.append(line(row)) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func markdownCell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    // MARK: plain text

    /// Columns aligned with spaces, a rule under the header.
    public func text() -> String {
        let all = [columns.map(\.title)] + rows
        let widths = columns.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var lines: [String] = []
        for (index, row) in all.enumerated() {
            lines.append(row.enumerated().map { pad($0.element, widths[$0.offset], columns[$0.offset].alignment) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            if index == 0 { lines.append(String(repeating: "-", count: widths.reduce(0, +) + 2 * max(0, widths.count - 1))) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: HTML

    public func html() -> String {
        var out = "<table>\n<thead><tr>"
        for column in columns {
            out += "<th class=\"\(column.alignment == .right ? "num" : "txt")\">\(escape(column.title))</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for row in rows {
            out += "<tr>"
            for (index, cell) in row.enumerated() {
                out += "<td class=\"\(columns[index].alignment == .right ? "num" : "txt")\">\(escape(cell))</td>"
            }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }

    private func pad(_ text: String, _ width: Int, _ alignment: Alignment) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return alignment == .right ? fill + text : text + fill
    }
}

/// Number formatting shared by the tables: fixed decimals, never an exponent, "–" for
/// a value that is missing or not finite.
enum Format {
    static func fixed(_ value: Double?, _ digits: Int) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    static func ratio(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: value >= 10 ? "%.1f×" : "%.2f×", value)
    }

    static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        let text = String(format: "%.2f", value * 100)
        var trimmed = text
        while trimmed.hasSuffix("0") { trimmed.removeLast() }
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        return trimmed + "%"
    }

    /// Bytes in binary units: `12.3 MiB`.
    static func bytes(_ value: Double?) -> String {
        guard let value, value.isFinite, value >= 0 else { return "–" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = value
        var unit = 0
        while amount >= 1024, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(amount)) B" : String(format: "%.1f", amount) + " " + units[unit]
    }

    /// Three significant digits, for rates and times of any magnitude.
    static func significant(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        let magnitude = abs(value)
        if magnitude >= 1000 { return String(format: "%.0f", value) }
        if magnitude >= 100 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        if magnitude >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.3g", value)
    }
}
