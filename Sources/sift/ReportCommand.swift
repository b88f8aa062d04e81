import ArgumentParser
import Foundation
import SiftReport
import SiftSweep
import SparseKernels

/// `sift report`: the headline report. Runs the CPU runtime sweep (measured), the
/// accelerator sweep (simulated) and the single-product sweeps, and writes tables, SVG
/// figures and an index.html into `reports/<timestamp>/` (or `--out`), all or nothing.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The headline report: Sparse-IFT networks on the CPU (measured) and the accelerator (simulated), with figures.",
        discussion: """
        Writes reports/<timestamp>/ (or --out DIR): index.html, SVG figures, Markdown and CSV tables, \
        summary.md and manifest.json. The default plan finishes in about five minutes on 2 cores; \
        --full runs the larger set. --shard i/n runs one shard of every sweep; --merge DIR... \
        assembles a report from shard folders.
        """)

    @Option(help: "Output folder (default: reports/<timestamp>): new, empty, or an earlier sift output (replaced).")
    var out: String?

    @Flag(help: "Run the larger set (more models, batches and sparsities).")
    var full = false

    @Option(help: "Run shard i of n of every sweep (1-based, e.g. 2/3); merge the folders with --merge.")
    var shard: String?

    @Option(parsing: .upToNextOption, help: "Assemble one report from these shard folders instead of running; or, given shard CSV files (e.g. of `sift run sweep --shard`), merge them into the CSV --out names.")
    var merge: [String] = []

    @Option(name: .customLong("measured-columns"), help: "With --merge of CSV files of a sweep sift does not know: the comma-separated columns that hold measurements.")
    var measuredColumns: String?

    @Option(help: "Comma-separated sweeps: cpu-networks, accelerator-networks, cpu-products, accelerator-products (default: all).")
    var sweeps: String?

    @Option(name: .customLong("product-shape"), help: "MxKxN of the single-product sweep (default 1024x1024x256).")
    var productShape: String?

    @Option(parsing: .unconditional, help: "Seconds of timed inference per CPU network point (default: the plan's).")
    var seconds: Double?

    @Option(name: .customLong("accelerator-config"), help: "Accelerator config for the simulated sweeps (default: the simulator's).")
    var acceleratorConfig: String?

    @Option(name: .customLong("accelerator-mode"), help: "cycle | analytical: the simulator's mode for the accelerator sweeps (default: analytical for networks, so the default plan fits its time; the page says which).")
    var acceleratorMode: String?

    @Flag(help: "No progress on stderr.")
    var quiet = false

    @OptionGroup var execution: ExecutionArguments

    func run() throws {
        if !merge.isEmpty, merge.allSatisfy({ $0.lowercased().hasSuffix(".csv") }) {
            let message = try reportingErrors {
                guard shard == nil else { throw ReportError.invalidArgument("--merge assembles shards; it takes no --shard") }
                guard let out else { throw ReportError.invalidArgument("--merge of CSV files needs --out FILE.csv") }
                let measured = measuredColumns.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
                return try CSVMerge.merge(files: merge, out: out, known: ReportBackendFactory.knownSweeps, measuredColumns: measured)
            }
            print(message)
            return
        }
        let outcome = try reportingErrors {
            let progress = ProgressReporter(quiet: quiet)
            if !merge.isEmpty {
                guard shard == nil else { throw ReportError.invalidArgument("--merge assembles shards; it takes no --shard") }
                return try Report.merge(folders: merge, out: out ?? Self.defaultFolder(suffix: "-merged"),
                                        progress: progress)
            }
            let shard = try shard.map { text throws(SweepError) in try Shard(parsing: text) } ?? .whole
            var shape = (m: 1024, k: 1024, n: 256)
            if let productShape {
                let parsed = try KernelBenchmark.Shape(parsing: productShape)
                shape = (parsed.m, parsed.k, parsed.n)
            }
            var plan = full ? ReportPlan.full(productShape: shape) : ReportPlan.quick(productShape: shape)
            if let seconds {
                guard seconds > 0, seconds.isFinite, seconds <= 3600 else {
                    throw ReportError.invalidArgument("--seconds must be in (0, 3600], got \(seconds)")
                }
                plan.cpuSecondsPerPoint = seconds
            }
            let selected = try sweeps.map(Self.parseSweeps) ?? ReportSweep.allCases
            let options = try execution.resolve()
            let backends = try ReportBackendFactory.make(acceleratorConfig: acceleratorConfig, acceleratorMode: acceleratorMode)
            let suffix = shard == .whole ? "" : "-shard-\(shard.index)-of-\(shard.count)"
            let request = ReportRequest(plan: plan, shard: shard, options: options, sweeps: selected,
                                        out: out ?? Self.defaultFolder(suffix: suffix),
                                        command: (["sift"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
            return try Report.run(request, backends: backends, progress: progress)
        }
        print(outcome.summary)
        print("report written to \(outcome.folder.path)/index.html")
    }

    static func parseSweeps(_ text: String) throws -> [ReportSweep] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ReportError.invalidArgument("--sweeps is empty") }
        return try names.map { name in
            guard let sweep = ReportSweep(rawValue: name) else {
                throw ReportError.invalidArgument("unknown sweep '\(name)': expected \(ReportSweep.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return sweep
        }
    }

    /// reports/20261203-142501 (local time), plus a suffix for shards and merges.
    static func defaultFolder(suffix: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "reports/" + formatter.string(from: Date()) + suffix
    }
}
