import Foundation
import SiftSweep
import SparseKernels

/// The backends a report can use; a nil one is reported as missing, with its reason.
public struct ReportBackends {
    public var cpuRuntime: CPURuntimeBackend?
    public var accelerator: AcceleratorBackend?
    public var missing: [MissingBackend]

    public init(cpuRuntime: CPURuntimeBackend?, accelerator: AcceleratorBackend?, missing: [MissingBackend]) {
        self.cpuRuntime = cpuRuntime
        self.accelerator = accelerator
        self.missing = missing
    }
}

/// What `sift report` was asked to do.
public struct ReportRequest {
    public var plan: ReportPlan
    public var shard: Shard
    public var options: ExecutionOptions
    /// The sweeps to run (default: all four).
    public var sweeps: [ReportSweep]
    /// The output folder: new, an empty directory, or an earlier sift output (replaced).
    public var out: String
    /// The command line, for the page.
    public var command: String

    public init(plan: ReportPlan, shard: Shard, options: ExecutionOptions, sweeps: [ReportSweep] = ReportSweep.allCases,
                out: String, command: String) {
        self.plan = plan
        self.shard = shard
        self.options = options
        self.sweeps = sweeps
        self.out = out
        self.command = command
    }
}

public enum Report {
    /// What a finished report says: where it is and the summary to print.
    public struct Outcome {
        public let folder: URL
        public let summary: String
    }

    /// Runs the requested sweeps for one shard (or the whole plan) and writes the report.
    /// Everything that can be refused is checked before the first measurement.
    public static func run(_ request: ReportRequest, backends: ReportBackends, progress: ProgressReporter) throws -> Outcome {
        try validate(request.plan)
        let cpuPlan = try SweepPlan(points: request.plan.cpuNetworks)
        let acceleratorPlan = try SweepPlan(points: request.plan.acceleratorNetworks)
        let productPlan = try SweepPlan(points: request.plan.products)
        let directory = try ReportDirectory(destination: request.out)
        let started = Date()

        progress.phase("machine: measuring the FMA peak and DRAM bandwidth (\(request.options.isa), \(request.options.threads) threads)")
        Machine.bindThreads(request.options.threads)
        var machine = MachineDescription.measure(options: request.options)
        progress.note(machine.shortLine)

        let runner = SweepRunner(shard: request.shard, options: request.options, progress: progress)
        var tables: [ReportSweep: CSVTable] = [:]
        var sweepIDs: [String: String] = [:]
        var missing = backends.missing.map { ReportManifest.Missing(what: $0.what, reason: $0.reason) }
        for sweep in request.sweeps {
            switch sweep {
            case .cpuProducts:
                tables[sweep] = try runner.cpuProducts(productPlan)
                sweepIDs[sweep.fileName] = productPlan.id
            case .cpuNetworks:
                guard let backend = backends.cpuRuntime else { continue }
                tables[sweep] = try runner.cpuNetworks(cpuPlan, backend: backend, seconds: request.plan.cpuSecondsPerPoint)
                sweepIDs[sweep.fileName] = cpuPlan.id
            case .acceleratorNetworks:
                guard let backend = backends.accelerator else { continue }
                tables[sweep] = try runner.acceleratorNetworks(acceleratorPlan, backend: backend)
                sweepIDs[sweep.fileName] = acceleratorPlan.id
            case .acceleratorProducts:
                guard let backend = backends.accelerator else { continue }
                tables[sweep] = try runner.acceleratorProducts(productPlan, backend: backend)
                sweepIDs[sweep.fileName] = productPlan.id
            }
            if let table = tables[sweep] { try directory.write(sweep.fileName, table.text()) }
        }
        // Sweeps left out by --sweeps (those whose backend is missing are reported already).
        let skipped = ReportSweep.allCases.filter { sweep in
            guard !request.sweeps.contains(sweep) else { return false }
            switch sweep {
            case .cpuProducts: return true
            case .cpuNetworks: return backends.cpuRuntime != nil
            case .acceleratorNetworks, .acceleratorProducts: return backends.accelerator != nil
            }
        }
        if !skipped.isEmpty {
            missing.append(.init(what: skipped.map(\.title).joined(separator: "; "), reason: "not requested (--sweeps)"))
        }
        machine.loadAverageEnd = MachineDescription.loadAverage()
        let run = ReportManifest.Run(shard: request.shard.description, machine: machine, command: request.command,
                                     started: iso8601(started), seconds: progress.elapsed)
        let manifest = ReportManifest(plan: request.plan, sweepIDs: sweepIDs, runs: [run],
                                      accelerator: tables.keys.contains(where: { $0 == .acceleratorNetworks || $0 == .acceleratorProducts })
                                          ? backends.accelerator?.description : nil,
                                      missing: missing)
        let summary = try write(manifest: manifest, tables: tables, into: directory)
        let folder = try directory.commit(manifest: try manifest.json())
        return Outcome(folder: folder, summary: summary)
    }

