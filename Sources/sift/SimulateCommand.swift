import ArgumentParser
import DataflowSim
import Foundation
import SiftSweep
import SparseIFT

/// `sift simulate`: the CS-2-like dataflow simulator (module DataflowSim).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate training on a CS-2-like dataflow accelerator: a network's step, one matrix product, or a sweep.",
        subcommands: [SimulateNetworkCommand.self, SimulateMatmulCommand.self, SimulateSweepCommand.self, SimulateConfigCommand.self],
        defaultSubcommand: SimulateNetworkCommand.self)
}

/// A simulator error becomes one `error:` line and exit code 2, like the libraries' errors.
func reportingSimulatorErrors<T>(_ body: () throws -> T) throws -> T {
    try reportingErrors {
        do {
            return try body()
        } catch let error as SimulatorError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The machine options every simulate command takes.
struct MachineArguments: ParsableArguments {
    @Option(help: "Architecture description: a JSON file, or a name in configs/ (wse2, research-mesh).")
    var config = "wse2"

    @Option(name: .customLong("set"), help: "Override one parameter, key=value (repeatable), e.g. --set mesh.clock_hz=1.1e9.")
    var overrides: [String] = []

    @Option(help: "cycle (event-driven, cycle-level) | analytical (closed form of the same model).")
    var mode = "cycle"

    @Option(help: "Seed of the masks and of every sampled choice.")
    var seed: UInt64 = 0

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    /// Where a config name is looked up: ./configs, then a configs/ folder above the executable.
    static var searchDirectories: [String] {
        var directories = [FileManager.default.currentDirectoryPath + "/configs"]
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            directories.append(url.appendingPathComponent("configs").path)
            url = url.deletingLastPathComponent()
        }
        return directories
    }

    func resolved() throws -> ResolvedConfig {
        let path = try ConfigLoader.locate(config, searchDirectories: Self.searchDirectories)
        return try ConfigLoader.load(path: path, overrides: overrides)
    }

    func machine() throws -> DataflowMachine { try DataflowMachine(try resolved()) }

    func simulationMode() throws -> SimulationMode {
        guard let parsed = SimulationMode(rawValue: mode) else {
            throw SimulatorError.invalidArgument("--mode must be cycle or analytical, got '\(mode)'")
        }
        return parsed
    }

    var progress: (@Sendable (String) -> Void)? {
        if quiet { return nil }
        return { @Sendable (text: String) in FileHandle.standardError.write(Data("\(text)\n".utf8)) }
    }
}

func parseExecution(_ text: String) throws -> Execution {
    guard let execution = Execution(rawValue: text) else {
        throw SimulatorError.invalidArgument("--execution must be weight-streaming or pipelined, got '\(text)'")
    }
    return execution
}

func parseActivationSparsity(_ text: String) throws -> ActivationSparsitySetting {
    if text == "measured" { return .measured }
    guard let value = Double(text), !value.isNaN, value >= 0, value < 1 else {
        throw SimulatorError.invalidArgument("--activation-sparsity must be a number in [0, 1) or 'measured', got '\(text)'")
    }
    return .fixed(value)
}

func parseList<T>(_ text: String, name: String, _ parse: (String) throws -> T) throws -> [T] {
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard !items.isEmpty, !items.contains(where: \.isEmpty) else {
        throw SimulatorError.invalidArgument("--\(name) must be a comma-separated list without empty entries, got '\(text)'")
    }
    return try items.map(parse)
}

func parseSparsity(_ text: String) throws -> Double {
    guard let value = Double(text), !value.isNaN, value >= 0, value < 1 else {
        throw SimulatorError.invalidArgument("sparsity '\(text)' is not a number in [0, 1)")
    }
    return value
}

/// `sift simulate [--model …]`: one training step of a (transformed) zoo model.
struct SimulateNetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "Simulate one training step of a zoo model (transformed or not) and compare it with the dense model.")

    @OptionGroup var modelOptions: ZooModelArguments
    @OptionGroup var transformOptions: TransformArguments
    @OptionGroup var machineOptions: MachineArguments

    @Option(name: .customLong("batch-size"), help: "Samples per training step.")
    var batchSize = 1

    @Option(help: "weight-streaming (CS-2: weights stream from MemoryX) | pipelined (CS-1: each layer owns a region).")
    var execution = "weight-streaming"

    @Option(name: .customLong("activation-sparsity"), help: "Pipelined: fraction of each ReLU output that is zero, or 'measured'.")
    var activationSparsity = "0"

    @Option(name: .customLong("trace-layer"), help: "Layer whose product the region timeline shows (default: the slowest).")
    var traceLayer: String?

    @Flag(name: .customLong("no-dense-baseline"), help: "Do not simulate the dense model for the speedup.")
    var noDenseBaseline = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Directory for results.json, layers.csv, trace.json (Perfetto), config.resolved.json, summary.txt.")
    var out: String?

    func run() throws {
        let text = try reportingSimulatorErrors {
            if let out { try OutputFiles.checkDirectory(out) }
            let machine = try machineOptions.machine()
            let dense = try ModelZoo.build(modelOptions.model, options: try modelOptions.zooOptions())
            let transformed = try transformOptions.run(on: dense)
            let request = NetworkRequest(
                model: modelOptions.model, transformed: transformed, batch: batchSize, execution: try parseExecution(execution),
                mode: try machineOptions.simulationMode(), activationSparsity: try parseActivationSparsity(activationSparsity),
                seed: machineOptions.seed, traceLayer: traceLayer, compareWithDense: !noDenseBaseline,
                progress: machineOptions.progress)
            let run = try NetworkSimulation.run(request, machine: machine)
            let summary = ReportText.table(run.report, machine: machine.config)
            let results = try ReportText.json(run.report)
            if let out {
                try OutputFiles.writeDirectory([
                    "results.json": results,
                    "layers.csv": ReportText.layersCSV(run.report),
                    "config.resolved.json": machine.config.resolved.json(),
                    "trace.json": try ReportText.chromeTrace(step: run.stepTimeline, region: run.regionTimeline,
                                                             regionProduct: run.regionTimelineProduct, clockHz: machine.config.clockHz),
                    "summary.txt": summary,
                ], to: out, command: "simulate network")
            }
            let stats = run.report.simulator
            machineOptions.progress?(String(format: "simulator: %d events, %.4g cycles simulated cycle by cycle in %.2f s (%.3g simulated cycles/s)",
                                            stats.events, stats.simulatedCycles, stats.wallSeconds, stats.simulatedCyclesPerSecond))
            return json ? results : summary
        }
        print(text, terminator: "")
    }
}

