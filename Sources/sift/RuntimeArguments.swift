import ArgumentParser
import Foundation
import SparseIFT
import SparseKernels
import SparseRuntime

/// Options shared by `sift run` and `sift run sweep`: where and how the plan runs.
struct RuntimeArguments: ParsableArguments {
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Samples per batch.")
    var batchSize: Int = 1

    @Option(parsing: .unconditional, help: "OpenMP threads (default: SIFT_THREADS, else one per core).")
    var threads: Int?

    @Option(help: "scalar | avx2 | avx512 (default: SIFT_ISA, else the best this CPU has).")
    var isa: String?

    @Option(name: .customLong("plan-cache"), help: "Plan cache file (default: $XDG_CACHE_HOME/sift/plans.json).")
    var planCache: String?

    @Flag(name: .customLong("no-plan-cache"), help: "Neither read nor write a plan cache: time every layer.")
    var noPlanCache = false

    @Flag(help: "Time every layer's kernels again and replace the cached decisions.")
    var retune = false

    @Option(name: .customLong("memory-limit"), parsing: .unconditional, help: "Refuse plans needing more (bytes, or e.g. 512MiB, 2GB).")
    var memoryLimit: String?

    @Option(help: "Force a kernel family on every weight layer that allows it: dense | csr | nm | bsr.")
    var kernel: String?

    @Option(name: .customLong("chunk-bytes"), help: ArgumentHelp("im2col chunk size in bytes.", visibility: .hidden))
    var chunkBytes: Int = RuntimeOptions.defaultChunkBytes

    @Option(name: .customLong("convolution-schedule"), help: ArgumentHelp("automatic | perThreadColumns | sharedChunks.", visibility: .hidden))
    var convolutionSchedule: String = "automatic"

    @Option(help: "Kernel tuning file (default: $XDG_CACHE_HOME/sift/kernel-tuning.json, else ~/.cache/...): used when it has this machine's record (`sift kernels tune`), never searched; SIFT_TUNING=defaults skips it.")
    var tuning: String?

    @Flag(name: .customLong("no-bind"), help: "Do not pin threads to cores.")
    var noBind = false

    func options(batchSize batch: Int? = nil) throws -> RuntimeOptions {
        let isaChoice = try isa.map { try ISA(parsing: $0) }
        let execution = try ExecutionOptions.fromEnvironment(isa: isaChoice, threads: threads)
        let cache = noPlanCache ? PlanCache(path: nil) : PlanCache(path: planCache ?? PlanCache.defaultPath)
        guard chunkBytes > 0 else { throw RuntimeError.invalidArgument("--chunk-bytes must be positive, got \(chunkBytes)") }
        guard let schedule = ConvolutionSchedule(rawValue: convolutionSchedule) else {
            throw RuntimeError.invalidArgument("--convolution-schedule '\(convolutionSchedule)' is not one of \(ConvolutionSchedule.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var options = RuntimeOptions(batchSize: batch ?? batchSize, execution: execution,
                                     memoryLimitBytes: try memoryLimit.map(Self.parseBytes), planCache: cache, retune: retune,
                                     forcedFamily: try kernel.map { try KernelFamily(parsingFamily: $0) }, bindThreads: !noBind,
                                     convolutionChunkBytes: chunkBytes)
        options.convolutionSchedule = schedule
        options.tuning = .machine(file: tuning)
        return options
    }

    /// "1048576", "512MiB", "512MB", "2GiB", "1.5G": binary units for KiB/MiB/GiB and
    /// K/M/G, decimal for KB/MB/GB.
    static func parseBytes(_ text: String) throws -> Int {
        let (kibi, mebi, gibi, tebi) = (1024.0, 1048576.0, 1073741824.0, 1099511627776.0)
        let units: [(String, Double)] = [("KiB", kibi), ("MiB", mebi), ("GiB", gibi), ("TiB", tebi),
                                         ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12),
                                         ("K", kibi), ("M", mebi), ("G", gibi), ("T", tebi), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = trimmed
        var scale = 1.0
        for (suffix, factor) in units where trimmed.uppercased().hasSuffix(suffix.uppercased()) {
            number = String(trimmed.dropLast(suffix.count))
            scale = factor
            break
        }
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0,
              value * scale < 9e18 else {
            throw RuntimeError.invalidArgument("--memory-limit '\(text)' is not a positive size like 2GiB, 512MB or 1048576")
        }
        return Int(value * scale)
    }

    /// Prints the plan's warnings (an untrusted plan cache...) on stderr.
    static func printWarnings(_ plan: Plan) {
        for warning in plan.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
    }
}
