import Foundation
import SiftSweep
import SparseIFT
import SparseKernels

/// The four sweeps of a report, each a mergeable CSV (SiftSweep): the CPU networks
/// (measured), the accelerator networks (simulated), the single product on the CPU
/// (measured) and on the accelerator (simulated).
public enum ReportSweep: String, CaseIterable, Sendable, Codable {
    case cpuNetworks = "cpu-networks"
    case acceleratorNetworks = "accelerator-networks"
    case cpuProducts = "cpu-products"
    case acceleratorProducts = "accelerator-products"

    public var fileName: String { rawValue + ".csv" }

    /// The sweep's own columns (the provenance columns follow).
    public var columns: [String] {
        switch self {
        case .cpuNetworks:
            ["model", "transform", "sparsity", "pattern", "batch", "sequence", "body_sparsity", "flops_relative",
             "params_relative", "isa", "threads",
             "items_per_sec", "latency_ms_median", "latency_ms_p90", "iterations", "relative_latency", "peak_memory_bytes", "kernels",
             "baseline_drift"]
        case .acceleratorNetworks:
            ["model", "transform", "sparsity", "pattern", "batch", "sequence", "body_sparsity", "flops_relative",
             "config", "mode", "execution",
             "step_seconds", "samples_per_sec", "cycles", "utilisation", "relative_step_time", "cycles_by_cause", "sim_wall_seconds"]
        case .cpuProducts:
            ["shape", "M", "K", "N", "format", "pattern", "sparsity", "nonzeros", "ideal_speedup", "isa", "threads",
             "seconds", "gflops", "percent_of_peak", "speedup_vs_dense", "verified"]
        case .acceleratorProducts:
            ["shape", "M", "K", "N", "pattern", "sparsity", "ideal_speedup", "config", "mode",
             "cycles", "seconds", "speedup_vs_dense", "cycles_by_cause", "sim_wall_seconds"]
        }
    }

    /// Columns that differ between two runs of the same point: timings and what follows
    /// from them. Simulated cycles are deterministic and are not among them; the
    /// simulator's own wall-clock time is.
    public var measuredColumns: Set<String> {
        switch self {
        case .cpuNetworks:
            ["items_per_sec", "latency_ms_median", "latency_ms_p90", "iterations", "relative_latency", "peak_memory_bytes", "kernels",
             "baseline_drift"]
        case .acceleratorNetworks, .acceleratorProducts:
            ["sim_wall_seconds"]
        case .cpuProducts:
            ["seconds", "gflops", "percent_of_peak", "speedup_vs_dense", "verified"]
        }
    }

    public var title: String {
        switch self {
        case .cpuNetworks: "CPU inference, whole networks (measured)"
        case .acceleratorNetworks: "Accelerator training steps, whole networks (simulated)"
        case .cpuProducts: "Single product on the CPU (measured)"
        case .acceleratorProducts: "Single product on the accelerator (simulated)"
        }
    }
}

/// Shared cell formatting for the CSVs: full precision for measurements (`%.6g` is
/// plenty for timings), the plain Swift description for configuration values.
enum Cell {
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "nan" }
        return String(format: "%.6g", value)
    }
    static func sparsity(_ value: Double) -> String { String(value) }
    static func causes(_ causes: [(cause: String, cycles: Double)]) -> String {
        causes.map { "\($0.cause)=\(String(format: "%.0f", $0.cycles))" }.joined(separator: ";")
    }
}

/// Accounting facts of a network point that every sweep row carries: deterministic,
/// from SparseIFT, so they also check that two shards built the same network.
struct NetworkFacts {
    let bodySparsity: Double
    let flopsRelative: Double
    let paramsRelative: Double

    init(_ transformed: TransformedNetwork) {
        let account = Accounting.account(transformed.network)
        let dense = Accounting.account(transformed.dense)
        bodySparsity = transformed.sparsity
        flopsRelative = Double(account.effectiveMACs) / Double(max(1, dense.macs))
        paramsRelative = Double(account.nonzeroParams) / Double(max(1, dense.nonzeroParams))
    }
}

/// Runs the sweeps for one shard.
public struct SweepRunner {
    public var shard: Shard
    public var options: ExecutionOptions
    public var progress: ProgressReporter