/// `sift simulate matmul`: one product `Y (M×N) = W (M×K) · X (K×N)`.
struct SimulateMatmulCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matmul",
        abstract: "Simulate one product Y (MxN) = W (MxK) X (KxN) with a seeded sparse W, against the dense product.")

    @Option(help: "Weight rows (output channels).") var m: Int
    @Option(help: "Reduction length.") var k: Int
    @Option(help: "Positions (tokens or pixels × batch).") var n: Int

    @Option(parsing: .unconditional, help: "Sparsity of W in [0, 1) (N:M patterns fix their own).")
    var sparsity: Double = 0

    @Option(help: "unstructured | N:M (e.g. 2:4) | RxC blocks (e.g. 4x4).")
    var pattern = "unstructured"

    @Option(help: "Comma-separated passes: forward, input_gradient, weight_gradient.")
    var passes = "forward"

    @Option(help: "weight-streaming | pipelined.")
    var execution = "weight-streaming"

    @Option(name: .customLong("activation-sparsity"), help: "Pipelined: fraction of the input activations that are zero.")
    var activationSparsity: Double = 0

    @Flag(help: "Also compute the real values on the simulated cores and check them against the dense reference product.")
    var functional = false

    @OptionGroup var machineOptions: MachineArguments

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Directory for results.json, products.csv, config.resolved.json.")
    var out: String?

    func run() throws {
        let text = try reportingSimulatorErrors {
            if let out { try OutputFiles.checkDirectory(out) }
            let machine = try machineOptions.machine()
            let parsedPattern: SparsityPattern = try SparsityPattern(parsing: pattern)
            let parsedPasses = try parseList(passes, name: "passes") { text -> Pass in
                guard let pass = Pass(rawValue: text) else {
                    throw SimulatorError.invalidArgument("unknown pass '\(text)'; expected forward, input_gradient, weight_gradient")
                }
                return pass
            }
            let request = MatmulRequest(m: m, k: k, n: n, sparsity: sparsity, pattern: parsedPattern, passes: parsedPasses,
                                        mode: try machineOptions.simulationMode(), execution: try parseExecution(execution),
                                        activationSparsity: activationSparsity, functional: functional, seed: machineOptions.seed)
            let report = try MatmulSimulation.run(request, machine: machine)
            let results = try ReportText.json(report)
            let summary = ReportText.table(report, machine: machine.config)
            if let out {
                try OutputFiles.writeDirectory([
                    "results.json": results, "products.csv": ReportText.matmulCSV(report),
                    "config.resolved.json": machine.config.resolved.json(), "summary.txt": summary,
                ], to: out, command: "simulate matmul")
            }
            return json ? results : summary
        }
        print(text, terminator: "")
    }
}

