import ArgumentParser
import Foundation
import SparseIFT
import SparseKernels
import SiftSweep
import SparseRuntime

/// `sift run sweep`: the dense network and every transform x sparsity x pattern,
/// benchmarked in one run, one CSV row each (relative latency is against the dense
/// network measured in the same run).
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Benchmark the dense model and every transform x sparsity x pattern; write one CSV row each.")

    @OptionGroup var modelOptions: ZooModelArguments
    @OptionGroup var runtimeOptions: RuntimeArguments

    @Option(parsing: .unconditional, help: "Comma-separated sparsities.")
    var sparsities: String = "0.5,0.75,0.9"

    @Option(help: "Comma-separated transforms (dense = the sparse network itself).")
    var transforms: String = "dense,wide,parallel,factorized,doped"

    @Option(help: "Comma-separated patterns: unstructured, N:M, RxC.")
    var patterns: String = "unstructured"

    @Option(parsing: .unconditional, help: "Seed of the Kaiming weights and the input.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Seconds of timed iterations per configuration.")
    var time: Double = 3

    @Option(parsing: .unconditional, help: "Seconds of warm-up per configuration.")
    var warmup: Double = 1

    @Option(parsing: .unconditional, help: "Run shard i of n (1-based), e.g. 2/3: its points plus the dense baseline they need; merge the CSVs with `sift report --merge`.")
    var shard: String?

    @Option(help: "CSV file to write (written when the sweep completes).")
    var out: String

    func run() throws {
        try reportingErrors {
            try SafeFile.checkOutput(out)
            let part = try shard.map { try Shard(parsing: $0) } ?? .whole
            guard time >= 0, time.isFinite, warmup >= 0, warmup.isFinite else {
                throw RuntimeError.invalidArgument("--time and --warmup must be non-negative seconds, got \(time) and \(warmup)")
            }
            let kinds = try list(transforms).map { try TransformKind(parsing: $0) }
            let levels = try list(sparsities).map { text -> Double in
                guard let value = Double(text), value >= 0, value < 1 else {
                    throw RuntimeError.invalidArgument("sparsity '\(text)' is not a number in [0, 1)")
                }
                return value
            }
            let shapes = try list(patterns).map { try SparsityPattern(parsing: $0) }
            let dense = try ModelZoo.build(modelOptions.model, options: try modelOptions.zooOptions())
            let options = try runtimeOptions.options()
            let (configurations, skipped) = Sweep.configurations(model: modelOptions.model, dense: dense, batch: options.batchSize,
                                                                transforms: kinds, sparsities: levels, patterns: shapes)
            func report(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            for (configuration, reason) in skipped { report("skipped \(configuration): \(reason)") }
            let table = try Sweep.run(dense: dense, configurations: configurations, shard: part, options: options,
                                      benchmark: BenchmarkOptions(seconds: time, warmupSeconds: warmup), seed: seed, progress: report)
            try SafeFile.write(table.text(), to: out)
            print("wrote \(table.rows.count) rows to \(out)")
        }
    }

    private func list(_ text: String) throws -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, items.allSatisfy({ !$0.isEmpty }) else {
            throw RuntimeError.invalidArgument("'\(text)' must be a comma-separated list with no empty entries")
        }
        return items
    }
}