    /// Assembles one report from the folders that `sift report --shard i/n` wrote.
    public static func merge(folders: [String], out: String, progress: ProgressReporter) throws -> Outcome {
        guard !folders.isEmpty else { throw ReportError.invalidArgument("--merge needs at least one shard folder") }
        let manifests = try folders.map { folder throws(ReportError) in try ReportManifest.read(folder: folder) }
        let first = manifests[0]
        for (folder, manifest) in zip(folders, manifests).dropFirst() {
            guard manifest.plan == first.plan else {
                throw ReportError.malformedInput("\(folder) ran plan '\(manifest.plan.name)', \(folders[0]) plan '\(first.plan.name)' (or the same name with other points): they are not shards of one report")
            }
            guard manifest.sweepIDs == first.sweepIDs else {
                throw ReportError.malformedInput("\(folder) and \(folders[0]) ran different sweeps (\(manifest.sweepIDs.keys.sorted()) vs \(first.sweepIDs.keys.sorted()))")
            }
            guard manifest.accelerator == first.accelerator else {
                throw ReportError.malformedInput("\(folder) and \(folders[0]) simulated different accelerator configurations")
            }
        }
        let directory = try ReportDirectory(destination: out)
        progress.phase("merging \(folders.count) shard folders")
        var tables: [ReportSweep: CSVTable] = [:]
        for sweep in ReportSweep.allCases where first.sweepIDs[sweep.fileName] != nil {
            let parts = try folders.map { folder throws in
                let path = URL(fileURLWithPath: folder).appendingPathComponent(sweep.fileName).path
                return SweepMerge.Part(source: path, table: try CSVTable(contentsOf: path))
            }
            let merged = try SweepMerge.merge(parts, measuredColumns: sweep.measuredColumns)
            progress.note("\(sweep.fileName): \(merged.rows.count) points from \(parts.count) shards")
            tables[sweep] = merged
            try directory.write(sweep.fileName, merged.text())
        }
        var runs = manifests.flatMap(\.runs)
        runs.sort { (try? Shard(parsing: $0.shard).index) ?? 0 < (try? Shard(parsing: $1.shard).index) ?? 0 }
        var missing: [ReportManifest.Missing] = []
        for manifest in manifests {
            for item in manifest.missing where !missing.contains(item) { missing.append(item) }
        }
        let manifest = ReportManifest(plan: first.plan, sweepIDs: first.sweepIDs, runs: runs, accelerator: first.accelerator, missing: missing)
        let summary = try write(manifest: manifest, tables: tables, into: directory)
        let folder = try directory.commit(manifest: try manifest.json())
        return Outcome(folder: folder, summary: summary)
    }

    /// Writes the tables, figures, summary, manifest and page; returns the summary text.
    static func write(manifest: ReportManifest, tables: [ReportSweep: CSVTable], into directory: ReportDirectory) throws -> String {
        let renderer = ReportRenderer(manifest: manifest, tables: tables)
        let sections = renderer.sections()
        for (sweep, table) in tables where !directory.contains(sweep.fileName) {
            try directory.write(sweep.fileName, table.text())
        }
        for section in sections {
            var markdown = "# \(section.sweep.title)\n\n"
            for note in section.notes { markdown += note + "\n\n" }
            markdown += section.table.markdown()
            try directory.write(section.sweep.rawValue + ".md", markdown)
            for figure in section.figures { try directory.write(figure.file, figure.plot.svg()) }
        }
        if let headline = renderer.headline() { try directory.write(headline.file, headline.figure.svg()) }
        let summary = renderer.summaryText()
        try directory.write("summary.md", summary)
        if let accelerator = manifest.accelerator {
            try directory.write("accelerator-config.json", accelerator.resolvedConfig.hasSuffix("\n") ? accelerator.resolvedConfig : accelerator.resolvedConfig + "\n")
        }
        try directory.write("index.html", HTMLPage(renderer: renderer, sections: sections).render())
        return summary
    }

    /// Checks what a plan asks before anything runs: product shapes and patterns our
    /// kernels support, sparsities in range, operands that fit in memory.
    static func validate(_ plan: ReportPlan) throws {
        guard plan.cpuSecondsPerPoint > 0, plan.cpuSecondsPerPoint.isFinite else {
            throw ReportError.invalidArgument("seconds per CPU point must be positive, got \(plan.cpuSecondsPerPoint)")
        }
        for point in plan.products {
            guard point.m > 0, point.k > 0, point.n > 0 else {
                throw ReportError.invalidArgument("product shape \(point.shape) needs positive sizes")
            }
            // Our kernels run N:M and block patterns on any shape (a short last group, ragged
            // edge blocks); only the pattern's own parameters must be ones they support.
            _ = try SweepRunner.kernelPattern(point.pattern)
            guard point.sparsity >= 0, point.sparsity < 1 else {
                throw ReportError.invalidArgument("product sparsity \(point.sparsity) must be in [0, 1)")
            }
        }
        for point in plan.products {
            let sizes = [point.m.multipliedReportingOverflow(by: point.k), point.k.multipliedReportingOverflow(by: point.n),
                         point.m.multipliedReportingOverflow(by: point.n)]
            guard sizes.allSatisfy({ !$0.overflow && $0.partialValue <= KernelBenchmark.Shape.maxOperandElements }) else {
                throw ReportError.invalidArgument("product shape \(point.shape) has an operand above \(KernelBenchmark.Shape.maxOperandElements) elements (1 GiB)")
            }
        }
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
