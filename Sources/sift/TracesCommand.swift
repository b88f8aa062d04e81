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

    @Option(help: "Directory to write into.")
    var out: String = "traces/workloads"

    @Option(help: "Write only this zoo model's trace (with --transform) instead of the committed set.")
    var model: String?

    @Option(help: "Tokens per sequence for the GPT models (single-trace mode).")
    var sequence: Int = 2048

    @Option(name: .customLong("mlp-widths"), help: "Comma-separated widths of `mlp`, input first (single-trace mode).")
    var mlpWidths: String = "784,1024,1024,1024,10"

    @Option(help: "dense | wide | parallel | factorized | doped (single-trace mode).")
    var transform: String?

    @Option(parsing: .unconditional, help: "Sparsity s in [0, 1) (single-trace mode).")
    var sparsity: Double?

    @Option(help: "unstructured | N:M | RxC (single-trace mode).")
    var pattern: String = "unstructured"

    func run() throws {
        guard let model else {
            guard transform == nil, sparsity == nil else {
                throw ValidationError("--transform and --sparsity need --model (single-trace mode)")
            }
            let files = try reportingErrors {
                let files = try WorkloadTrace.generate(WorkloadTrace.committedJobs)
                try WorkloadTrace.write(files, to: out)
                return files
            }
            print("wrote \(files.count) files to \(out) (trace format version \(WorkloadTrace.formatVersion))")
            return
        }
        guard let transform else { throw ValidationError("--model needs --transform") }
        // Reuse the argument groups of `sift transform` so both commands validate alike.
        let modelOptions = try ZooModelArguments.parse(["--model", model, "--sequence", String(sequence), "--mlp-widths", mlpWidths])
        var transformArguments = ["--transform", transform, "--pattern", pattern]
        if let sparsity { transformArguments += ["--sparsity", String(sparsity)] }
        let transformOptions = try TransformArguments.parse(transformArguments)
        let name = try reportingErrors {
            let dense = try ModelZoo.build(model, options: try modelOptions.zooOptions())
            let transformed = try transformOptions.run(on: dense)
            let name = transformed.kind == .dense && transformed.requestedSparsity == 0
                ? "\(model)__dense.csv"
                : "\(model)__\(transformed.kind.rawValue)__s\(String(format: "%.2f", transformed.requestedSparsity))"
                    + (transformed.options.pattern == .unstructured ? "" : "__\(transformed.options.pattern)") + ".csv"
            try WorkloadTrace.write([name: WorkloadTrace.csv(transformed.network)], to: out)
            return name
        }
        print("wrote \(out)/\(name)")
    }
}
