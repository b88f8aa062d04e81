import SiftSweep
import SparseIFT

/// Sweeps over transformations × sparsities × patterns (of a network or of one product),
/// one self-describing row each, sharded and merged with `SiftSweep`: a row carries
/// everything that produced it (model, shape, batch, execution, mode, config and its
/// digest, seed) plus the sweep's provenance columns, so shards merge under one header.
/// Every ratio is against the dense point simulated in the same run (the baseline a shard
/// runs beside the points it owns).
public enum Sweep {
    public static let formatVersion = 1

    /// The sweep's own columns (SiftSweep appends `point, points, shard, sweep_id`).
    public static let columns = [
        "format_version", "kind", "model", "transform", "requested_sparsity", "sparsity", "pattern", "base", "m", "k", "n",
        "batch_size", "sequence_length", "execution", "mode", "config", "config_digest", "seed", "activation_sparsity",
        "cycles", "seconds", "step_seconds", "samples_per_second", "dense_cycles", "speedup_vs_dense", "ideal_speedup",
        "utilisation", "training_macs",
    ] + Breakdown().named.map(\.0) + ["error"]

    /// The simulated (measured) columns: everything a run computes rather than is given.
    public static let measuredColumns = [
        "sparsity", "base", "cycles", "seconds", "step_seconds", "samples_per_second", "dense_cycles", "speedup_vs_dense",
        "ideal_speedup", "utilisation", "training_macs",
    ] + Breakdown().named.map(\.0) + ["error"]

    /// One point: a transformation, a sparsity and a pattern; the dense point is the baseline.
    public struct Point: SweepPoint, Hashable {
        public let transform: TransformKind
        public let sparsity: Double
        public let pattern: SparsityPattern
        let prefix: String

        public var isBaseline: Bool { transform == .dense && sparsity == 0 }
        public var key: String { "\(prefix)|\(transform.rawValue)|\(ReportText.number(sparsity))|\(pattern)" }
        public var baselineKey: String? { isBaseline ? nil : "\(prefix)|dense|0|unstructured" }
    }

    /// The dense baseline first, then the grid in a fixed order (transform, pattern,
    /// sparsity); an N:M pattern fixes its own sparsity, so it appears once per transform.
    public static func points(transforms: [TransformKind], sparsities: [Double], patterns: [SparsityPattern],
                              prefix: String) -> [Point] {
        var result = [Point(transform: .dense, sparsity: 0, pattern: .unstructured, prefix: prefix)]
        func add(_ point: Point) {
            if !result.contains(where: { $0.key == point.key }) { result.append(point) }
        }
        for transform in transforms {
            for pattern in patterns {
                if let fixed = pattern.fixedSparsity {
                    add(Point(transform: transform, sparsity: fixed, pattern: pattern, prefix: prefix))
                    continue
                }
                for sparsity in sparsities {
                    add(Point(transform: transform, sparsity: sparsity, pattern: sparsity == 0 ? .unstructured : pattern, prefix: prefix))
                }
            }
        }
        return result
    }

