import ArgumentParser
import Foundation
import SparseIFT
import SparseKernels
import SparseRuntime

/// `sift run`: a command group whose default is the benchmark, so `sift run --model …`
/// benchmarks and `sift run sweep …` sweeps (the options of each stay their own).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Compile a model onto the CPU kernels and benchmark it (or run --input once); `sift run sweep` for sweeps.",
        subcommands: [RunBenchmarkCommand.self, SweepCommand.self],
        defaultSubcommand: RunBenchmarkCommand.self)
}

/// `sift run [benchmark]`: compiles a (transformed) zoo model onto the kernels and
/// benchmarks it the way `deepsparse.benchmark` does, or runs one batch of the user's data.
struct RunBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Compile a model onto the CPU kernels and benchmark it (or run --input once).",
        discussion: """
            Prints throughput, latency (mean, median, std, p90, p99), iterations and a per-layer profile \
            (time, share, GFLOP/s on nonzero weights, % of the measured FMA peak, kernel and runner-up). \
            Kernel decisions are timed once per machine, thread count and layer shape and kept in the plan cache.
            """)

    @OptionGroup var modelOptions: ZooModelArguments
    @OptionGroup var transformOptions: TransformArguments
    @OptionGroup var runtimeOptions: RuntimeArguments

    @Option(help: "Directory of .npy weights and masks (from `sift weights`); default: seeded Kaiming weights.")
    var weights: String?

    @Option(parsing: .unconditional, help: "Seed of the Kaiming weights when --weights is not given.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Seconds of timed iterations.")
    var time: Double = 10

    @Option(parsing: .unconditional, help: "Seconds of warm-up before timing.")
    var warmup: Double = 2

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "Print the compiled plan and stop.")
    var explain = false

    @Flag(name: .customLong("reference-kernel"), help: "Also time our dense kernel alone on the largest layer's shape, between iterations (framework overhead).")
    var referenceKernel = false

    @Option(help: "Run one batch of this .npy ([batch] + the model's input shape) instead of benchmarking.")
    var input: String?

    @Option(help: "Where to write the output of --input (.npy).")
    var output: String?

    @Option(name: .customLong("profile-rows"), parsing: .unconditional, help: "Rows of the per-layer profile to print (slowest first).")
    var profileRows: Int = 25

    func run() throws {
        try reportingErrors {
            guard time >= 0, time.isFinite, warmup >= 0, warmup.isFinite else {
                throw RuntimeError.invalidArgument("--time and --warmup must be non-negative seconds, got \(time) and \(warmup)")
            }
            guard profileRows >= 1 else { throw RuntimeError.invalidArgument("--profile-rows must be at least 1, got \(profileRows)") }
            guard (input == nil) == (output == nil) else {
                throw RuntimeError.invalidArgument("--input and --output go together")
            }
            if let output { try SafeFile.checkOutput(output) }
            let zooOptions = try modelOptions.zooOptions()
            let transformed = try transformOptions.run(on: try ModelZoo.build(modelOptions.model, options: zooOptions))
            let network = transformed.network
            let parameters = try loadParameters(for: transformed, zooOptions: zooOptions)
            if let input, let output {
                try runOnce(network, parameters: parameters, input: input, output: output)
                return
            }
            let plan = try Runtime.compile(network, parameters: parameters, options: try runtimeOptions.options())
            RuntimeArguments.printWarnings(plan)
            if explain {
                print(plan.explain())
                return
            }
            let result = try Benchmark.run(plan, input: plan.syntheticInput(),
                                           options: BenchmarkOptions(seconds: time, warmupSeconds: warmup, referenceKernel: referenceKernel))
            print(json ? try result.json() : result.table(limit: max(1, profileRows)))
        }
    }

    /// Seeded Kaiming weights, or a `sift weights` directory made for exactly this network
    /// (its manifest, masks and checksums are checked).
    func loadParameters(for transformed: TransformedNetwork, zooOptions: ModelZoo.Options) throws -> ParameterStore {
        guard let weights else { return try ParameterStore.initialize(transformed.network, options: .init(seed: seed)) }
        let identity = WeightsManifest.Identity(model: modelOptions.model, zooOptions: zooOptions, transformed: transformed)
        return try ParameterStore.load(from: weights, for: transformed.network, identity: identity)
    }

    func runOnce(_ network: Network, parameters: ParameterStore, input: String, output: String) throws {
        let x = try NPY.read(contentsOf: input)
        guard x.shape.count == network.input.shape.count + 1, let batch = x.shape.first, batch >= 1 else {
            throw RuntimeError.invalidInput("\(input) has shape \(x.shape); \(network.name) takes [batch] + \(network.input.shape)")
        }
        let plan = try Runtime.compile(network, parameters: parameters, options: try runtimeOptions.options(batchSize: batch))
        RuntimeArguments.printWarnings(plan)
        let y = try plan.run(x)
        // The input was checked finite, so a non-finite output is a float32 overflow: no silent infinities.
        if let bad = y.values.firstIndex(where: { !$0.isFinite }) {
            throw RuntimeError.invalidInput("the output overflows float32 (\(y.values[bad]) at index \(bad)) although \(input) is finite; nothing written")
        }
        try SafeFile.write(NPY.encode(y), to: output)
        print("wrote \(output), shape \(y.shape)")
    }
}
