import Foundation

/// Text renderings of results: JSON, CSV, the Chrome trace, and the table people read.
public enum ReportText {
    /// Pretty JSON with sorted keys; refuses non-finite numbers with a clear error.
    public static func json<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
        } catch {
            throw SimulatorError.io("the results hold a non-finite number and cannot be written as JSON (\(error))")
        }
    }

    /// A number for CSV and tables: integers as such, others with up to 6 significant decimals.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6g", value)
    }

    static func cell(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    public static let layerColumns = [
        "layer", "kind", "pass", "label", "fidelity", "cycles", "seconds", "utilisation", "out_rows", "reduction", "positions",
        "copies", "sparsity", "pattern", "effective_macs", "analytical_cycles", "region_cores", "skipped_zero_fraction",
        "panels", "rows", "columns", "sram_bytes_per_core",
    ] + Breakdown().named.map(\.0)

    /// One row per product and operation pass of a network report.
    public static func layersCSV(_ report: NetworkReport) -> String {
        var lines = [layerColumns.joined(separator: ",")]
        for row in report.layers {
            func text(_ value: Int?) -> String { value.map(String.init) ?? "" }
            func text(_ value: Double?) -> String { value.map(number) ?? "" }
            var cells: [String] = [cell(row.name), row.kind, row.pass.rawValue, cell(row.label), row.fidelity.rawValue]
            cells += [number(row.cycles), String(format: "%.9g", row.seconds), text(row.utilisation)]
            cells += [text(row.outRows), text(row.reduction), text(row.positions), text(row.copies)]
            cells += [text(row.sparsity), row.pattern ?? "", text(row.effectiveMACs), text(row.analyticalCycles)]
            cells += [text(row.regionCores), text(row.skippedZeroFraction)]
            cells += [text(row.mapping?.panels), text(row.mapping?.rows), text(row.mapping?.columns)]
            cells.append(text(row.mapping?.sramBytesPerCore))
            cells += row.breakdown.named.map { number($0.1) }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per product of a single-product report (the sparse ones, then the dense).
    public static func matmulCSV(_ report: MatmulReport) -> String {
        let columns = ["variant", "pass", "fidelity", "out_rows", "reduction", "positions", "sparsity", "pattern", "cycles",
                       "analytical_cycles", "utilisation", "panels", "rows", "columns", "positions_per_column"]
            + Breakdown().named.map(\.0)
        var lines = [columns.joined(separator: ",")]
        for (variant, products) in [("sparse", report.products), ("dense", report.denseProducts)] {
            for product in products {
                var cells = [variant, product.pass.rawValue, product.fidelity.rawValue, String(product.outRows),
                             String(product.reduction), String(product.positions), number(product.sparsity), product.pattern,
                             number(product.cycles), number(product.analyticalCycles), number(product.utilisation),
                             String(product.mapping.panels), String(product.mapping.rows), String(product.mapping.columns),
                             String(product.mapping.positionsPerColumn)]
                cells += product.breakdown.named.map { number($0.1) }
                lines.append(cells.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A Chrome trace-event file (opens in Perfetto or chrome://tracing): process 1 is the
    /// training step (one span per product or operation, composed times), process 2 the
    /// cycle-level timeline of one region's cores (compute and partial-sum spans per core).
    public static func chromeTrace(step: [StepSpanRecord], region: [RegionSpanRecord], regionProduct: String,
                                   clockHz: Double) throws -> String {
        var events: [[String: Any]] = []
        func microseconds(_ cycles: Double) -> Double { cycles / clockHz * 1e6 }
        events.append(["ph": "M", "pid": 1, "name": "process_name", "args": ["name": "training step (composed)"]])
        events.append(["ph": "M", "pid": 1, "tid": 1, "name": "thread_name", "args": ["name": "wafer"]])
        for span in step where span.cycles > 0 {
            events.append(["ph": "X", "pid": 1, "tid": 1, "name": span.name, "cat": span.category,
                           "ts": microseconds(span.start), "dur": microseconds(span.cycles),
                           "args": ["pass": span.pass.rawValue, "cycles": span.cycles]])
        }
        if !region.isEmpty {
            events.append(["ph": "M", "pid": 2, "name": "process_name",
                           "args": ["name": "region cycle-level: \(regionProduct)"]])
            var named = Set<Int>()
            for span in region {
                // Each core gets two tracks: its main thread and its partial-sum microthread.
                let core = (span.row * 1024 + span.column) * 2 + (span.kind == "reduction" ? 1 : 0)
                if !named.contains(core) {
                    named.insert(core)
                    let label = "core r\(span.row) c\(span.column)\(span.kind == "reduction" ? " partial sums" : "")"
                    events.append(["ph": "M", "pid": 2, "tid": core, "name": "thread_name", "args": ["name": label]])
                }
                events.append(["ph": "X", "pid": 2, "tid": core, "name": "\(span.kind) row \(span.group)", "cat": span.kind,
                               "ts": microseconds(Double(span.start)), "dur": microseconds(Double(span.end - span.start)),
                               "args": ["start_cycle": span.start, "end_cycle": span.end]])
            }
        }
        let document: [String: Any] = ["traceEvents": events, "displayTimeUnit": "ns",
                                        "otherData": ["clock_hz": clockHz, "time_unit": "microseconds of simulated time"]]
        do {
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self) + "\n"
        } catch {
            throw SimulatorError.io("cannot encode the trace: \(error.localizedDescription)")
        }
    }

    static func percent(_ part: Double, of total: Double) -> String {
        total > 0 ? String(format: "%.1f%%", 100 * part / total) : "-"
    }

    static func grouped(_ value: Double) -> String {
        let digits = String(Int64(value.rounded()))
        var result = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, character != "-" { result.append(",") }
            result.append(character)
        }
        return String(result.reversed())
    }

    /// The causes of a breakdown as one line of shares.
    static func causes(_ breakdown: Breakdown) -> String {
        breakdown.named.filter { $0.1 > 0 }.map { "\($0.0) \(percent($0.1, of: breakdown.total))" }.joined(separator: ", ")
    }

    /// The human-readable summary of a network report.
    public static func table(_ report: NetworkReport, machine: MachineConfig, top: Int = 12) -> String {
        var lines: [String] = []
        let sequence = report.sequenceLength.map { ", sequence \($0)" } ?? ""
        lines.append("sift simulate: \(report.model) \(report.transform) s=\(String(format: "%.4f", report.sparsity)) (\(report.pattern)), batch \(report.batchSize)\(sequence), \(report.execution), \(report.mode.rawValue) mode")
        lines.append("machine: \(machine.name), \(machine.meshWidth)x\(machine.meshHeight) cores at \(String(format: "%.0f", machine.clockHz / 1e6)) MHz, region \(machine.regionWidth)x\(machine.regionHeight), \(machine.lanes) \(machine.precision.rawValue) FMAC/cycle/core")
        lines.append("step: \(grouped(report.cycles)) cycles = \(String(format: "%.6g", report.stepSeconds * 1e3)) ms, \(String(format: "%.6g", report.samplesPerSecond)) samples/s, utilisation \(String(format: "%.1f%%", report.utilisation * 100))")
        if let speedup = report.speedupVsDense, let dense = report.dense {
            lines.append("vs dense \(dense.network): \(String(format: "%.3f", speedup))x (ideal \(String(format: "%.3f", report.idealSpeedup ?? 0))x); dense step \(grouped(dense.cycles)) cycles, \(String(format: "%.6g", dense.samplesPerSecond)) samples/s")
        }
        lines.append("causes: \(causes(report.breakdown))")
        if let activation = report.activationSparsity { lines.append("activation sparsity: \(activation)") }
        lines.append("")
        lines.append("largest layers (of \(report.layers.count) product and operation passes):")
        let header = ["layer", "pass", "cycles", "share", "fidelity", "sparsity", "utilisation"]
        var cells = [header]
        for row in report.layers.sorted(by: { $0.cycles > $1.cycles }).prefix(top) {
            cells.append([row.label == row.pass.rawValue || row.label == row.kind ? row.name : "\(row.name) \(row.label)",
                          row.pass.rawValue, grouped(row.cycles), percent(row.cycles, of: report.cycles), row.fidelity.rawValue,
                          row.sparsity.map { String(format: "%.3f", $0) } ?? "-",
                          row.utilisation.map { String(format: "%.1f%%", $0 * 100) } ?? "-"])
        }
        let widths = header.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
        for row in cells {
            lines.append("  " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        lines.append("")
        lines.append("fidelity: \(report.fidelityNote)")
        for note in report.notes { lines.append("note: \(note)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The human-readable summary of a single-product report.
    public static func table(_ report: MatmulReport, machine: MachineConfig) -> String {
        var lines: [String] = []
        lines.append("sift simulate matmul: Y (\(report.m)x\(report.n)) = W (\(report.m)x\(report.k)) X, s=\(String(format: "%.4f", report.sparsity)) (\(report.pattern)), \(report.nonzeros) non-zeros, \(report.execution) \(report.mode.rawValue) mode")
        lines.append("machine: \(machine.name), region \(machine.regionWidth)x\(machine.regionHeight) cores at \(String(format: "%.0f", machine.clockHz / 1e6)) MHz")
        lines.append("sparse: \(grouped(report.cycles)) cycles = \(String(format: "%.6g", report.seconds * 1e6)) us, utilisation \(String(format: "%.1f%%", report.utilisation * 100))")
        lines.append("dense:  \(grouped(report.denseCycles)) cycles = \(String(format: "%.6g", report.denseSeconds * 1e6)) us")
        lines.append("speedup vs dense: \(String(format: "%.3f", report.speedupVsDense))x (ideal 1/(1-s) = \(String(format: "%.3f", report.idealSpeedup))x)")
        lines.append("sparse causes: \(causes(report.breakdown))")
        lines.append("dense causes:  \(causes(report.denseBreakdown))")
        for product in report.products {
            let mapping = product.mapping
            lines.append("  \(product.pass.rawValue): \(grouped(product.cycles)) cycles (analytical \(grouped(product.analyticalCycles))), \(mapping.panels) panels of \(mapping.rows)x\(mapping.columns) cores, \(mapping.reductionPerRow) reduction x \(mapping.positionsPerColumn) positions per core")
        }
        if let functional = report.functional {
            lines.append("functional: \(functional.passed ? "matches" : "DIFFERS FROM") the dense reference product; max |error| \(String(format: "%.3g", functional.maxError)) (tolerance \(String(format: "%.3g", functional.tolerance)))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
