import Foundation
import Testing
import SiftSweep
import SparseIFT
import SparseKernels
@testable import SiftReport

/// A CPU runtime stand-in: latency follows the FLOPs with noise, as a real one would
/// (the numbers are not the point; the report's plumbing is).
struct FakeRuntime: CPURuntimeBackend {
    var name: String { "fake runtime" }
    func measure(_ point: NetworkPoint, network: TransformedNetwork, options: ExecutionOptions, seconds: Double) throws -> CPUNetworkMeasurement {
        let latency = 0.001 * (1 + point.sparsity) * Double.random(in: 0.9...1.1)
        return CPUNetworkMeasurement(itemsPerSecond: Double(point.batch) / latency, medianLatencySeconds: latency,
                                     p90LatencySeconds: latency * 1.1, iterations: 10, peakMemoryBytes: 1 << 20, kernels: "2 csr")
    }
}

/// A simulator stand-in: deterministic, as the real one is.
struct FakeAccelerator: AcceleratorBackend {
    var description: AcceleratorDescription {
        AcceleratorDescription(name: "fake-mesh", file: "configs/fake.json", mode: "analytical", execution: "weight-streaming",
                               parameters: [.init(name: "clock", value: "1.1 GHz", source: "assumption")],
                               notes: ["Everything here is a stand-in."], resolvedConfig: "{\"clock_ghz\": 1.1}")
    }
    func simulateStep(_ point: NetworkPoint, network: TransformedNetwork) throws -> SimulatedStep {
        let cycles = 1e6 * (1 + point.sparsity * 0.5)
        return SimulatedStep(stepSeconds: cycles / 1.1e9, samplesPerSecond: Double(point.batch) * 1.1e9 / cycles, cycles: cycles,
                             utilisation: 0.5, cyclesByCause: [("compute", cycles * 0.8), ("imbalance", cycles * 0.2)])
    }
    func simulateProduct(_ point: ProductPoint) throws -> SimulatedProduct {
        let cycles = 1e5 * (1 - point.sparsity) + 1e4
        return SimulatedProduct(cycles: cycles, seconds: cycles / 1.1e9, cyclesByCause: [("compute", cycles)])
    }
}

func smallPlan() -> ReportPlan {
    ReportPlan(
        name: "test", about: ["A small plan for tests."],
        cpuNetworks: ReportPlan.networkGroup(model: "mlp", batch: 4, sparsities: [0.5, 0.9], extra: [("wide", "4x4", [0.75])]),
        acceleratorNetworks: ReportPlan.networkGroup(model: "mlp", batch: 8, sparsities: [0.5, 0.9]),
        products: ReportPlan.productGroup(m: 64, k: 64, n: 16, sparsities: [0.5, 0.9], nm: [(2, 4), (1, 8)], blocks: ["4x4"]),
        cpuSecondsPerPoint: 0.01)
}

func scratch() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sift-report-test-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs the whole report pipeline in-process with stand-in backends and real kernels.
@Suite("report", .serialized)
struct ReportTests {
    let backends = ReportBackends(cpuRuntime: FakeRuntime(), accelerator: FakeAccelerator(), missing: [])

    func run(_ folder: URL, shard: Shard = .whole, plan: ReportPlan = smallPlan()) throws -> Report.Outcome {
        let options = try ExecutionOptions(isa: Machine.bestISA, threads: 1)
        let request = ReportRequest(plan: plan, shard: shard, options: options, out: folder.path, command: "test")
        return try Report.run(request, backends: backends, progress: ProgressReporter(quiet: true))
    }

    @Test func writesEveryPartOfTheReport() throws {
        let root = scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("report")
        let outcome = try run(folder)
        // SIFT_TEST_KEEP_REPORT=DIR keeps a copy to look at (e.g. in a browser).
        if let keep = ProcessInfo.processInfo.environment["SIFT_TEST_KEEP_REPORT"], !keep.isEmpty {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: folder, to: URL(fileURLWithPath: keep))
        }
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        for sweep in ReportSweep.allCases {
            #expect(files.contains(sweep.fileName))
            #expect(files.contains(sweep.rawValue + ".md"))
        }
        for name in ["index.html", "summary.md", "manifest.json", "accelerator-config.json", "figure5.svg",
                     "cpu-relative-latency-mlp-b4.svg", "accelerator-relative-step-mlp-b8.svg",
                     "product-speedup-cpu-64x64x16.svg", "product-speedup-accelerator-64x64x16.svg"] {
            #expect(files.contains(name), "missing \(name)")
        }
        // No staging directory is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["report"])
        let html = try String(contentsOf: folder.appendingPathComponent("index.html"), encoding: .utf8)
        for svg in files.filter({ $0.hasSuffix(".svg") }) {
            #expect(html.contains("src=\"\(svg)\""), "index.html does not show \(svg)")
            #expect(isWellFormedXML(try String(contentsOf: folder.appendingPathComponent(svg), encoding: .utf8)))
        }
        #expect(html.contains("fake-mesh"))
        #expect(html.contains("fp32 FMA peak, measured"))
        // The relative latency of a point is its latency over the dense row's.
        let cpu = try CSVTable(contentsOf: folder.appendingPathComponent("cpu-networks.csv").path).records
        let dense = try #require(cpu.first { $0["transform"] == "dense" })
        // Every row of the group carries the dense network's drift, measured after the group.
        #expect(cpu.allSatisfy { Double($0["baseline_drift"] ?? "").map { $0 > 0.5 && $0 < 2 } == true })
        for row in cpu {
            let expected = Double(row["latency_ms_median"]!)! / Double(dense["latency_ms_median"]!)!
            #expect(abs(Double(row["relative_latency"]!)! - expected) < 1e-4 * expected)
        }
        // The single-product figure carries the measured series and the ideal.
        let productSVG = try String(contentsOf: folder.appendingPathComponent("product-speedup-cpu-64x64x16.svg"), encoding: .utf8)
        for name in ["unstructured (CSR)", "N:M", "4x4 blocks (BSR)", "ideal 1/(1−s)"] { #expect(productSVG.contains(name)) }
        let products = try CSVTable(contentsOf: folder.appendingPathComponent("cpu-products.csv").path)
        #expect(try products.column("verified").allSatisfy { $0 == "yes" })
        #expect(outcome.summary.contains("CPU latency vs dense"))
    }

