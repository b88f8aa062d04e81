import ArgumentParser
import Foundation
import SparseKernels

struct KernelsBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Effective GFLOP/s and speedup vs this project's dense GEMM, per shape × format × sparsity."
    )

    @Option(help: "Comma-separated MxKxN shapes (default: layers of the zoo models, from their GEMM lowering).")
    var shapes: String?

    @Option(parsing: .unconditional, help: "Comma-separated sparsities for csr and bsr, each in [0, 1).")
    var sparsity = "0.5,0.75,0.9,0.95"

    @Option(help: "Comma-separated formats: dense, csr, nm, bsr.")
    var formats = "dense,csr,nm,bsr"

    @Option(help: "Comma-separated N:M patterns for the nm format.")
    var nm = "2:4"

    @Option(help: "Comma-separated block shapes for the bsr format.")
    var block = "16x16,4x4"

    @Flag(help: "Evict the caches before every timed call (weights come from DRAM, as in a network larger than the L3).")
    var cold = false

    @Flag(help: "Time each sparse kernel interleaved with the dense kernel, sample by sample, for speedups robust to a busy machine.")
    var paired = false

    @Flag(help: "Also time the best vendor BLAS sgemm this process can load (MKL's libmkl_rt, OpenBLAS; SIFT_BLAS=path picks one) on every shape, interleaved with our dense kernel; skipped with a note when none loads.")
    var compare = false

    @OptionGroup var execution: ExecutionArguments

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func configuredBenchmark() throws(KernelError) -> KernelBenchmark {
        var benchmark = KernelBenchmark(options: try execution.resolve())
        if let shapes {
            benchmark.shapes = try list(shapes).map { text throws(KernelError) in try KernelBenchmark.Shape(parsing: text) }
        } else {
            benchmark.shapes = try KernelBenchmark.Shape.loweredDefaults()
        }
        benchmark.sparsities = try list(sparsity).map { text throws(KernelError) in
            guard let value = Double(text) else { throw KernelError.invalidArgument("sparsity '\(text)' is not a number") }
            return value + 0  // -0 is 0
        }
        benchmark.formats = try list(formats).map { text throws(KernelError) in
            guard let format = KernelBenchmark.Format(rawValue: text.lowercased()) else {
                throw KernelError.invalidArgument("unknown format '\(text)': expected dense, csr, nm or bsr")
            }
            return format
        }
        benchmark.nmPatterns = try list(nm).map { text throws(KernelError) in try WeightFormat.nm(parsing: text) }.compactMap(\.pattern)
        benchmark.blockPatterns = try list(block).map { text throws(KernelError) in try WeightFormat.bsr(parsing: text) }.compactMap(\.pattern)
        benchmark.coldCaches = cold
        benchmark.paired = paired
        try benchmark.validate()
        return benchmark
    }

    private func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() throws {
        try reportingErrors {
            var benchmark = try configuredBenchmark()
            Machine.bindThreads(benchmark.options.threads)
            // After every refusal, before measuring: this machine's tuning (searched now,
            // announced on stderr, when there is none yet).
            let (options, tuningSource) = try execution.resolveTuned()
            benchmark.options = options
            var blasNote: String?
            if compare {
                benchmark.compareWith = VendorBLAS.loadAvailable(threads: options.threads)
                if benchmark.compareWith.isEmpty {
                    blasNote = "--compare: no BLAS could be loaded (looked for libmkl_rt.so* and libopenblas.so*; set SIFT_BLAS=/path/to/lib); comparison skipped"
                    FileHandle.standardError.write(Data("note: \(blasNote!)\n".utf8))
                }
            }
            let topology = Machine.topology
            // The peak is the best of a few probe runs: a higher peak makes our own
            // percentages smaller, never larger.
            let peak = (0..<3).map { _ in Machine.measuredPeakGFLOPS(isa: options.isa, threads: options.threads) }.max() ?? 0
            guard peak > 0, peak.isFinite else {
                throw KernelError.invalidArgument("the FMA peak probe measured \(peak) GFLOP/s; cannot express results as % of peak")
            }
            let bandwidth = Machine.measuredReadBandwidthGBs(threads: options.threads)
            // The binding resource of the index-selecting kernels (CSR, N:M): one load per
            // FMA. Best of three, like the peak.
            var loadBound: [String: Double] = [:]
            if options.isa == .avx512 {
                for (name, fmas) in [("one load per fma", 0), ("nm 8x48 mix", 3), ("csr 64-column mix", 4), ("nm 4x96 mix", 6), ("csr 128-column mix", 8)] {
                    let best = (0..<3).compactMap { _ in Machine.measuredLoadBoundGFLOPS(fmasPerBroadcast: fmas, threads: options.threads, seconds: 0.1) }.max()
                    if let best { loadBound[name] = best }
                }
            }
            let header = BenchHeader(isa: options.isa.rawValue, threads: options.threads, peakGFLOPS: peak,
                                     dramReadGBs: bandwidth, caches: cold ? "cold" : "warm",
                                     cores: topology.cores, l1dBytes: topology.l1dBytes, l2Bytes: topology.l2Bytes,
                                     l3Bytes: topology.l3Bytes, cpu: Machine.cpuModel,
                                     tuned: options.tuning != nil, parameters: tuningSource.description,
                                     blas: benchmark.compareWith.map { BLASRecord(vendor: $0.vendor.rawValue, path: $0.path, details: $0.details) },
                                     blasNote: blasNote, loadBoundGFLOPS: loadBound)
            if !json { printTableHeader(header) }
            let results = try benchmark.run(peakGFLOPS: peak) { result in
                if json {
                    // Long runs show progress on stderr; stdout stays pure JSON.
                    FileHandle.standardError.write(Data("measured \(result.shape) \(result.format) \(result.pattern) s=\(result.sparsity)\n".utf8))
                } else {
                    printRow(result)
                }
            }
            if json {
                let report = BenchReport(machine: header, peak_gflops: peak, results: results)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                guard let encoded = try? encoder.encode(report) else {
                    throw KernelError.invalidArgument("the results hold a non-finite number and cannot be written as JSON")
                }
                print(String(decoding: encoded, as: UTF8.self))
            } else if results.contains(where: { !$0.verified }) {
                print("WARNING: some kernels did not match the dense product (verified = no)")
            }
        }
    }

    struct BenchHeader: Codable {
        let isa: String
        let threads: Int
        let peakGFLOPS: Double
        let dramReadGBs: Double
        let caches: String
        let cores: Int
        let l1dBytes: Int, l2Bytes: Int, l3Bytes: Int
        let cpu: String
        /// Whether the kernels ran with this machine's tuning (else the defaults).
        let tuned: Bool
        let parameters: String
        /// The vendor BLAS libraries compared against (`--compare`), and why none, if so.
        let blas: [BLASRecord]
        let blasNote: String?
        /// GFLOP/s of the load-port probe per instruction mix (AVX-512 only).
        let loadBoundGFLOPS: [String: Double]
        enum CodingKeys: String, CodingKey {
            case isa, threads, cores, caches, cpu, tuned, parameters, blas, blasNote = "blas_note"
            case loadBoundGFLOPS = "load_bound_gflops"
            case peakGFLOPS = "peak_gflops", dramReadGBs = "dram_read_gbs"
            case l1dBytes = "l1d_bytes", l2Bytes = "l2_bytes", l3Bytes = "l3_bytes"
        }
    }

    struct BLASRecord: Codable {
        let vendor: String
        let path: String
        let details: String
    }

    struct BenchReport: Codable {
        let machine: BenchHeader
        let peak_gflops: Double
        let results: [KernelBenchmark.Result]
    }

    func printTableHeader(_ h: BenchHeader) {
        print("sift kernels bench: ISA \(h.isa), \(h.threads) thread(s), measured fp32 FMA peak \(format(h.peakGFLOPS, 1)) GFLOP/s, DRAM read \(format(h.dramReadGBs, 1)) GB/s")
        print("parameters: \(h.parameters)")
        if !h.loadBoundGFLOPS.isEmpty {
            let parts = h.loadBoundGFLOPS.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value, 1)) (\(format(100 * $0.value / h.peakGFLOPS, 0))%)" }
            print("load-bound ceilings (FMAs fed by L1 loads, GFLOP/s, % of peak): " + parts.joined(separator: ", "))
        }
        for blas in h.blas { print("compare: \(blas.vendor) \(blas.path): \(blas.details)") }
        if let note = h.blasNote { print("compare: \(note)") }
        print("machine: \(h.cpu); \(h.cores) cores, L3 \(h.l3Bytes / 1024 / 1024) MiB")
        print("caches: \(h.caches == "cold" ? "cold (evicted before every timed call: weights stream from DRAM)" : "warm (repeated calls: weights that fit stay in cache)")")
        print("GFLOP/s counts nonzero FLOPs only; speedup is vs this project's dense GEMM, same shape and threads, this run.")
        print(pad("shape", 16) + pad("M", 6) + pad("K", 6) + pad("N", 6) + pad("format", 8) + pad("pattern", 14)
              + pad("sparsity", 9) + pad("time(us)", 11) + pad("GFLOP/s", 9) + pad("%peak", 7) + pad("speedup", 9) + "ok")
    }

    func printRow(_ r: KernelBenchmark.Result) {
        print(pad(r.shape, 16) + pad("\(r.M)", 6) + pad("\(r.K)", 6) + pad("\(r.N)", 6) + pad(r.format, 8)
              + pad(r.pattern, 14) + pad(format(r.sparsity, 2), 9) + pad(format(r.seconds * 1e6, 1), 11)
              + pad(format(r.gflops, 1), 9) + pad(format(r.percentOfPeak, 1), 7)
              + pad(format(r.speedupVsDense, 2) + "x", 9) + (r.verified ? "yes" : "NO"))
        if r.format == "blas" {
            // speedupVsDense of a BLAS row is our dense time over its time.
            print("    our dense kernel runs at \(format(r.speedupVsDense, 2))x the rate of \(r.pattern) sgemm here (samples interleaved)")
        }
    }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
