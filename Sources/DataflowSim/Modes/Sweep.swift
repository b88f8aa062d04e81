import SparseIFT

/// Sweeps over transformations × sparsities × patterns (of a network or of one product),
/// one self-describing CSV row each: a row carries everything that produced it (model,
/// shape, batch, execution, mode, config and its digest, seed), so rows from separate runs
/// or shards can be concatenated under one header.
public enum Sweep {
    public static let formatVersion = 1

    public static let columns = [
        "format_version", "kind", "model", "transform", "requested_sparsity", "sparsity", "pattern", "base", "m", "k", "n",
        "batch_size", "sequence_length", "execution", "mode", "config", "config_digest", "seed", "activation_sparsity",
        "cycles", "seconds", "step_seconds", "samples_per_second", "dense_cycles", "speedup_vs_dense", "ideal_speedup",
        "utilisation", "training_macs",
    ] + Breakdown().named.map(\.0) + ["error"]

    /// One point of a sweep.
    public struct Point: Sendable, Hashable {
        public let transform: TransformKind
        public let sparsity: Double
        public let pattern: SparsityPattern
        public init(transform: TransformKind, sparsity: Double, pattern: SparsityPattern) {
            self.transform = transform
            self.sparsity = sparsity
            self.pattern = pattern
        }
    }

    /// The points in a fixed order (transform, then sparsity, then pattern); an N:M pattern
    /// fixes its own sparsity, so it appears once per transform.
    public static func points(transforms: [TransformKind], sparsities: [Double], patterns: [SparsityPattern]) -> [Point] {
        var result: [Point] = []
        for transform in transforms {
            for pattern in patterns {
                if let fixed = pattern.fixedSparsity {
                    result.append(Point(transform: transform, sparsity: fixed, pattern: pattern))
                    continue
                }
                for sparsity in sparsities { result.append(Point(transform: transform, sparsity: sparsity, pattern: pattern)) }
            }
        }
        return result
    }

