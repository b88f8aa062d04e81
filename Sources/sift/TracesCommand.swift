import ArgumentParser
import Foundation
import SparseIFT

/// `sift traces --out traces/workloads`: regenerates the committed workload traces
/// (what `make traces` runs); deterministic. With `--model` and `--transform` it writes
/// one trace of any zoo model, transform, sparsity and pattern instead.
struct TracesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traces",
        abstract: "Write workload traces (CSV per model x transform x sparsity, format in traces/README.md).")

    @Option(help: "Directory to write. The committed set replaces the directory whole (only an empty one or an earlier sift trace set); a single trace is added to it.")
    var out: String = "traces/workloads"

    @Option(help: "Write only this zoo model's trace (with --transform) instead of the committed set.")
    var model: String?

    // Optional, with their defaults applied in single-trace mode, so the committed mode
    // can tell that one was given and refuse it instead of silently ignoring it.
    @Option(parsing: .unconditional, help: "Tokens per sequence for the GPT models (single-trace mode; default 2048).")
    var sequence: Int?

    @Option(name: .customLong("mlp-widths"), parsing: .unconditional, help: "Comma-separated widths of `mlp`, input first (single-trace mode; default 784,1024,1024,1024,10).")
    var mlpWidths: String?

    @Option(help: "dense | wide | parallel | factorized | doped (single-trace mode).")
    var transform: String?

    @Option(parsing: .unconditional, help: "Sparsity s in [0, 1) (single-trace mode).")
    var sparsity: Double?

    @Option(help: "unstructured | N:M | RxC (single-trace mode; default unstructured).")
    var pattern: String?

    func run() throws {
        guard let model else {
            let files = try reportingErrors {
                let given = [("--transform", transform != nil), ("--sparsity", sparsity != nil), ("--pattern", pattern != nil),
                             ("--sequence", sequence != nil), ("--mlp-widths", mlpWidths != nil)].filter(\.1).map(\.0)
                guard given.isEmpty else {
                    throw SparseIFTError.invalidArgument(
                        "\(given.joined(separator: ", ")) only apply to a single trace: add --model and --transform (without --model the committed set is written)")
                }
                // Refused before the (long) generation when --out cannot be replaced.
                try SafeDirectory.checkOutput(out)
                let files = try WorkloadTrace.generate(WorkloadTrace.committedJobs)
                try WorkloadTrace.write(files, to: out)
                return files
            }
            print("wrote \(files.count) files to \(out) (trace format version \(WorkloadTrace.formatVersion))")
            return
        }
        let name = try reportingErrors {
            guard let transform else { throw SparseIFTError.invalidArgument("--model \(model) needs --transform") }
            let zooOptions = try ZooModelArguments.zooOptions(sequence: sequence ?? 2048,
                                                              mlpWidths: mlpWidths ?? "784,1024,1024,1024,10")
            // Reuse the transform argument group of `sift transform` so both commands
            // validate alike; the sparsity is passed in its exact shortest form.
            var transformArguments = ["--transform", transform, "--pattern", pattern ?? "unstructured"]
            if let sparsity { transformArguments += ["--sparsity", "\(sparsity)"] }
            let transformOptions: TransformArguments
            do {
                transformOptions = try TransformArguments.parse(transformArguments)
            } catch {
                throw SparseIFTError.invalidArgument("cannot read the transform options \(transformArguments): \(error)")
            }
            let dense = try ModelZoo.build(model, options: zooOptions)
            let transformed = try transformOptions.run(on: dense)
            let name = try WorkloadTrace.fileName(model: model, kind: transformed.kind, sparsity: transformed.requestedSparsity,
                                                  pattern: transformed.options.pattern)
            try WorkloadTrace.writeSingle(name: name, content: WorkloadTrace.csv(transformed.network), into: out)
            return name
        }
        print("wrote \(out)/\(name)")
    }
}