    public init(shard: Shard, options: ExecutionOptions, progress: ProgressReporter) {
        self.shard = shard
        self.options = options
        self.progress = progress
    }

    // MARK: CPU networks

    /// Measures the shard's network points; each point's latency is divided by its dense
    /// network's, measured earlier in this run. The dense network is measured again at the
    /// end of its group: `baseline_drift` (second over first) shows how much the machine
    /// changed while the group ran (a busy neighbour, thermal limits), so a reader knows how
    /// far to trust the ratios.
    public func cpuNetworks(_ plan: SweepPlan<NetworkPoint>, backend: CPURuntimeBackend, seconds: Double) throws -> CSVTable {
        let work = plan.work(for: shard)
        let baselines = work.filter { item in item.point.isBaseline && work.contains { $0.point.baselineKey == item.point.key } }
        progress.phase("\(ReportSweep.cpuNetworks.title): \(work.count) points + \(baselines.count) dense re-measured, \(backend.name)")
        var table = try plan.run(shard: shard, columns: ReportSweep.cpuNetworks.columns, measure: { point, baseline in
            let network = try point.build()
            let facts = NetworkFacts(network)
            let result = try backend.measure(point, network: network, options: options, seconds: seconds)
            let baselineLatency = baseline.flatMap { Double($0["latency_ms_median"] ?? "") }
            let latencyMs = result.medianLatencySeconds * 1000
            let relative = baselineLatency.map { latencyMs / $0 } ?? 1
            let versus = point.isBaseline ? "(dense)" : "\(Format.ratio(relative)) vs dense"
            progress.finished(String(format: "%.1f items/s, median %.2f ms, ", result.itemsPerSecond, latencyMs) + versus)
            return [
                "model": point.model, "transform": point.transform, "sparsity": Cell.sparsity(point.sparsity),
                "pattern": point.pattern, "batch": String(point.batch), "sequence": point.sequence.map(String.init) ?? "",
                "body_sparsity": Cell.number(facts.bodySparsity), "flops_relative": Cell.number(facts.flopsRelative),
                "params_relative": Cell.number(facts.paramsRelative), "isa": options.isa.rawValue, "threads": String(options.threads),
                "items_per_sec": Cell.number(result.itemsPerSecond), "latency_ms_median": Cell.number(latencyMs),
                "latency_ms_p90": Cell.number(result.p90LatencySeconds * 1000), "iterations": String(result.iterations),
                "relative_latency": Cell.number(relative), "peak_memory_bytes": String(result.peakMemoryBytes),
                "kernels": result.kernels, "baseline_drift": "",
            ]
        }, progress: { done, total, point in
            progress.step(done, of: total, "cpu \(point.model) \(point.transform) s=\(point.sparsity) \(point.pattern) batch \(point.batch)")
        })
        // The dense networks again, then the drift into every row of their group.
        let keys = try table.column(SweepProvenance.point).map { Int($0) ?? -1 }
        for (number, item) in baselines.enumerated() {
            progress.step(number, of: baselines.count, "cpu \(item.point.model) dense again (drift check)")
            let result = try backend.measure(item.point, network: try item.point.build(), options: options, seconds: seconds)
            guard let row = keys.firstIndex(of: item.position),
                  let before = Double(table.rows[row][table.columnIndex("latency_ms_median")!]), before > 0 else { continue }
            let drift = result.medianLatencySeconds * 1000 / before
            progress.finished(String(format: "median %.2f ms, drift x%.3f", result.medianLatencySeconds * 1000, drift))
            for (index, position) in keys.enumerated() where position == item.position || plan.points[position].baselineKey == item.point.key {
                try table.set(row: index, column: "baseline_drift", to: Cell.number(drift))
            }
        }
        return table
    }

    // MARK: accelerator networks

