import Foundation
import SiftSweep
import SparseIFT
import SparseKernels

/// The paper's CPU question for one model: the dense network, then every transform x
/// sparsity x pattern, each compiled and benchmarked, one row each.
public enum Sweep {
    /// One measured configuration. CSV is the interchange format (mergeable shards).
    public struct Row: Codable, Equatable, Sendable {
        public var model: String
        /// dense | wide | parallel | factorized | doped ("dense" at s > 0 is the plain
        /// sparse network, the paper's sparse baseline).
        public var transform: String
        /// The requested s, and the body layers' s (Sparse Wide searches it).
        public var sparsity: Double
        public var bodySparsity: Double
        public var pattern: String
        public var batch: Int
        public var threads: Int
        public var itemsPerSecond: Double
        public var medianLatencyMs: Double
        /// Median latency over the dense network's (same run); 1.0 is the iso-FLOP ideal.
        public var relativeLatency: Double
        /// FLOPs on nonzero weights over the dense network's (as the plan computes them:
        /// weight products on their nonzero weights, plus attention and depthwise work).
        public var relativeNonzeroFLOPs: Double
        /// GFLOP of one batch on nonzero weights.
        public var nonzeroGFLOPs: Double
        public var peakMemoryBytes: Int
        public var iterations: Int

        public init(model: String, transform: String, sparsity: Double, bodySparsity: Double, pattern: String, batch: Int,
                    threads: Int, itemsPerSecond: Double, medianLatencyMs: Double, relativeLatency: Double,
                    relativeNonzeroFLOPs: Double, nonzeroGFLOPs: Double, peakMemoryBytes: Int, iterations: Int) {
            self.model = model
            self.transform = transform
            self.sparsity = sparsity
            self.bodySparsity = bodySparsity
            self.pattern = pattern
            self.batch = batch
            self.threads = threads
            self.itemsPerSecond = itemsPerSecond
            self.medianLatencyMs = medianLatencyMs
            self.relativeLatency = relativeLatency
            self.relativeNonzeroFLOPs = relativeNonzeroFLOPs
            self.nonzeroGFLOPs = nonzeroGFLOPs
            self.peakMemoryBytes = peakMemoryBytes
            self.iterations = iterations
        }

        public static let header = [
            "model", "transform", "sparsity", "body_sparsity", "pattern", "batch", "threads", "items_per_sec",
            "median_latency_ms", "relative_latency", "relative_nonzero_flops", "nonzero_gflops", "peak_memory_bytes", "iterations",
        ]

        /// The row's CSV fields, in `header` order (numbers in Swift's shortest
        /// round-trip form, so decoding gives the same values back).
        public var csvFields: [String] {
            [model, transform, "\(sparsity)", "\(bodySparsity)", pattern, "\(batch)", "\(threads)", "\(itemsPerSecond)",
             "\(medianLatencyMs)", "\(relativeLatency)", "\(relativeNonzeroFLOPs)", "\(nonzeroGFLOPs)", "\(peakMemoryBytes)",
             "\(iterations)"]
        }

        public init(csvFields fields: [String], line: Int = 0) throws {
            func fail(_ what: String) -> RuntimeError { .invalidInput("sweep CSV line \(line): \(what)") }
            guard fields.count == Self.header.count else { throw fail("\(fields.count) fields, expected \(Self.header.count)") }
            func double(_ index: Int) throws -> Double {
                guard let value = Double(fields[index]), value.isFinite else { throw fail("\(Self.header[index]) '\(fields[index])' is not a number") }
                return value
            }
            func integer(_ index: Int) throws -> Int {
                guard let value = Int(fields[index]) else { throw fail("\(Self.header[index]) '\(fields[index])' is not an integer") }
                return value
            }
            self.init(model: fields[0], transform: fields[1], sparsity: try double(2), bodySparsity: try double(3),
                      pattern: fields[4], batch: try integer(5), threads: try integer(6), itemsPerSecond: try double(7),
                      medianLatencyMs: try double(8), relativeLatency: try double(9), relativeNonzeroFLOPs: try double(10),
                      nonzeroGFLOPs: try double(11), peakMemoryBytes: try integer(12), iterations: try integer(13))
        }

        /// The row by column name (`header`'s names).
        public var cells: [String: String] { Dictionary(uniqueKeysWithValues: zip(Self.header, csvFields)) }

        /// A row from cells by column name; other columns (a mergeable sweep's provenance
        /// columns, say) are ignored.
        public init(cells: [String: String], line: Int = 0) throws {
            var fields: [String] = []
            for name in Self.header {
                guard let value = cells[name] else { throw RuntimeError.invalidInput("sweep CSV line \(line): no column \(name)") }
                fields.append(value)
            }
            try self.init(csvFields: fields, line: line)
        }

        /// RFC 4180 CSV: the header, then one line per row.
        public static func encodeCSV(_ rows: [Row]) -> String {
            // The header is valid and every row has one cell per column.
            (try? CSVTable(header: header, rows: rows.map(\.csvFields)).text()) ?? ""
        }

        /// Rows of a sweep CSV (whole or a shard's, with or without provenance columns).
        public static func decodeCSV(_ text: String, source: String = "sweep CSV") throws -> [Row] {
            let table: CSVTable
            do {
                table = try CSVTable(parsing: text, source: source)
            } catch {
                throw RuntimeError.invalidInput(error.description)
            }
            return try table.records.enumerated().map { index, record in try Row(cells: record, line: index + 2) }
        }
    }

    /// One configuration of a sweep: a point of a `SweepPlan` (key and dense baseline).
    public struct Configuration: SweepPoint, CustomStringConvertible {
        public var model: String
        public var batch: Int
        public var transform: TransformKind
        public var sparsity: Double
        public var pattern: SparsityPattern