    /// FNV-1a 64 of the resolved configuration, so rows name the exact machine they ran on.
    public static func digest(_ config: ResolvedConfig) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in config.json().utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(hash, radix: 16)
    }

    static func row(_ values: [String: String]) -> String {
        columns.map { ReportText.cell(values[$0] ?? "") }.joined(separator: ",")
    }

    static func breakdownValues(_ breakdown: Breakdown) -> [String: String] {
        Dictionary(uniqueKeysWithValues: breakdown.named.map { ($0.0, ReportText.number($0.1)) })
    }

    /// A network sweep: every point transformed from `dense`, the dense step simulated once.
    public static func network(model: String, dense: Network, points: [Point], batch: Int, execution: Execution,
                               mode: SimulationMode, activation: ActivationSparsitySetting, seed: UInt64,
                               options: TransformOptions, machine: Machine,
                               progress: (@Sendable (String) -> Void)?) throws -> [String] {
        let digest = digest(machine.config.resolved)
        var baseline: StepOutcome?
        var lines: [String] = []
        for (index, point) in points.enumerated() {
            progress?("sweep [\(index + 1)/\(points.count)] \(point.transform.rawValue) s=\(point.sparsity) \(point.pattern)")
            var values: [String: String] = [
                "format_version": String(formatVersion), "kind": "network", "model": model, "transform": point.transform.rawValue,
                "requested_sparsity": ReportText.number(point.sparsity), "pattern": point.pattern.description,
                "batch_size": String(batch), "execution": execution.rawValue, "mode": mode.rawValue,
                "config": machine.config.name, "config_digest": digest, "seed": String(seed),
                "activation_sparsity": activationLabel(activation),
                "sequence_length": dense.metadata.transformer != nil ? String(dense.input.shape.first ?? 0) : "",
            ]
            do {
                var transformOptions = options
                transformOptions.pattern = point.pattern
                let transformed = try SparseIFT.transform(dense, kind: point.transform, sparsity: point.sparsity, options: transformOptions)
                let request = NetworkRequest(model: model, transformed: transformed, batch: batch, execution: execution, mode: mode,
                                             activationSparsity: activation, seed: seed, progress: nil)
                let report = try NetworkSimulation.run(request, machine: machine, denseBaseline: &baseline).report
                values["sparsity"] = ReportText.number(report.sparsity)
                values["pattern"] = report.pattern
                values["base"] = String(report.base)
                values["cycles"] = ReportText.number(report.cycles)
                values["seconds"] = String(format: "%.9g", report.seconds)
                values["step_seconds"] = String(format: "%.9g", report.stepSeconds)
                values["samples_per_second"] = String(format: "%.9g", report.samplesPerSecond)
                values["dense_cycles"] = report.dense.map { ReportText.number($0.cycles) } ?? ""
                values["speedup_vs_dense"] = report.speedupVsDense.map { String(format: "%.6f", $0) } ?? ""
                values["ideal_speedup"] = report.idealSpeedup.map { String(format: "%.6f", $0) } ?? ""
                values["utilisation"] = String(format: "%.6f", report.utilisation)
                values["training_macs"] = ReportText.number(report.trainingMACs)
                values.merge(breakdownValues(report.breakdown)) { _, new in new }
            } catch let error as SparseIFTError {
                values["error"] = error.description
            } catch let error as SimulatorError {
                values["error"] = error.description
            }
            lines.append(row(values))
        }
        return lines
    }

    /// A single-product sweep.
    public static func matmul(m: Int, k: Int, n: Int, points: [Point], execution: Execution, mode: SimulationMode,
                              activationSparsity: Double, seed: UInt64, machine: Machine,
                              progress: (@Sendable (String) -> Void)?) throws -> [String] {
        let digest = digest(machine.config.resolved)
        var lines: [String] = []
        for (index, point) in points.enumerated() {
            progress?("sweep [\(index + 1)/\(points.count)] s=\(point.sparsity) \(point.pattern)")
            var values: [String: String] = [
                "format_version": String(formatVersion), "kind": "matmul", "transform": "", "m": String(m), "k": String(k),
                "n": String(n), "requested_sparsity": ReportText.number(point.sparsity), "pattern": point.pattern.description,
                "execution": execution.rawValue, "mode": mode.rawValue, "config": machine.config.name, "config_digest": digest,
                "seed": String(seed), "activation_sparsity": ReportText.number(activationSparsity), "batch_size": "1",
            ]
            do {
                let report = try MatmulSimulation.run(
                    MatmulRequest(m: m, k: k, n: n, sparsity: point.sparsity, pattern: point.pattern, mode: mode,
                                  execution: execution, activationSparsity: activationSparsity, seed: seed), machine: machine)
                values["sparsity"] = ReportText.number(report.sparsity)
                values["pattern"] = report.pattern
                values["cycles"] = ReportText.number(report.cycles)
                values["seconds"] = String(format: "%.9g", report.seconds)
                values["step_seconds"] = String(format: "%.9g", report.seconds)
                values["samples_per_second"] = String(format: "%.9g", 1 / report.seconds)
                values["dense_cycles"] = ReportText.number(report.denseCycles)
                values["speedup_vs_dense"] = String(format: "%.6f", report.speedupVsDense)
                values["ideal_speedup"] = String(format: "%.6f", report.idealSpeedup)
                values["utilisation"] = String(format: "%.6f", report.utilisation)
                values["training_macs"] = ReportText.number(report.products.reduce(0) { $0 + $1.effectiveMACs })
                values.merge(breakdownValues(report.breakdown)) { _, new in new }
            } catch let error as SimulatorError {
                values["error"] = error.description
            }
            lines.append(row(values))
        }
        return lines
    }

    static func activationLabel(_ setting: ActivationSparsitySetting) -> String {
        switch setting {
        case .fixed(let value): ReportText.number(value)
        case .measured: "measured"
        }
    }
}
