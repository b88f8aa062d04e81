import ArgumentParser
import Foundation
import SiftONNX
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
        abstract: "Compile a zoo or ONNX model onto the CPU kernels and benchmark it (or run --input once).",
        discussion: """
            Prints throughput, latency (mean, median, std, p90, p99), iterations and a per-layer profile \
            (time, share, GFLOP/s on nonzero weights, % of the measured FMA peak, kernel and runner-up). \
            Kernel decisions are timed once per machine, thread count and layer shape and kept in the plan cache.
            """)

    @OptionGroup var modelOptions: RunModelArguments
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
        let started = DispatchTime.now().uptimeNanoseconds
        try reportingErrors {
            guard time >= 0, time.isFinite, warmup >= 0, warmup.isFinite else {
                throw RuntimeError.invalidArgument("--time and --warmup must be non-negative seconds, got \(time) and \(warmup)")
            }
            guard profileRows >= 1 else { throw RuntimeError.invalidArgument("--profile-rows must be at least 1, got \(profileRows)") }
            guard (input == nil) == (output == nil) else {
                throw RuntimeError.invalidArgument("--input and --output go together")
            }
            if let output { try SafeFile.checkOutput(output) }
            let (network, parameters) = try loadModel()
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
            let ready = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            var result = try Benchmark.run(plan, input: plan.syntheticInput(),
                                           options: BenchmarkOptions(seconds: time, warmupSeconds: warmup, referenceKernel: referenceKernel))
            result.startSeconds = ready
            print(json ? try result.json() : result.table(limit: max(1, profileRows)))
        }
    }

    /// The network and its weights: an ONNX file as it is, or a (transformed) zoo model with
    /// seeded Kaiming weights or a `sift weights` directory made for exactly this network
    /// (its manifest, masks and checksums are checked).
    func loadModel() throws -> (Network, ParameterStore) {
        switch (modelOptions.model, modelOptions.onnx) {
        case (.some, .some):
            throw RuntimeError.invalidArgument("--model and --onnx are two sources of a network: give one of them")
        case (nil, nil):
            throw RuntimeError.invalidArgument("give --model <zoo name> (see `sift models`) or --onnx <file.onnx>")
        case (nil, .some(let path)):
            var ignored = modelOptions.zooOnlyOptionsGiven + transformOptions.optionsGiven
            if weights != nil { ignored.append("--weights") }
            guard ignored.isEmpty else {
                throw RuntimeError.invalidArgument(
                    "\(ignored.joined(separator: ", ")) apply to zoo models; an ONNX model runs as it is (its weights, sparsity and shapes are in the file)")
            }
            do {
                return try ONNXModel.load(path: path)
            } catch let error as ONNXError {
                throw RuntimeError.invalidInput("\(path): \(error.description)")
            }
        case (.some(let model), nil):
            let zooOptions = try modelOptions.zooOptions()
            let transformed = try transformOptions.run(on: try ModelZoo.build(model, options: zooOptions))
            guard let weights else {
                return (transformed.network, try ParameterStore.initialize(transformed.network, options: .init(seed: seed)))
            }
            let identity = WeightsManifest.Identity(model: model, zooOptions: zooOptions, transformed: transformed)
            return (transformed.network, try ParameterStore.load(from: weights, for: transformed.network, identity: identity))
        }
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

/// Where `sift run` takes its network from: a zoo model (with the zoo's size options) or an
/// ONNX file (`--onnx`, the habit of DeepSparse users). Like `ZooModelArguments`, with the
/// model optional and the zoo's size options unset by default, so that an ONNX run can
/// refuse them instead of ignoring them.
struct RunModelArguments: ParsableArguments {
    @Option(help: "Model from the zoo (see `sift models`).")
    var model: String?

    @Option(help: "An ONNX model to run instead of a zoo model (from `sift export`, or the operators `sift import` reads).")
    var onnx: String?

    @Option(parsing: .unconditional, help: "Tokens per sequence for the GPT models (default: 2048).")
    var sequence: Int?

    @Option(name: .customLong("mlp-widths"), help: "Comma-separated widths of `mlp`, input first (default: 784,1024,1024,1024,10).")
    var mlpWidths: String?

    @Option(parsing: .unconditional, help: "Transformer blocks of the GPT models (default: the model's own; e.g. 2 for a quick GPT-3-Small-shaped model).")
    var layers: Int?

    func zooOptions() throws -> ModelZoo.Options {
        var options = try ZooModelArguments.zooOptions(sequence: sequence ?? 2048, mlpWidths: mlpWidths ?? "784,1024,1024,1024,10")
        options.layers = layers
        return options
    }

    /// The zoo's size options the user gave.
    var zooOnlyOptionsGiven: [String] {
        [("--sequence", sequence != nil), ("--mlp-widths", mlpWidths != nil), ("--layers", layers != nil)]
            .filter(\.1).map(\.0)
    }
}

extension TransformArguments {
    /// The transform options the user set to something other than their defaults (spelled
    /// out: an unparsed `TransformArguments()` cannot be read).
    var optionsGiven: [String] {
        [("--transform", transform != "dense"), ("--sparsity", sparsity != nil), ("--pattern", pattern != "unstructured"),
         ("--distribution", distribution != "uniform"), ("--parallel-activation", parallelActivation != nil),
         ("--no-flop-search", noFLOPSearch), ("--transform-shortcuts", transformShortcuts),
         ("--doped-lowrank", dopedLowRank != "dense")]
            .filter(\.1).map(\.0)
    }
}
