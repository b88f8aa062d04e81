import ArgumentParser
import Foundation
import SparseIFT
import SparseKernels
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

    @Option(help: "Comma-separated sparsities.")
    var sparsities: String = "0.5,0.75,0.9"

    @Option(help: "Comma-separated transforms (dense = the sparse network itself).")
    var transforms: String = "dense,wide,parallel,factorized,doped"

    @Option(help: "Comma-separated patterns: unstructured, N:M, RxC.")
    var patterns: String = "unstructured"

    @Option(help: "Seed of the Kaiming weights and the input.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Seconds of timed iterations per configuration.")
    var time: Double = 3

    @Option(parsing: .unconditional, help: "Seconds of warm-up per configuration.")
    var warmup: Double = 1

    @Option(help: "CSV file to write (written when the sweep completes).")
    var out: String

    func run() throws {
        try reportingErrors {
            try AtomicOutput.refuseNonRegular(out)
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
            let configurations = Sweep.configurations(transforms: kinds, sparsities: levels, patterns: shapes)
            let rows = try Sweep.run(dense: dense, model: modelOptions.model, configurations: configurations,
                                     options: try runtimeOptions.options(),
                                     benchmark: BenchmarkOptions(seconds: time, warmupSeconds: warmup)) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            try AtomicOutput.write(Data(Sweep.Row.encodeCSV(rows).utf8), to: out)
            print("wrote \(rows.count) rows to \(out)")
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