    public func acceleratorNetworks(_ plan: SweepPlan<NetworkPoint>, backend: AcceleratorBackend) throws -> CSVTable {
        let config = backend.description
        progress.phase("\(ReportSweep.acceleratorNetworks.title): \(plan.work(for: shard).count) points, \(config.shortLine)")
        let clock = ContinuousClock()
        return try plan.run(shard: shard, columns: ReportSweep.acceleratorNetworks.columns, measure: { point, baseline in
            let network = try point.build()
            let facts = NetworkFacts(network)
            let started = clock.now
            let step = try backend.simulateStep(point, network: network)
            let simSeconds = ProgressReporter.seconds(clock.now - started)
            let baselineStep = baseline.flatMap { Double($0["step_seconds"] ?? "") }
            let relative = baselineStep.map { step.stepSeconds / $0 } ?? 1
            progress.finished(String(format: "step %.4g ms simulated, ", step.stepSeconds * 1000)
                              + (point.isBaseline ? "(dense)" : "\(Format.ratio(relative)) vs dense"))
            return [
                "model": point.model, "transform": point.transform, "sparsity": Cell.sparsity(point.sparsity),
                "pattern": point.pattern, "batch": String(point.batch), "sequence": point.sequence.map(String.init) ?? "",
                "body_sparsity": Cell.number(facts.bodySparsity), "flops_relative": Cell.number(facts.flopsRelative),
                "config": config.name, "mode": config.mode, "execution": config.execution,
                "step_seconds": Cell.number(step.stepSeconds), "samples_per_sec": Cell.number(step.samplesPerSecond),
                "cycles": Cell.number(step.cycles), "utilisation": Cell.number(step.utilisation),
                "relative_step_time": Cell.number(relative), "cycles_by_cause": Cell.causes(step.cyclesByCause),
                "sim_wall_seconds": Cell.number(simSeconds),
            ]
        }, progress: { done, total, point in
            progress.step(done, of: total, "accelerator \(point.model) \(point.transform) s=\(point.sparsity) \(point.pattern) batch \(point.batch)")
        })
    }

    // MARK: single product, accelerator

    public func acceleratorProducts(_ plan: SweepPlan<ProductPoint>, backend: AcceleratorBackend) throws -> CSVTable {
        let config = backend.description
        progress.phase("\(ReportSweep.acceleratorProducts.title): \(plan.work(for: shard).count) points, \(config.shortLine)")
        let clock = ContinuousClock()
        return try plan.run(shard: shard, columns: ReportSweep.acceleratorProducts.columns, measure: { point, baseline in
            let started = clock.now
            let product = try backend.simulateProduct(point)
            let simSeconds = ProgressReporter.seconds(clock.now - started)
            let baselineCycles = baseline.flatMap { Double($0["cycles"] ?? "") }
            let speedup = baselineCycles.map { $0 / product.cycles } ?? 1
            progress.finished(String(format: "%.0f cycles, ", product.cycles) + "\(Format.ratio(speedup)) vs dense (ideal \(Format.ratio(point.idealSpeedup)))")
            return [
                "shape": point.shape, "M": String(point.m), "K": String(point.k), "N": String(point.n),
                "pattern": point.pattern, "sparsity": Cell.sparsity(point.sparsity), "ideal_speedup": Cell.number(point.idealSpeedup),
                "config": config.name, "mode": config.mode,
                "cycles": Cell.number(product.cycles), "seconds": Cell.number(product.seconds),
                "speedup_vs_dense": Cell.number(speedup), "cycles_by_cause": Cell.causes(product.cyclesByCause),
                "sim_wall_seconds": Cell.number(simSeconds),
            ]
        }, progress: { done, total, point in
            progress.step(done, of: total, "accelerator product \(point.shape) \(point.pattern) s=\(point.sparsity)")
        })
    }

    // MARK: single product, CPU