/// `sift simulate sweep`: transformations × sparsities × patterns, one CSV row each.
struct SimulateSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Simulate a grid of transformations x sparsities x patterns (of --model, or of one --m/--k/--n product), one CSV row each.")

    @Option(help: "Model from the zoo (omit it and give --m --k --n for a single product).")
    var model: String?

    @Option(help: "Tokens per sequence for the GPT models.")
    var sequence: Int = 2048

    @Option(name: .customLong("mlp-widths"), help: "Comma-separated widths of `mlp`, input first.")
    var mlpWidths: String = "784,1024,1024,1024,10"

    @Option(help: "Single product: weight rows.") var m: Int?
    @Option(help: "Single product: reduction length.") var k: Int?
    @Option(help: "Single product: positions.") var n: Int?

    @Option(help: "Comma-separated transformations (network sweeps).")
    var transforms = "dense,wide,parallel,factorized,doped"

    @Option(help: "Comma-separated sparsities.")
    var sparsities = "0.5,0.75,0.9"

    @Option(help: "Comma-separated patterns: unstructured, N:M, RxC.")
    var patterns = "unstructured"

    @Option(help: "uniform | erk.")
    var distribution = "uniform"

    @Option(name: .customLong("batch-size"), help: "Samples per training step.")
    var batchSize = 1

    @Option(help: "weight-streaming | pipelined.")
    var execution = "weight-streaming"

    @Option(name: .customLong("activation-sparsity"), help: "Pipelined: zero fraction of ReLU outputs, or 'measured'.")
    var activationSparsity = "0"

    @OptionGroup var machineOptions: MachineArguments

    @Option(help: "Run shard i of n (1-based, e.g. 2/3): its points plus the dense baseline they need.")
    var shard: String = "1/1"

    @Option(help: "CSV file to write (default: standard output).")
    var out: String?

    func run() throws {
        let text = try reportingSimulatorErrors { () -> String in
            if let out { try OutputFiles.checkFile(out) }
            let machine = try machineOptions.machine()
            let mode = try machineOptions.simulationMode()
            let executionMode = try parseExecution(execution)
            let patternList = try parseList(patterns, name: "patterns") { try SparsityPattern(parsing: $0) }
            let sparsityList = try parseList(sparsities, name: "sparsities", parseSparsity)
            let parsedShard: Shard
            do { parsedShard = try Shard(parsing: shard) } catch { throw SimulatorError.invalidArgument("--shard: \(error)") }
            let csv: String
            if let model {
                guard m == nil, k == nil, n == nil else {
                    throw SimulatorError.invalidArgument("give either --model or --m/--k/--n, not both")
                }
                let transformList = try parseList(transforms, name: "transforms") { try TransformKind(parsing: $0) }
                guard let parsedDistribution = SparsityDistribution(rawValue: distribution) else {
                    throw SimulatorError.invalidArgument("--distribution must be uniform or erk, got '\(distribution)'")
                }
                let dense = try ModelZoo.build(model, options: try ZooModelArguments.zooOptions(sequence: sequence, mlpWidths: mlpWidths))
                csv = try Sweep.network(model: model, dense: dense, transforms: transformList, sparsities: sparsityList,
                                        patterns: patternList, batch: batchSize, execution: executionMode, mode: mode,
                                        activation: try parseActivationSparsity(activationSparsity), seed: machineOptions.seed,
                                        options: TransformOptions(distribution: parsedDistribution), machine: machine,
                                        shard: parsedShard, progress: machineOptions.progress)
            } else {
                guard let m, let k, let n else {
                    throw SimulatorError.invalidArgument("give --model, or --m, --k and --n for a single product")
                }
                guard let activation = Double(activationSparsity), activation >= 0, activation < 1 else {
                    throw SimulatorError.invalidArgument("--activation-sparsity for a product must be a number in [0, 1)")
                }
                csv = try Sweep.matmul(m: m, k: k, n: n, sparsities: sparsityList, patterns: patternList, execution: executionMode,
                                       mode: mode, activationSparsity: activation, seed: machineOptions.seed, machine: machine,
                                       shard: parsedShard, progress: machineOptions.progress)
            }
            if let out {
                try OutputFiles.writeFile(csv, to: out)
                return ""
            }
            return csv
        }
        print(text, terminator: "")
    }
}

/// `sift simulate config`: the fully resolved architecture description.
struct SimulateConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print a configuration fully resolved (every parameter with its value, unit, default and source), or the defaults.")

    @Option(help: "Architecture description: a JSON file, or a name in configs/.")
    var config = "wse2"

    @Option(name: .customLong("set"), help: "Override one parameter, key=value (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Print the schema defaults as a config file (what configs/wse2.json holds).")
    var defaults = false

    func run() throws {
        let text = try reportingSimulatorErrors {
            if defaults {
                return ConfigLoader.defaults(name: "wse2", description: WSE2.description).json(resolution: false)
            }
            let path = try ConfigLoader.locate(config, searchDirectories: MachineArguments.searchDirectories)
            return try ConfigLoader.load(path: path, overrides: overrides).json()
        }
        print(text, terminator: "")
    }
}
