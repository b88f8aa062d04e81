import Foundation
import Testing
import SparseKernels

/// The Sparse-IFT commands end to end: `sift transform`, `models`, `weights`, `reference`
/// and `traces`. Refusals must exit non-zero with one `error:` line, never trap, and
/// write nothing.
@Suite("sift transform / models / weights / reference / traces")
struct SparseIFTCommandTests {
    /// Checks a refusal: non-zero exit, an `error:` line naming `mentions`, no trap.
    func expectRefusal(_ arguments: [String], mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try SiftProcess.run(arguments)
        let context = "\(arguments.joined(separator: " ")): status \(outcome.status), stderr \(outcome.standardError)"
        #expect(outcome.status != 0, "\(context)", sourceLocation: sourceLocation)
        // Exit 132/133/134 are SIGILL/SIGTRAP/SIGABRT: a Swift trap, not a refusal.
        #expect(![132, 133, 134].contains(outcome.status), "\(context)", sourceLocation: sourceLocation)
        #expect(!outcome.standardError.contains("Fatal error"), "\(context)", sourceLocation: sourceLocation)
        #expect(outcome.standardError.lowercased().contains("error:"), "\(context)", sourceLocation: sourceLocation)
        for text in mentions {
            #expect(outcome.standardError.contains(text), "\(context): should mention \(text)", sourceLocation: sourceLocation)
        }
    }