    /// The acceptance test at the report level: three shard folders merged equal the
    /// unsharded report's sweeps apart from the measured columns.
    @Test func threeShardsMergeIntoTheWholeReport() throws {
        let root = scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try run(root.appendingPathComponent("whole"))
        var folders: [String] = []
        for index in 1...3 {
            let folder = root.appendingPathComponent("shard\(index)")
            _ = try run(folder, shard: try Shard(index: index, count: 3))
            folders.append(folder.path)
        }
        let merged = root.appendingPathComponent("merged")
        _ = try Report.merge(folders: folders.reversed(), out: merged.path, progress: ProgressReporter(quiet: true))
        for sweep in ReportSweep.allCases {
            let whole = try CSVTable(contentsOf: root.appendingPathComponent("whole/\(sweep.fileName)").path)
            let combined = try CSVTable(contentsOf: merged.appendingPathComponent(sweep.fileName).path)
            let ignored = sweep.measuredColumns.union([SweepProvenance.shard])
            #expect(combined.removingColumns(ignored) == whole.removingColumns(ignored), "\(sweep)")
            #expect(combined.rows.count == whole.rows.count)
        }
        let manifest = try ReportManifest.read(folder: merged.path)
        #expect(manifest.runs.map(\.shard) == ["1/3", "2/3", "3/3"])
        #expect(FileManager.default.fileExists(atPath: merged.appendingPathComponent("index.html").path))
    }

    @Test func mergeRefusesFoldersOfDifferentPlans() throws {
        let root = scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        var other = smallPlan()
        other.products.removeLast()
        _ = try run(root.appendingPathComponent("a"), shard: try Shard(index: 1, count: 2))
        _ = try run(root.appendingPathComponent("b"), shard: try Shard(index: 2, count: 2), plan: other)
        #expect(throws: ReportError.self) {
            try Report.merge(folders: [root.appendingPathComponent("a").path, root.appendingPathComponent("b").path],
                             out: root.appendingPathComponent("m").path, progress: ProgressReporter(quiet: true))
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("m").path))
        // A folder that is not a report.
        #expect(throws: ReportError.self) {
            try Report.merge(folders: [root.path], out: root.appendingPathComponent("m").path, progress: ProgressReporter(quiet: true))
        }
    }

    @Test func badPlansAreRefusedBeforeAnythingIsWritten() throws {
        let root = scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        var plan = smallPlan()
        plan.products = ReportPlan.productGroup(m: 60, k: 60, n: 8, sparsities: [0.5], nm: [(1, 32)], blocks: [])
        #expect(throws: KernelError.self) { try run(root.appendingPathComponent("r"), plan: plan) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }
}

@Suite("report directory")
struct ReportDirectoryTests {
    @Test func writesAllOrNothing() throws {
        let root = scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let destination = root.appendingPathComponent("out")
        do {
            let directory = try ReportDirectory(destination: destination.path)
            try directory.write("a.txt", "hello")
            // Dropped without commit: nothing on disk.
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
        let directory = try ReportDirectory(destination: destination.path)
        try directory.write("a.txt", "hello")
        try directory.commit(manifest: "{\"tool\": \"sift\"}")
        #expect(try String(contentsOf: destination.appendingPathComponent("a.txt"), encoding: .utf8) == "hello")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["out"])
        // An earlier sift output is replaced whole.
        let again = try ReportDirectory(destination: destination.path)
        try again.write("b.txt", "new")
        try again.commit(manifest: "{\"tool\": \"sift\"}")
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.path).sorted() == ["b.txt", "manifest.json"])
    }

    @Test func refusesWhatSiftDidNotWrite() throws {
        let root = scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let manager = FileManager.default
        let full = root.appendingPathComponent("full")
        try manager.createDirectory(at: full, withIntermediateDirectories: false)
        try Data("x".utf8).write(to: full.appendingPathComponent("mine.txt"))
        let file = root.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        let link = root.appendingPathComponent("link")
        try manager.createSymbolicLink(at: link, withDestinationURL: root.appendingPathComponent("nowhere"))
        for bad in [full.path, file.path, link.path, ""] {
            #expect(throws: ReportError.self, "\(bad)") { try ReportDirectory(destination: bad) }
        }
        let fresh = try ReportDirectory(destination: root.appendingPathComponent("fresh").path)
        for name in ["a/b", "..", ".", "", "manifest.json"] { #expect(throws: ReportError.self) { try fresh.write(name, "x") } }
        #expect(try manager.contentsOfDirectory(atPath: full.path) == ["mine.txt"])
    }
}
