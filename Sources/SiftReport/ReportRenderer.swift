import Foundation
import SiftSweep

/// Turns a report's sweep CSVs and manifest into what people read: Markdown tables, SVG
/// figures, `summary.md` and `index.html`. It reads only the tables and the manifest, so
/// a whole run, a single shard and a merge of shards are rendered by the same code.
public struct ReportRenderer {
    public let manifest: ReportManifest
    public let tables: [ReportSweep: CSVTable]

    public init(manifest: ReportManifest, tables: [ReportSweep: CSVTable]) {
        self.manifest = manifest
        self.tables = tables
    }

    /// A figure written as `file`, with its caption.
    public struct Figure: Sendable {
        public let file: String
        public let plot: LinePlot
        public let caption: String
    }

    /// Everything rendered, by section.
    public struct Section: Sendable {
        public let sweep: ReportSweep
        public let figures: [Figure]
        public let table: ReportTable
        public let notes: [String]
    }

    // MARK: machine lines

    /// The subtitle of CPU figures: the machine, or the machines when shards ran on several.
    var cpuLine: String {
        let machines = manifest.machines
        guard let first = machines.first else { return "machine unknown" }
        if machines.count == 1 { return first.shortLine + " · measured in this run" }
        return "measured on \(machines.count) machines (\(machines.map(\.cpuModel).joined(separator: "; "))) · each ratio within one machine"
    }

    var acceleratorLine: String {
        guard let accelerator = manifest.accelerator else { return "simulator unavailable" }
        return accelerator.shortLine + " · simulated in this run"
    }

    // MARK: sections

    public func sections() -> [Section] {
        var result: [Section] = []
        if let table = tables[.cpuNetworks] { result.append(cpuNetworkSection(table)) }
        if let table = tables[.acceleratorNetworks] { result.append(acceleratorNetworkSection(table)) }
        if let table = tables[.cpuProducts] { result.append(productSection(table, sweep: .cpuProducts)) }
        if let table = tables[.acceleratorProducts] { result.append(productSection(table, sweep: .acceleratorProducts)) }
        return result
    }