    func json(_ outcome: SiftProcess.Outcome) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8))
        return try #require(object as? [String: Any])
    }

    // MARK: transform

    @Test func transformPrintsTheReportAsJSON() throws {
        let outcome = try SiftProcess.run(["transform", "--model", "resnet18-cifar", "--transform", "parallel", "--sparsity", "0.5", "--json"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let report = try json(outcome)
        #expect(report["transform"] as? String == "parallel")
        #expect(report["base"] as? Int == 2)
        #expect((report["notes"] as? [String])?.isEmpty == true)
        let totals = try #require(report["totals"] as? [String: Any])
        let ratio = try #require(totals["flop_ratio_vs_dense"] as? Double)
        // The authors' structure: the three 1x1 shortcuts (6.29 M of 555.5 M MACs) are
        // single sparse convs, at half their FLOPs; everything else is iso-FLOP.
        #expect(abs(ratio - (1 - 0.5 * 6_291_456 / 555_468_800)) < 1e-6)
        let all = try SiftProcess.run(["transform", "--model", "resnet18-cifar", "--transform", "parallel", "--sparsity", "0.5",
                                       "--transform-shortcuts", "--json"])
        let allTotals = try #require(try json(all)["totals"] as? [String: Any])
        #expect(abs((allTotals["flop_ratio_vs_dense"] as? Double ?? 0) - 1) < 1e-9)
        for key in ["forward_flops", "training_flops", "rigl_training_flops", "search_space", "params"] {
            #expect(totals[key] != nil, "missing \(key)")
        }
    }

    /// The issue's example: a block pattern on Sparse Wide's widened layers, and the
    /// authors' options (shortcuts, Doped's U and V) on the command line.
    @Test func transformFollowsTheAuthorsConventions() throws {
        let blocks = try SiftProcess.run(["transform", "--model", "resnet18-cifar", "--transform", "wide", "--sparsity", "0.9",
                                          "--pattern", "16x16", "--json"])
        #expect(blocks.status == 0, "\(blocks.standardError)")
        let report = try json(blocks)
        #expect(report["pattern"] as? String == "16x16")
        let layers = try #require(report["layers"] as? [[String: Any]])
        let conv = try #require(layers.first { $0["name"] as? String == "layer1.0.conv1" })
        #expect(conv["weight_shape"] as? [Int] == [202, 202, 3, 3])
        let doped = try SiftProcess.run(["transform", "--model", "resnet18-cifar", "--transform", "doped", "--sparsity", "0.5",
                                         "--doped-lowrank", "sparse"])
        #expect(doped.status == 0 && doped.standardOutput.contains("note: U and V masked at s"), "\(doped.standardError)")
        try expectRefusal(["transform", "--model", "resnet18-cifar", "--transform", "doped", "--sparsity", "0.5", "--doped-lowrank", "half"],
                          mentions: ["--doped-lowrank", "half"])
        let help = try SiftProcess.run(["transform", "--help"])
        #expect(help.standardOutput.contains("--transform-shortcuts") && help.standardOutput.contains("--doped-lowrank"))
        #expect(help.standardOutput.contains("released code"))
    }

    @Test func transformNotesWhenNotIsoFLOP() throws {
        let parallel = try SiftProcess.run(["transform", "--model", "resnet18-cifar", "--transform", "parallel", "--sparsity", "0.2", "--json"])
        #expect(parallel.status == 0)
        #expect((try json(parallel)["notes"] as? [String])?.contains { $0.contains("not iso-FLOP") && $0.contains("x0.80") } == true)
        let erk = try SiftProcess.run(["transform", "--model", "resnet18-cifar", "--transform", "factorized", "--sparsity", "0.9",
                                       "--distribution", "erk"])
        #expect(erk.status == 0)
        #expect(erk.standardOutput.contains("note: not iso-FLOP: the ERK distribution matches the parameter count"))
    }

    @Test func transformAtTheLimitsSucceeds() throws {
        for arguments in [
            ["--model", "gpt3-medium", "--sequence", "65536", "--transform", "wide", "--sparsity", "0.999"],
            ["--model", "resnet18-cifar", "--transform", "parallel", "--sparsity", "0.999"],
            ["--model", "resnet18-imagenet", "--transform", "factorized", "--sparsity", "0.999"],
        ] {
            let outcome = try SiftProcess.run(["transform"] + arguments + ["--json"])
            #expect(outcome.status == 0, "\(arguments): \(outcome.standardError)")
            let totals = try #require(try json(outcome)["totals"] as? [String: Any])
            #expect((totals["training_flops"] as? Int ?? 0) > 0)
        }
    }

    @Test func transformRefusesOutOfRangeInputs() throws {
        let refusals: [([String], [String])] = [
            (["--model", "resnet18-cifar", "--transform", "wide", "--sparsity", "0.9999999999999999"], ["0.9999999999999999", "base <= 1000"]),
            (["--model", "resnet18-imagenet", "--transform", "factorized", "--sparsity", "0.9999999999"], ["0.9999999999"]),
            (["--model", "gpt3-small", "--transform", "wide", "--sparsity", "0.9999999999999999"], ["base <= 1000"]),
            (["--model", "resnet18-cifar", "--transform", "parallel", "--sparsity", "0.9999"], ["10000 parallel branches"]),
            (["--model", "gpt3-medium", "--sequence", "1048576", "--transform", "wide", "--sparsity", "0.999"], ["1048576"]),
            (["--model", "resnet18-cifar", "--transform", "wide", "--sparsity", "nan"], ["nan"]),
            (["--model", "resnet18-cifar", "--transform", "wide", "--sparsity", "1"], ["1.0"]),
            (["--model", "resnet18-cifar", "--transform", "wide", "--sparsity", "-0.5"], ["-0.5"]),
            (["--model", "mlp", "--mlp-widths", "784,,10", "--transform", "dense"], ["784,,10"]),
            (["--model", "mlp", "--mlp-widths", "16777216,16777216,16777216", "--transform", "wide", "--sparsity", "0.999",
              "--no-flop-search"], ["too large"]),
            (["--model", "resnet18-cifar", "--transform", "dense", "--rigl-interval", "0"], ["--rigl-interval"]),
            (["--model", "nope", "--transform", "dense"], ["nope"]),
        ]
        for (arguments, mentions) in refusals {
            try expectRefusal(["transform"] + arguments, mentions: mentions)
        }
    }

    // MARK: models

    @Test func modelsListsTheZoo() throws {
        let outcome = try SiftProcess.run(["models", "--json"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [[String: Any]])
        #expect(rows.count == 8)
        let resnet = try #require(rows.first { $0["name"] as? String == "resnet18-imagenet" })
        #expect(resnet["macs"] as? Int == 1_814_073_344)
        try expectRefusal(["models", "--sequence", "0"], mentions: ["sequence length"])
        try expectRefusal(["models", "--sequence", "1048576"], mentions: ["1048576"])
    }

    // MARK: weights and reference

    @Test func weightsThenReference() throws {
        let folder = try ScratchFolder()
        let model = ["--model", "mlp", "--mlp-widths", "8,16,4", "--transform", "parallel", "--sparsity", "0.5"]
        let weights = try SiftProcess.run(["weights"] + model + ["--out", folder.path("w")])
        #expect(weights.status == 0, "\(weights.standardError)")
        let mask = try NPY.read(contentsOf: folder.path("w/fc1.branch0.mask.npy"))
        #expect(mask.values.filter { $0 == 1 }.count == 64)  // 8x16 at 50%
        try NPY.write(try Tensor(shape: [3, 8], values: (0..<24).map { Float($0) / 10 - 1 }), to: folder.path("x.npy"))
        let reference = try SiftProcess.run(["reference"] + model + ["--weights", folder.path("w"), "--input", folder.path("x.npy"),
                                                                     "--output", folder.path("y.npy")])
        #expect(reference.status == 0, "\(reference.standardError)")
        let y = try NPY.read(contentsOf: folder.path("y.npy"))
        #expect(y.shape == [3, 4] && y.values.allSatisfy { $0.isFinite })
    }

    @Test func weightsRefusesAStoreTooLargeToAllocate() throws {
        let folder = try ScratchFolder()
        try expectRefusal(["weights", "--model", "mlp", "--mlp-widths", "16777216,16777216", "--transform", "dense", "--out", folder.path("big")],
                          mentions: ["GiB"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("big")))
    }

    @Test func referenceRefusesBadWeightsAndInputs() throws {
        let folder = try ScratchFolder()
        let model = ["--model", "mlp", "--mlp-widths", "8,16,4", "--transform", "dense", "--sparsity", "0.5"]
        #expect(try SiftProcess.run(["weights"] + model + ["--out", folder.path("w")]).status == 0)
        try NPY.write(try Tensor(shape: [2, 8], values: [Float](repeating: 0.5, count: 16)), to: folder.path("x.npy"))
        func reference(weights: String, input: String) -> [String] {
            ["reference"] + model + ["--weights", weights, "--input", input, "--output", folder.path("y.npy")]
        }
        // A missing weights folder and a malformed input: each message says its kind once.
        try expectRefusal(reference(weights: folder.path("none"), input: folder.path("x.npy")), mentions: ["I/O error: cannot read"])
        #expect(!(try SiftProcess.run(reference(weights: folder.path("none"), input: folder.path("x.npy"))).standardError.contains("I/O error: I/O error")))
        try Data("not an npy".utf8).write(to: URL(fileURLWithPath: folder.path("bad.npy")))
        let malformed = try SiftProcess.run(reference(weights: folder.path("w"), input: folder.path("bad.npy")))
        #expect(malformed.status != 0 && malformed.standardError.hasPrefix("error: malformed file:"), "\(malformed.standardError)")
        // A NaN input.
        try NPY.write(try Tensor(shape: [2, 8], values: [Float.nan] + [Float](repeating: 0, count: 15)), to: folder.path("nan.npy"))
        try expectRefusal(reference(weights: folder.path("w"), input: folder.path("nan.npy")), mentions: ["non-finite"])
        // A non-binary mask, then a non-finite weight.
        let maskPath = folder.path("w/fc1.mask.npy")
        let mask = try NPY.read(contentsOf: maskPath)
        var halved = mask
        halved.values[0] = 0.5
        try NPY.write(halved, to: maskPath)
        try expectRefusal(reference(weights: folder.path("w"), input: folder.path("x.npy")), mentions: ["fc1.mask", "0.5"])
        try NPY.write(mask, to: maskPath)
        var weight = try NPY.read(contentsOf: folder.path("w/fc2.weight.npy"))
        weight.values[3] = .infinity
        try NPY.write(weight, to: folder.path("w/fc2.weight.npy"))
        try expectRefusal(reference(weights: folder.path("w"), input: folder.path("x.npy")), mentions: ["fc2.weight", "non-finite"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("y.npy")))
    }

    // MARK: traces

    @Test func singleTracesHaveUniqueNames() throws {
        let folder = try ScratchFolder()
        for sparsity in ["0.5", "0.501", "0.9985"] {
            let outcome = try SiftProcess.run(["traces", "--out", folder.path("t"), "--model", "mlp", "--transform", "dense", "--sparsity", sparsity])
            #expect(outcome.status == 0, "\(outcome.standardError)")
        }
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path("t")))
        #expect(names == ["mlp__dense__s0.50.csv", "mlp__dense__s0.501.csv", "mlp__dense__s0.9985.csv"])
    }

    @Test func tracesRefuseOptionsThatDoNotApply() throws {
        let folder = try ScratchFolder()
        for arguments in [["--pattern", "2:4"], ["--sequence", "128"], ["--mlp-widths", "8,4"], ["--sparsity", "0.5"]] {
            try expectRefusal(["traces", "--out", folder.path("committed")] + arguments, mentions: [arguments[0]])
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path("committed")))
        try expectRefusal(["traces", "--out", folder.path("one"), "--model", "mlp", "--transform", "wide", "--sparsity", "0.9999"],
                          mentions: ["base <= 1000"])
        try expectRefusal(["traces", "--out", folder.path("one"), "--model", "mlp"], mentions: ["--transform"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("one")))
    }
}