        public var isDense: Bool { transform == .dense && sparsity == 0 }
        public var key: String { "\(model)|\(transform.rawValue)|\(sparsity)|\(pattern)|b\(batch)" }
        public var baselineKey: String? { isDense ? nil : "\(model)|dense|0.0|unstructured|b\(batch)" }
        public var description: String { isDense ? "dense" : "\(transform.rawValue) s=\(sparsity) \(pattern)" }
    }

    /// The columns whose values are measurements (they differ between runs; the others
    /// identify the point). For `SweepMerge.merge(_:measuredColumns:)`.
    public static let measuredColumns: Set<String> = [
        "items_per_sec", "median_latency_ms", "relative_latency", "iterations",
    ]

    /// The dense network, then transforms x sparsities x patterns (an N:M pattern only at
    /// its own sparsity), keeping those the transform accepts for `dense`; the others are
    /// returned with the reason (a pattern that does not tile a widened layer, say).
    public static func configurations(model: String, dense: Network, batch: Int, transforms: [TransformKind],
                                      sparsities: [Double], patterns: [SparsityPattern])
        -> (valid: [Configuration], skipped: [(Configuration, String)]) {
        var valid = [Configuration(model: model, batch: batch, transform: .dense, sparsity: 0, pattern: .unstructured)]
        var skipped: [(Configuration, String)] = []
        for transform in transforms {
            for sparsity in sparsities where sparsity > 0 {
                for pattern in patterns {
                    if let fixed = pattern.fixedSparsity, abs(fixed - sparsity) > 1e-9 { continue }
                    let configuration = Configuration(model: model, batch: batch, transform: transform, sparsity: sparsity, pattern: pattern)
                    do {
                        _ = try configuration.network(from: dense)
                        valid.append(configuration)
                    } catch {
                        skipped.append((configuration, "\(error)"))
                    }
                }
            }
        }
        return (valid, skipped)
    }

    /// Runs the configurations `shard` owns, plus the dense baseline they are compared
    /// with (measured in the same run), with seeded Kaiming weights (`seed`). Returns the
    /// mergeable table: `Row.header` then the provenance columns of `SiftSweep`.
    public static func run(dense: Network, configurations: [Configuration], shard: Shard = .whole, options: RuntimeOptions,
                           benchmark: BenchmarkOptions, seed: UInt64 = 0, progress: (String) -> Void) throws -> CSVTable {
        let plan: SweepPlan<Configuration>
        do {
            plan = try SweepPlan(points: configurations)
        } catch {
            throw RuntimeError.invalidArgument(error.description)
        }
        var label = ""
        // The dense baseline's plan stays compiled: every other point is timed in slices
        // alternating with it, and its ratio is of the two medians of those slices (on a
        // shared machine, load changes between two back-to-back measurements; alternating
        // slices see the same load).
        var baselinePlan: (plan: Plan, input: Tensor)?
        return try plan.run(shard: shard, columns: Row.header, measure: { configuration, baseline in
            let transformed = try configuration.network(from: dense)
            let parameters = try ParameterStore.initialize(transformed.network, options: .init(seed: seed))
            let compiled = try Runtime.compile(transformed.network, parameters: parameters, options: options)
            for warning in compiled.warnings { progress("warning: \(warning)") }
            let input = compiled.syntheticInput(seed: seed)
            let reference = try baseline.map { try Row(cells: $0) }
            var result: BenchmarkResult
            var relative: Double
            if configuration.isDense || baselinePlan == nil {
                result = try Benchmark.run(compiled, input: input, options: benchmark)
                relative = result.latencyMs.median / (reference?.medianLatencyMs ?? result.latencyMs.median)
                if configuration.isDense { baselinePlan = (compiled, input) }
            } else {
                let paired = try Benchmark.paired(compiled, input: input, against: baselinePlan!.plan, input: baselinePlan!.input,
                                                  options: benchmark)
                result = paired.result
                relative = result.latencyMs.median / paired.baselineMedianMs
            }
            let row = Row(model: configuration.model, transform: configuration.transform.rawValue, sparsity: configuration.sparsity,
                          bodySparsity: transformed.sparsity, pattern: configuration.pattern.description, batch: compiled.batchSize,
                          threads: compiled.execution.threads, itemsPerSecond: result.itemsPerSecond,
                          medianLatencyMs: result.latencyMs.median,
                          relativeLatency: relative,
                          relativeNonzeroFLOPs: result.nonzeroFLOPs / 1e9 / (reference?.nonzeroGFLOPs ?? result.nonzeroFLOPs / 1e9),
                          nonzeroGFLOPs: result.nonzeroFLOPs / 1e9, peakMemoryBytes: result.peakMemoryBytes, iterations: result.iterations)
            progress(String(format: "%@: %.1f items/s, median %.3f ms, %.3fx dense latency, %.3fx dense nonzero FLOPs (plan: %d timed, %d cached)",
                            label, row.itemsPerSecond, row.medianLatencyMs, row.relativeLatency, row.relativeNonzeroFLOPs,
                            compiled.timedLayers, compiled.cachedLayers))
            return row.cells
        }, progress: { done, count, configuration in
            label = "[\(done + 1)/\(count)] \(configuration.model) \(configuration)"
        })
    }
}

extension Sweep.Configuration {
    /// The configuration's network (Sparse Wide searches its sparsity as the CLI does).
    func network(from dense: Network) throws -> TransformedNetwork {
        try SparseIFT.transform(dense, kind: transform, sparsity: sparsity, options: TransformOptions(pattern: pattern))
    }
}