    /// Rows grouped by model, batch and sequence, in first-seen order.
    func networkGroups(_ table: CSVTable) -> [(label: String, slug: String, rows: [[String: String]])] {
        var order: [String] = []
        var groups: [String: [[String: String]]] = [:]
        for row in table.records {
            let key = "\(row["model"] ?? "")|\(row["batch"] ?? "")|\(row["sequence"] ?? "")"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row)
        }
        return order.map { key in
            let first = groups[key]![0]
            let sequence = first["sequence"] ?? ""
            let label = "\(first["model"] ?? "?"), batch \(first["batch"] ?? "?")" + (sequence.isEmpty ? "" : ", sequence \(sequence)")
            let slug = "\(first["model"] ?? "model")-b\(first["batch"] ?? "")" + (sequence.isEmpty ? "" : "-t\(sequence)")
            return (label, slug, groups[key]!)
        }
    }

    /// Series by transform and pattern (the dense baseline is the reference line).
    func relativeSeries(_ rows: [[String: String]], y column: String) -> [LinePlot.Series] {
        var order: [String] = []
        var points: [String: [LinePlot.Point]] = [:]
        for row in rows where !(row["transform"] == "dense" && row["pattern"] == "dense") {
            let name = NetworkPoint.seriesName(transform: row["transform"] ?? "", pattern: row["pattern"] ?? "")
            guard let x = Double(row["sparsity"] ?? ""), let y = Double(row[column] ?? "") else { continue }
            if points[name] == nil { order.append(name) }
            points[name, default: []].append(LinePlot.Point(x: x, y: y))
        }
        return order.map { LinePlot.Series(name: $0, points: points[$0]!) }
    }

    func cpuNetworkSection(_ table: CSVTable) -> Section {
        var figures: [Figure] = []
        for group in networkGroups(table) {
            let plot = LinePlot(
                title: "CPU inference latency relative to dense: \(group.label)",
                subtitle: cpuLine,
                xAxis: Axis(label: "sparsity s of the sparse layers", tickStyle: .percent),
                yAxis: Axis(label: "latency / dense network's latency", scale: .log, tickStyle: .times),
                series: relativeSeries(group.rows, y: "relative_latency"),
                references: [LinePlot.Reference(name: "dense = 1 (iso-FLOP ideal)", .horizontal(1))])
            figures.append(Figure(
                file: "cpu-relative-latency-\(group.slug).svg", plot: plot,
                caption: "Median batch latency of each Sparse-IFT network on our CPU runtime, divided by the dense network's, measured in the same run. Every member has the dense network's FLOPs, so a runtime that turned every skipped zero into saved time would sit on the dashed line at 1; above it, sparsity costs more than the FLOPs say."))
        }
        var rows = ReportTable(columns: [
            .init("model", .left), .init("transform", .left), .init("pattern", .left), .init("s"), .init("batch"),
            .init("FLOPs vs dense"), .init("items/s"), .init("median ms"), .init("p90 ms"), .init("latency vs dense"),
            .init("peak memory"), .init("dense drift"), .init("kernels", .left),
        ])
        for row in table.records {
            rows.append([row["model"] ?? "", row["transform"] ?? "", row["pattern"] ?? "", row["sparsity"] ?? "", row["batch"] ?? "",
                         Format.fixed(Double(row["flops_relative"] ?? ""), 3), Format.significant(Double(row["items_per_sec"] ?? "")),
                         Format.significant(Double(row["latency_ms_median"] ?? "")), Format.significant(Double(row["latency_ms_p90"] ?? "")),
                         Format.ratio(Double(row["relative_latency"] ?? "")), Format.bytes(Double(row["peak_memory_bytes"] ?? "")),
                         Format.fixed(Double(row["baseline_drift"] ?? ""), 3), row["kernels"] ?? ""])
        }
        return Section(sweep: .cpuNetworks, figures: figures, table: rows, notes: [
            "Dense drift: the dense network measured again after its group, over the first measurement. Far from 1.000, the machine changed during the group and its ratios are uncertain by about as much.",
            "Seeded Kaiming weights (as `sift weights` makes them); the runtime picks a kernel per layer by timing the candidates on the layer's shape.",
            "FLOPs vs dense counts the forward multiply-adds on nonzero weights, against the dense model's (SparseIFT accounting).",
        ])
    }

    func acceleratorNetworkSection(_ table: CSVTable) -> Section {
        var figures: [Figure] = []
        for group in networkGroups(table) {
            let plot = LinePlot(
                title: "Accelerator training-step time relative to dense: \(group.label)",
                subtitle: acceleratorLine,
                xAxis: Axis(label: "sparsity s of the sparse layers", tickStyle: .percent),
                yAxis: Axis(label: "step time / dense network's step time", scale: .log, tickStyle: .times),
                series: relativeSeries(group.rows, y: "relative_step_time"),
                references: [LinePlot.Reference(name: "dense = 1 (iso-FLOP ideal)", .horizontal(1))])
            figures.append(Figure(
                file: "accelerator-relative-step-\(group.slug).svg", plot: plot,
                caption: "Simulated time of one training step (forward, input gradient, weight gradient) of each Sparse-IFT network on the modelled dataflow accelerator, divided by the dense network's. The accelerator skips zero weights in hardware, so an iso-FLOP member ideally costs what the dense network costs (the dashed line); the gap is load imbalance, fabric and task overheads, weight I/O, and the work that does not shrink with sparsity."))
        }
        var rows = ReportTable(columns: [
            .init("model", .left), .init("transform", .left), .init("pattern", .left), .init("s"), .init("batch"),
            .init("FLOPs vs dense"), .init("step ms"), .init("samples/s"), .init("utilisation"), .init("step vs dense"),
            .init("cycles by cause", .left),
        ])
        for row in table.records {
            rows.append([row["model"] ?? "", row["transform"] ?? "", row["pattern"] ?? "", row["sparsity"] ?? "", row["batch"] ?? "",
                         Format.fixed(Double(row["flops_relative"] ?? ""), 3),
                         Format.significant(Double(row["step_seconds"] ?? "").map { $0 * 1000 }),
                         Format.significant(Double(row["samples_per_sec"] ?? "")), Format.percent(Double(row["utilisation"] ?? "")),
                         Format.ratio(Double(row["relative_step_time"] ?? "")), row["cycles_by_cause"] ?? ""])
        }
        return Section(sweep: .acceleratorNetworks, figures: figures, table: rows, notes: manifest.accelerator?.notes ?? [])
    }

    func productSection(_ table: CSVTable, sweep: ReportSweep) -> Section {
        let onCPU = sweep == .cpuProducts
        var shapes: [String] = []
        for row in table.records where !shapes.contains(row["shape"] ?? "") { shapes.append(row["shape"] ?? "") }
        var figures: [Figure] = []
        for shape in shapes {
            let rows = table.records.filter { $0["shape"] == shape && $0["pattern"] != "dense" }
            var order: [String] = []
            var points: [String: [LinePlot.Point]] = [:]
            for row in rows {
                let family = ProductPoint(shape: shape, m: 0, k: 0, n: 0, pattern: row["pattern"] ?? "", sparsity: 0).family
                let kernel = onCPU ? Self.formatName(row["format"] ?? "") : ""
                let name = kernel.isEmpty ? family : "\(family) (\(kernel))"
                guard let x = Double(row["sparsity"] ?? ""), let y = Double(row["speedup_vs_dense"] ?? "") else { continue }
                if points[name] == nil { order.append(name) }
                points[name, default: []].append(LinePlot.Point(x: x, y: y))
            }
            let dims = shape.split(separator: "x").map(String.init)
            let shapeText = dims.count == 3 ? "M=\(dims[0]), K=\(dims[1]), N=\(dims[2])" : shape
            let plot = LinePlot(
                title: onCPU ? "One product on the CPU: speedup vs our dense GEMM (\(shapeText))"
                    : "One product on the accelerator: speedup vs dense (\(shapeText))",
                subtitle: onCPU ? cpuLine : acceleratorLine,
                xAxis: Axis(label: "weight sparsity s", tickStyle: .percent),
                yAxis: Axis(label: onCPU ? "speedup over the dense kernel" : "speedup over the dense product (cycles)", scale: .log, tickStyle: .times),
                series: order.map { LinePlot.Series(name: $0, points: points[$0]!) },
                references: [LinePlot.Reference(name: "ideal 1/(1−s)", .curve({ 1 / (1 - $0) })),
                             LinePlot.Reference(name: "dense = 1", .horizontal(1))])
            figures.append(Figure(
                file: "product-speedup-\(onCPU ? "cpu" : "accelerator")-\(shape).svg", plot: plot,
                caption: onCPU
                    ? "Y (M×N) = W (M×K) · X (K×N) with W sparse in each pattern, timed on our kernels (CSR, N:M, BSR) against our dense GEMM on the same shape, ISA and threads in the same run, warm caches. The ideal 1/(1−s) is what skipping every zero would give; N:M points sit at the sparsity their pattern fixes."
                    : "The same product on the simulated accelerator: cycles of the dense product divided by the sparse product's. The ideal 1/(1−s) assumes every skipped zero saves its full share of time."))
        }
        var rows = onCPU
            ? ReportTable(columns: [.init("shape", .left), .init("format", .left), .init("pattern", .left), .init("s"), .init("time µs"),
                                    .init("GFLOP/s"), .init("% peak"), .init("speedup"), .init("ideal"), .init("of ideal"), .init("verified", .left)])
            : ReportTable(columns: [.init("shape", .left), .init("pattern", .left), .init("s"), .init("cycles"), .init("speedup"),
                                    .init("ideal"), .init("of ideal"), .init("cycles by cause", .left)])
        for row in table.records {
            let speedup = Double(row["speedup_vs_dense"] ?? "")
            let ideal = Double(row["ideal_speedup"] ?? "")
            let ofIdeal = Format.percent(speedup.flatMap { s in ideal.map { s / $0 } })
            if onCPU {
                rows.append([row["shape"] ?? "", row["format"] ?? "", row["pattern"] ?? "", row["sparsity"] ?? "",
                             Format.significant(Double(row["seconds"] ?? "").map { $0 * 1e6 }), Format.significant(Double(row["gflops"] ?? "")),
                             Format.fixed(Double(row["percent_of_peak"] ?? ""), 1), Format.ratio(speedup), Format.ratio(ideal), ofIdeal,
                             row["verified"] ?? ""])
            } else {
                rows.append([row["shape"] ?? "", row["pattern"] ?? "", row["sparsity"] ?? "", Format.significant(Double(row["cycles"] ?? "")),
                             Format.ratio(speedup), Format.ratio(ideal), ofIdeal, row["cycles_by_cause"] ?? ""])
            }
        }
        let notes = onCPU
            ? ["GFLOP/s counts only the FLOPs on stored nonzeros; % peak is of the FMA peak measured in this run. `verified` says the sparse kernel's output matched the dense kernel's on the same masked weights."]
            : (manifest.accelerator?.notes ?? [])
        return Section(sweep: sweep, figures: figures, table: rows, notes: notes)
    }

    static func formatName(_ format: String) -> String {
        switch format {
        case "csr": "CSR"
        case "nm": ""
        case "bsr": "BSR"
        default: format
        }
    }

    /// The report's headline, in the manner of the paper's Figure 5: CPU inference latency
    /// (measured) beside accelerator training-step time (simulated), relative to dense. The
    /// CPU panel shows the first CPU group; the accelerator panel the group whose dense step
    /// keeps the wafer busiest (highest utilisation): a network much smaller than the wafer
    /// spends its step streaming weights, and its panel would show the weight stream rather
    /// than the sparse compute the figure is about.
    public func headline() -> (file: String, figure: PanelFigure, caption: String)? {
        let cpuGroups = tables[.cpuNetworks].map(networkGroups) ?? []
        let acceleratorGroups = tables[.acceleratorNetworks].map(networkGroups) ?? []
        guard !cpuGroups.isEmpty || !acceleratorGroups.isEmpty else { return nil }
        let cpu = cpuGroups.first
        func denseUtilisation(_ group: (label: String, slug: String, rows: [[String: String]])) -> Double {
            group.rows.first { $0["transform"] == "dense" && Double($0["sparsity"] ?? "") == 0 }
                .flatMap { Double($0["utilisation"] ?? "") } ?? 0
        }
        let accelerator = acceleratorGroups.max { denseUtilisation($0) < denseUtilisation($1) }
        var panels: [LinePlot] = []
        if let cpu {
            var plot = LinePlot(
                title: "CPU inference (measured): \(cpu.label)", subtitle: cpuLine,
                xAxis: Axis(label: "sparsity s", tickStyle: .percent),
                yAxis: Axis(label: "latency relative to dense", scale: .log, tickStyle: .times),
                series: relativeSeries(cpu.rows, y: "relative_latency"),
                references: [LinePlot.Reference(name: "dense = 1", .horizontal(1))])
            plot.width = 700
            panels.append(plot)
        }
        if let accelerator {
            var plot = LinePlot(
                title: "Accelerator training (simulated): \(accelerator.label)", subtitle: acceleratorLine,
                xAxis: Axis(label: "sparsity s", tickStyle: .percent),
                yAxis: Axis(label: "step time relative to dense", scale: .log, tickStyle: .times),
                series: relativeSeries(accelerator.rows, y: "relative_step_time"),
                references: [LinePlot.Reference(name: "dense = 1", .horizontal(1))])
            plot.width = 700
            panels.append(plot)
        }
        let figure = PanelFigure(title: "What an iso-FLOP Sparse-IFT network costs, relative to the dense network (1× = the FLOPs' promise)", panels: panels)
        return ("figure5.svg", figure,
                "In the manner of the paper's Figure 5: the left panel is measured on this CPU with our runtime, the right panel simulated on the modelled dataflow accelerator, both relative to the dense network in the same run. Each member has the dense network's FLOPs (Sparse Wide's transformers also widen their dense attention, embeddings and output layer: see FLOPs vs dense in the tables); the dashed line is what perfect use of sparsity would give. The accelerator panel shows the network that keeps the wafer busiest; smaller ones spend their step streaming weights (their own figures are below).")
    }

    /// Groups whose dense network, measured again at the end, moved by more than 10%.
    public func driftWarnings() -> [String] {
        guard let table = tables[.cpuNetworks] else { return [] }
        return networkGroups(table).compactMap { group in
            guard let drift = group.rows.compactMap({ Double($0["baseline_drift"] ?? "") }).first, abs(drift - 1) > 0.1 else { return nil }
            return "CPU \(group.label): the dense network measured again at the end of its group took \(Format.fixed(drift, 2))x its first time; this group's ratios are uncertain by about \(Int((abs(drift - 1) * 100).rounded()))%."
        }
    }

    // MARK: summary

    /// The summary: for each network point, its FLOPs, the CPU's measured latency and the
    /// accelerator's simulated step time, relative to dense; then the single product.
    public func summaryTables() -> (networks: ReportTable, products: ReportTable) {
        var networks = ReportTable(columns: [
            .init("model", .left), .init("transform", .left), .init("pattern", .left), .init("s"),
            .init("batch CPU / accel."), .init("FLOPs vs dense"), .init("CPU latency vs dense"), .init("accel. step vs dense"),
        ])
        let cpu = tables[.cpuNetworks]?.records ?? []
        let accelerator = tables[.acceleratorNetworks]?.records ?? []
        func identity(_ row: [String: String]) -> String {
            "\(row["model"] ?? "")|\(row["transform"] ?? "")|\(row["pattern"] ?? "")|\(row["sparsity"] ?? "")"
        }
        var order: [String] = []
        var cpuByKey: [String: [String: String]] = [:], acceleratorByKey: [String: [String: String]] = [:]
        for row in cpu {
            let key = identity(row)
            if cpuByKey[key] == nil, acceleratorByKey[key] == nil { order.append(key) }
            cpuByKey[key] = row
        }
        for row in accelerator {
            let key = identity(row)
            if cpuByKey[key] == nil, acceleratorByKey[key] == nil { order.append(key) }
            acceleratorByKey[key] = row
        }
        for key in order {
            let any = cpuByKey[key] ?? acceleratorByKey[key]!
            func batch(_ row: [String: String]?) -> String {
                guard let row else { return "–" }
                let sequence = row["sequence"] ?? ""
                return (row["batch"] ?? "?") + (sequence.isEmpty ? "" : "×\(sequence)")
            }
            networks.append([any["model"] ?? "", any["transform"] ?? "", any["pattern"] ?? "", any["sparsity"] ?? "",
                             "\(batch(cpuByKey[key])) / \(batch(acceleratorByKey[key]))",
                             Format.fixed(Double(any["flops_relative"] ?? ""), 3),
                             Format.ratio(Double(cpuByKey[key]?["relative_latency"] ?? "")),
                             Format.ratio(Double(acceleratorByKey[key]?["relative_step_time"] ?? ""))])
        }
        var products = ReportTable(columns: [
            .init("shape", .left), .init("pattern", .left), .init("s"), .init("ideal"),
            .init("CPU speedup"), .init("accel. speedup"),
        ])
        let cpuProducts = tables[.cpuProducts]?.records ?? []
        let acceleratorProducts = tables[.acceleratorProducts]?.records ?? []
        var productOrder: [String] = []
        var cpuProduct: [String: [String: String]] = [:], acceleratorProduct: [String: [String: String]] = [:]
        func productKey(_ row: [String: String]) -> String { "\(row["shape"] ?? "")|\(row["pattern"] ?? "")|\(row["sparsity"] ?? "")" }
        for row in cpuProducts where row["pattern"] != "dense" {
            if cpuProduct[productKey(row)] == nil { productOrder.append(productKey(row)) }
            cpuProduct[productKey(row)] = row
        }
        for row in acceleratorProducts where row["pattern"] != "dense" {
            if cpuProduct[productKey(row)] == nil, acceleratorProduct[productKey(row)] == nil { productOrder.append(productKey(row)) }
            acceleratorProduct[productKey(row)] = row
        }
        for key in productOrder {
            let any = cpuProduct[key] ?? acceleratorProduct[key]!
            products.append([any["shape"] ?? "", any["pattern"] ?? "", any["sparsity"] ?? "", Format.ratio(Double(any["ideal_speedup"] ?? "")),
                             Format.ratio(Double(cpuProduct[key]?["speedup_vs_dense"] ?? "")),
                             Format.ratio(Double(acceleratorProduct[key]?["speedup_vs_dense"] ?? ""))])
        }
        return (networks, products)
    }

    /// The text printed at the end of a run (and saved as summary.md).
    public func summaryText() -> String {
        var lines: [String] = []
        lines.append("# sift report: summary")
        lines.append("")
        lines.append("Plan: \(manifest.plan.name). CPU: \(cpuLine).")
        if manifest.accelerator != nil { lines.append("Accelerator: \(acceleratorLine).") }
        for missing in manifest.missing { lines.append("Not in this report: \(missing.what): \(missing.reason).") }
        for warning in driftWarnings() { lines.append("Warning: \(warning)") }
        let (networks, products) = summaryTables()
        if !networks.isEmpty {
            lines.append("")
            lines.append("Whole networks, relative to the dense network (1.00× = iso-FLOP ideal; CPU measured, accelerator simulated):")
            lines.append("")
            lines.append(networks.markdown())
        }
        if !products.isEmpty {
            lines.append("Single product, speedup over dense (ideal 1/(1-s)):")
            lines.append("")
            lines.append(products.markdown())
        }
        return lines.joined(separator: "\n")
    }
}
