import ArgumentParser
import Foundation
import SparseIFT

/// Options shared by the commands that pick a zoo model.
struct ZooModelArguments: ParsableArguments {
    @Option(help: "Model from the zoo (see `sift models`).")
    var model: String

    // Unconditional parsing: a negative value reaches the range check instead of being
    // taken for a flag ("Missing value").
    @Option(parsing: .unconditional, help: "Tokens per sequence for the GPT models.")
    var sequence: Int = 2048

    @Option(name: .customLong("mlp-widths"), help: "Comma-separated widths of `mlp`, input first.")
    var mlpWidths: String = "784,1024,1024,1024,10"

    // Unconditional parsing so a negative value reaches the range check.
    @Option(parsing: .unconditional, help: "Transformer blocks of the GPT models (default: the model's own; e.g. 2 for a quick GPT-3-Small-shaped model).")
    var layers: Int?

    func zooOptions() throws -> ModelZoo.Options {
        var options = try Self.zooOptions(sequence: sequence, mlpWidths: mlpWidths)
        options.layers = layers
        return options
    }

    /// Parses the zoo options; shared with `sift traces`. Empty entries (`784,,10`) are
    /// refused rather than skipped, since dropping a layer silently changes the model.
    static func zooOptions(sequence: Int, mlpWidths: String) throws -> ModelZoo.Options {
        var widths: [Int] = []
        for entry in mlpWidths.split(separator: ",", omittingEmptySubsequences: false) {
            guard let width = Int(entry.trimmingCharacters(in: .whitespaces)) else {
                throw SparseIFTError.invalidArgument("--mlp-widths must be comma-separated integers, got '\(mlpWidths)' (entry '\(entry)')")
            }
            widths.append(width)
        }
        return ModelZoo.Options(sequenceLength: sequence, mlpWidths: widths)
    }
}

/// Options shared by the commands that transform a model.
struct TransformArguments: ParsableArguments {
    @Option(help: "dense | wide | parallel | factorized | doped (default: dense).")
    var transform: String = "dense"

    // Unconditional parsing so a negative value reaches our range check instead of
    // being taken for a flag.
    @Option(parsing: .unconditional, help: "Sparsity s in [0, 1) of the sparse layers (defaults to the pattern's for N:M, else 0).")
    var sparsity: Double?

    @Option(help: "unstructured | N:M (e.g. 2:4) | RxC blocks (e.g. 4x4).")
    var pattern: String = "unstructured"

    @Option(help: "uniform | erk: how the sparsity is spread over the layers.")
    var distribution: String = "uniform"

    @Option(name: .customLong("parallel-activation"), help: "after-sum | per-branch (Sparse Parallel; default: the model family's).")
    var parallelActivation: String?

    @Flag(name: .customLong("no-flop-search"), help: "Sparse Wide: keep s instead of searching it to match the dense FLOPs.")
    var noFLOPSearch = false

    @Flag(name: .customLong("transform-shortcuts"),
          help: "Sparse Parallel, Factorized, Doped: transform the ResNets' 1x1 projection shortcuts too (the authors keep each one a single sparse conv).")
    var transformShortcuts = false

    @Option(name: .customLong("doped-lowrank"),
            help: "Sparse Doped's U and V: dense (the paper: iso-FLOP) | sparse (the authors' released code: masked at s).")
    var dopedLowRank: String = "dense"

    func run(on dense: Network) throws -> TransformedNetwork {
        let kind = try TransformKind(parsing: transform)
        let pattern = try SparsityPattern(parsing: pattern)
        guard let distribution = SparsityDistribution(rawValue: distribution) else {
            throw SparseIFTError.invalidArgument("distribution '\(distribution)' is not uniform or erk")
        }
        var activation: ParallelActivation?
        if let parallelActivation {
            guard let parsed = ParallelActivation(rawValue: parallelActivation) else {
                throw SparseIFTError.invalidArgument("parallel activation '\(parallelActivation)' is not after-sum or per-branch")
            }
            activation = parsed
        }
        let s = sparsity ?? pattern.fixedSparsity ?? 0
        guard let lowRank = DopedLowRank(rawValue: dopedLowRank) else {
            throw SparseIFTError.invalidArgument("--doped-lowrank '\(dopedLowRank)' is not dense or sparse")
        }
        let options = TransformOptions(pattern: pattern, distribution: distribution, parallelActivation: activation,
                                       matchDenseFLOPs: !noFLOPSearch, transformShortcuts: transformShortcuts,
                                       dopedLowRank: lowRank)
        return try SparseIFT.transform(dense, kind: kind, sparsity: s, options: options)
    }
}

struct TransformCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transform",
        abstract: "Apply a Sparse Iso-FLOP Transformation to a zoo model and print its accounting.")

    @OptionGroup var modelOptions: ZooModelArguments
    @OptionGroup var transformOptions: TransformArguments

    @Option(name: .customLong("rigl-interval"), parsing: .unconditional, help: "RigL mask-update interval ΔT for the training-FLOP figure.")
    var rigLInterval: Int = 100

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(name: .customLong("all-nodes"), help: "List every node, weightless ones included.")
    var allNodes = false

    func run() throws {
        let text = try reportingErrors {
            guard rigLInterval >= 1 else {
                throw SparseIFTError.invalidArgument("--rigl-interval must be at least 1, got \(rigLInterval)")
            }
            let dense = try ModelZoo.build(modelOptions.model, options: try modelOptions.zooOptions())
            let transformed = try transformOptions.run(on: dense)
            let report = TransformReport(model: modelOptions.model, transformed: transformed, rigLUpdateInterval: rigLInterval,
                                         includeAll: allNodes)
            return json ? try report.json() : report.table()
        }
        print(text)
    }
}