    /// FNV-1a 64 of the resolved configuration, so rows name the exact machine they ran on.
    public static func digest(_ config: ResolvedConfig) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in config.json(resolution: false).utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(hash, radix: 16)
    }

    static func breakdownValues(_ breakdown: Breakdown) -> [String: String] {
        Dictionary(uniqueKeysWithValues: breakdown.named.map { ($0.0, ReportText.number($0.1)) })
    }

    /// Every column present: measured ones empty until filled.
    static func blank(_ given: [String: String]) -> [String: String] {
        var values = Dictionary(uniqueKeysWithValues: columns.map { ($0, "") })
        values.merge(given) { _, new in new }
        return values
    }

    /// Ratios against the baseline row measured in this run.
    static func ratios(_ values: inout [String: String], baseline: [String: String]?) {
        let own = Double(values["cycles"] ?? "")
        let ownMACs = Double(values["training_macs"] ?? "")
        let denseCycles = baseline.flatMap { Double($0["cycles"] ?? "") } ?? own
        let denseMACs = baseline.flatMap { Double($0["training_macs"] ?? "") } ?? ownMACs
        guard let own, let denseCycles, own > 0 else { return }
        values["dense_cycles"] = ReportText.number(denseCycles)
        values["speedup_vs_dense"] = String(format: "%.6f", denseCycles / own)
        if let ownMACs, let denseMACs, ownMACs > 0 { values["ideal_speedup"] = String(format: "%.6f", denseMACs / ownMACs) }
    }

    static func run(_ points: [Point], shard: Shard, measure: (Point, [String: String]?) throws -> [String: String],
                    progress: (@Sendable (String) -> Void)?) throws -> String {
        do {
            let plan = try SweepPlan(points: points)
            let table = try plan.run(shard: shard, columns: columns, measure: measure) { done, total, point in
                progress?("sweep [\(done + 1)/\(total)] \(point.transform.rawValue) s=\(ReportText.number(point.sparsity)) \(point.pattern)")
            }
            return table.text()
        } catch let error as SweepError {
            throw SimulatorError.invalidArgument("sweep: \(error)")
        }
    }

    /// A network sweep: every point transformed from `dense`.
    public static func network(model: String, dense: Network, transforms: [TransformKind], sparsities: [Double],
                               patterns: [SparsityPattern], batch: Int, execution: Execution, mode: SimulationMode,
                               activation: ActivationSparsitySetting, seed: UInt64, options: TransformOptions,
                               machine: DataflowMachine, shard: Shard = .whole,
                               progress: (@Sendable (String) -> Void)?) throws -> String {
        let digest = digest(machine.config.resolved)
        let sequence = dense.metadata.transformer != nil ? String(dense.input.shape.first ?? 0) : ""
        let prefix = "\(model)|b\(batch)|t\(sequence)|\(execution.rawValue)|\(mode.rawValue)|\(activationLabel(activation))"
        let points = points(transforms: transforms, sparsities: sparsities, patterns: patterns, prefix: prefix)
        return try run(points, shard: shard, measure: { point, baseline in
            var values = blank([
                "format_version": String(formatVersion), "kind": "network", "model": model, "transform": point.transform.rawValue,
                "requested_sparsity": ReportText.number(point.sparsity), "pattern": point.pattern.description,
                "batch_size": String(batch), "execution": execution.rawValue, "mode": mode.rawValue,
                "config": machine.config.name, "config_digest": digest, "seed": String(seed),
                "activation_sparsity": activationLabel(activation), "sequence_length": sequence,
            ])
            do {
                var transformOptions = options
                transformOptions.pattern = point.pattern
                let transformed = try SparseIFT.transform(dense, kind: point.transform, sparsity: point.sparsity, options: transformOptions)
                let request = NetworkRequest(model: model, transformed: transformed, batch: batch, execution: execution, mode: mode,
                                             activationSparsity: activation, seed: seed, compareWithDense: false)
                let report = try NetworkSimulation.run(request, machine: machine).report
                values["sparsity"] = ReportText.number(report.sparsity)
                values["pattern"] = report.pattern
                values["base"] = String(report.base)
                values["cycles"] = ReportText.number(report.cycles)
                values["seconds"] = String(format: "%.9g", report.seconds)
                values["step_seconds"] = String(format: "%.9g", report.stepSeconds)
                values["samples_per_second"] = String(format: "%.9g", report.samplesPerSecond)
                values["utilisation"] = String(format: "%.6f", report.utilisation)
                values["training_macs"] = ReportText.number(report.trainingMACs)
                values.merge(breakdownValues(report.breakdown)) { _, new in new }
                ratios(&values, baseline: baseline)
            } catch let error as SparseIFTError {
                values["error"] = error.description
            } catch let error as SimulatorError {
                values["error"] = error.description
            }
            return values
        }, progress: progress)
    }

    /// A single-product sweep.
    public static func matmul(m: Int, k: Int, n: Int, sparsities: [Double], patterns: [SparsityPattern], execution: Execution,
                              mode: SimulationMode, activationSparsity: Double, seed: UInt64, machine: DataflowMachine,
                              shard: Shard = .whole, progress: (@Sendable (String) -> Void)?) throws -> String {
        let digest = digest(machine.config.resolved)
        let prefix = "matmul|\(m)x\(k)x\(n)|\(execution.rawValue)|\(mode.rawValue)|a\(ReportText.number(activationSparsity))"
        let points = points(transforms: [.dense], sparsities: sparsities, patterns: patterns, prefix: prefix)
        return try run(points, shard: shard, measure: { point, baseline in
            var values = blank([
                "format_version": String(formatVersion), "kind": "matmul", "transform": "", "m": String(m), "k": String(k),
                "n": String(n), "requested_sparsity": ReportText.number(point.sparsity), "pattern": point.pattern.description,
                "execution": execution.rawValue, "mode": mode.rawValue, "config": machine.config.name, "config_digest": digest,
                "seed": String(seed), "activation_sparsity": ReportText.number(activationSparsity), "batch_size": "1",
            ])
            do {
                // The product alone: its dense twin is the sweep's baseline point.
                let report = try MatmulSimulation.run(
                    MatmulRequest(m: m, k: k, n: n, sparsity: point.sparsity, pattern: point.pattern, mode: mode,
                                  execution: execution, activationSparsity: activationSparsity, seed: seed),
                    machine: machine, compareWithDense: false)
                values["sparsity"] = ReportText.number(report.sparsity)
                values["pattern"] = report.pattern
                values["cycles"] = ReportText.number(report.cycles)
                values["seconds"] = String(format: "%.9g", report.seconds)
                values["step_seconds"] = String(format: "%.9g", report.seconds)
                values["samples_per_second"] = String(format: "%.9g", 1 / report.seconds)
                values["utilisation"] = String(format: "%.6f", report.utilisation)
                values["training_macs"] = ReportText.number(report.products.reduce(0) { $0 + $1.effectiveMACs })
                values.merge(breakdownValues(report.breakdown)) { _, new in new }
                ratios(&values, baseline: baseline)
            } catch let error as SimulatorError {
                values["error"] = error.description
            }
            return values
        }, progress: progress)
    }

    static func activationLabel(_ setting: ActivationSparsitySetting) -> String {
        switch setting {
        case .fixed(let value): ReportText.number(value)
        case .measured: "measured"
        }
    }
}