    /// Measures the shard's product points with the kernel benchmark (`sift kernels
    /// bench`'s code): one benchmark run per shape, so every sparse kernel is timed against
    /// the dense GEMM on the same shape, ISA and threads, their samples interleaved.
    public func cpuProducts(_ plan: SweepPlan<ProductPoint>) throws -> CSVTable {
        let work = plan.work(for: shard)
        progress.phase("\(ReportSweep.cpuProducts.title): \(work.count) points, our kernels, \(options.isa) × \(options.threads) threads")
        var table = try CSVTable(header: ReportSweep.cpuProducts.columns + SweepProvenance.all)
        let peak = (0..<3).map { _ in Machine.measuredPeakGFLOPS(isa: options.isa, threads: options.threads) }.max() ?? 0
        guard peak > 0, peak.isFinite else {
            throw ReportError.backendFailed("the FMA peak probe measured \(peak) GFLOP/s")
        }
        var shapes: [String] = []
        for item in work where !shapes.contains(item.point.shape) { shapes.append(item.point.shape) }
        var done = 0
        for shape in shapes {
            let items = work.filter { $0.point.shape == shape }
            let first = items[0].point
            var benchmark = KernelBenchmark(options: options)
            benchmark.shapes = [KernelBenchmark.Shape(name: shape, m: first.m, k: first.k, n: first.n)]
            let sparse = items.map(\.point).filter { !$0.isBaseline }
            var formats: [KernelBenchmark.Format] = [.dense]
            var sparsities: [Double] = []
            var nm: [SparsityPattern] = []
            var blocks: [SparsityPattern] = []
            for point in sparse {
                guard let pattern = try Self.kernelPattern(point.pattern) else { continue }
                switch pattern {
                case .unstructured:
                    if !formats.contains(.csr) { formats.append(.csr) }
                    if !sparsities.contains(point.sparsity) { sparsities.append(point.sparsity) }
                case .nOfM:
                    if !formats.contains(.nm) { formats.append(.nm) }
                    if !nm.contains(pattern) { nm.append(pattern) }
                case .block:
                    if !formats.contains(.bsr) { formats.append(.bsr) }
                    if !blocks.contains(pattern) { blocks.append(pattern) }
                    if !sparsities.contains(point.sparsity) { sparsities.append(point.sparsity) }
                }
            }
            benchmark.formats = formats
            benchmark.sparsities = sparsities.isEmpty ? [0.5] : sparsities
            benchmark.nmPatterns = nm
            benchmark.blockPatterns = blocks
            // Every sparse kernel timed sample by sample against the dense one: a single
            // dense measurement taken first made every speedup of one run drift together
            // (one run on a quiet machine measured dense at half its speed and printed
            // speedups above the ideal).
            benchmark.paired = true
            progress.step(done, of: work.count, "cpu product \(shape): dense + \(sparse.count) sparse kernels")
            let results = try benchmark.run(peakGFLOPS: peak)
            done += items.count
            var byKey: [String: KernelBenchmark.Result] = [:]
            for result in results {
                let pattern = result.format == "dense" ? "dense" : result.pattern
                let key = ProductPoint(shape: shape, m: first.m, k: first.k, n: first.n, pattern: pattern, sparsity: result.sparsity).key
                byKey[key] = result
            }
            for item in items {
                guard let result = byKey[item.point.key] else {
                    throw ReportError.backendFailed("the kernel benchmark measured no \(item.point.pattern) kernel at s = \(item.point.sparsity) on \(shape)")
                }
                var cells: [String: String] = [
                    "shape": shape, "M": String(item.point.m), "K": String(item.point.k), "N": String(item.point.n),
                    "format": result.format, "pattern": item.point.pattern, "sparsity": Cell.sparsity(item.point.sparsity),
                    "nonzeros": String(result.nonzeros), "ideal_speedup": Cell.number(item.point.idealSpeedup),
                    "isa": options.isa.rawValue, "threads": String(options.threads),
                    "seconds": Cell.number(result.seconds), "gflops": Cell.number(result.gflops),
                    "percent_of_peak": Cell.number(result.percentOfPeak), "speedup_vs_dense": Cell.number(result.speedupVsDense),
                    "verified": result.verified ? "yes" : "NO",
                ]
                for (name, value) in plan.provenance(position: item.position, shard: shard) { cells[name] = value }
                try table.append(cells)
            }
            let speedups = items.filter { !$0.point.isBaseline }.compactMap { byKey[$0.point.key]?.speedupVsDense }
            progress.finished("dense \(Format.fixed(results.first?.gflops, 1)) GFLOP/s; sparse speedups \(speedups.map { Format.ratio($0) }.joined(separator: " "))")
        }
        return table
    }

    /// The kernel pattern of a product point's pattern text.
    /// The pattern of a product point (nil for the dense baseline), refused when no
    /// kernel of ours runs it (N:M needs M <= 16; block edges must be 1, 2, 4, ..., 32).
    static func kernelPattern(_ text: String) throws -> SparsityPattern? {
        if text == "dense" { return nil }
        let pattern = try SparsityPattern(parsing: text)
        try WeightFormat(for: pattern).validateParameters()
        return pattern
    }
}
