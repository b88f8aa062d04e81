import Foundation
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
        /// FLOPs on nonzero weights over the dense network's (as the plan computes them).
        public var relativeNonzeroFLOPs: Double
        public var peakMemoryBytes: Int
        public var iterations: Int

        public init(model: String, transform: String, sparsity: Double, bodySparsity: Double, pattern: String, batch: Int,
                    threads: Int, itemsPerSecond: Double, medianLatencyMs: Double, relativeLatency: Double,
                    relativeNonzeroFLOPs: Double, peakMemoryBytes: Int, iterations: Int) {
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
            self.peakMemoryBytes = peakMemoryBytes
            self.iterations = iterations
        }

        public static let header = [
            "model", "transform", "sparsity", "body_sparsity", "pattern", "batch", "threads", "items_per_sec",
            "median_latency_ms", "relative_latency", "relative_nonzero_flops", "peak_memory_bytes", "iterations",
        ]

        /// The row's CSV fields, in `header` order (numbers in Swift's shortest
        /// round-trip form, so decoding gives the same values back).
        public var csvFields: [String] {
            [model, transform, "\(sparsity)", "\(bodySparsity)", pattern, "\(batch)", "\(threads)", "\(itemsPerSecond)",
             "\(medianLatencyMs)", "\(relativeLatency)", "\(relativeNonzeroFLOPs)", "\(peakMemoryBytes)", "\(iterations)"]
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
                      peakMemoryBytes: try integer(11), iterations: try integer(12))
        }

        /// Header line, then one line per row.
        public static func encodeCSV(_ rows: [Row]) -> String {
            ([header.joined(separator: ",")] + rows.map { $0.csvFields.joined(separator: ",") }).joined(separator: "\n") + "\n"
        }

        public static func decodeCSV(_ text: String) throws -> [Row] {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            guard let first = lines.first, first.split(separator: ",", omittingEmptySubsequences: false).map(String.init) == header else {
                throw RuntimeError.invalidInput("sweep CSV must start with the header \(header.joined(separator: ","))")
            }
            return try lines.dropFirst().enumerated().map { index, line in
                try Row(csvFields: line.split(separator: ",", omittingEmptySubsequences: false).map(String.init), line: index + 2)
            }
        }
    }

    /// One configuration of a sweep.
    public struct Configuration: Sendable, CustomStringConvertible {
        public var transform: TransformKind
        public var sparsity: Double
        public var pattern: SparsityPattern

        public var description: String {
            transform == .dense && sparsity == 0 ? "dense" : "\(transform.rawValue) s=\(sparsity) \(pattern)"
        }
    }

    /// The dense network, then transforms x sparsities x patterns (an N:M pattern only
    /// at its own sparsity).
    public static func configurations(transforms: [TransformKind], sparsities: [Double], patterns: [SparsityPattern]) -> [Configuration] {
        var list = [Configuration(transform: .dense, sparsity: 0, pattern: .unstructured)]
        for transform in transforms {
            for sparsity in sparsities where sparsity > 0 {
                for pattern in patterns {
                    if let fixed = pattern.fixedSparsity, abs(fixed - sparsity) > 1e-9 { continue }
                    list.append(Configuration(transform: transform, sparsity: sparsity, pattern: pattern))
                }
            }
        }
        return list
    }

    /// Runs every configuration of `dense` (seeded Kaiming weights, seed `seed`) and
    /// returns a row each; `progress` receives one line per step. A configuration the
    /// transform refuses (a pattern that does not tile a widened layer, say) is reported
    /// through `progress` and skipped.
    public static func run(dense: Network, model: String, configurations: [Configuration], options: RuntimeOptions,
                           benchmark: BenchmarkOptions, seed: UInt64 = 0, progress: (String) -> Void) throws -> [Row] {
        var rows: [Row] = []
        var baseline: (latency: Double, flops: Double)?
        for (index, configuration) in configurations.enumerated() {
            let label = "[\(index + 1)/\(configurations.count)] \(model) \(configuration)"
            let transformed: TransformedNetwork
            do {
                transformed = try SparseIFT.transform(dense, kind: configuration.transform, sparsity: configuration.sparsity,
                                                      options: TransformOptions(pattern: configuration.pattern))
            } catch let error as SparseIFTError {
                progress("\(label): skipped (\(error.description))")
                continue
            }
            let parameters = try ParameterStore.initialize(transformed.network, options: .init(seed: seed))
            let plan = try Runtime.compile(transformed.network, parameters: parameters, options: options)
            for warning in plan.warnings { progress("warning: \(warning)") }
            let result = try Benchmark.run(plan, input: plan.syntheticInput(seed: seed), options: benchmark)
            if baseline == nil { baseline = (result.latencyMs.median, result.nonzeroFLOPs) }
            let reference = baseline!
            let row = Row(model: model, transform: configuration.transform.rawValue, sparsity: configuration.sparsity,
                          bodySparsity: transformed.sparsity, pattern: configuration.pattern.description, batch: plan.batchSize,
                          threads: plan.execution.threads, itemsPerSecond: result.itemsPerSecond,
                          medianLatencyMs: result.latencyMs.median, relativeLatency: result.latencyMs.median / reference.latency,
                          relativeNonzeroFLOPs: result.nonzeroFLOPs / reference.flops, peakMemoryBytes: result.peakMemoryBytes,
                          iterations: result.iterations)
            rows.append(row)
            progress(String(format: "%@: %.1f items/s, median %.3f ms, %.3fx dense latency, %.3fx dense nonzero FLOPs (plan: %d timed, %d cached)",
                            label, row.itemsPerSecond, row.medianLatencyMs, row.relativeLatency, row.relativeNonzeroFLOPs,
                            plan.timedLayers, plan.cachedLayers))
        }
        return rows
    }
}
