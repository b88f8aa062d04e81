import Foundation
import Testing
import SparseKernels

/// `sift run` and `sift run sweep` end to end, on small models and short times (these
/// check behaviour, not speed). Each run uses a plan cache in a scratch folder.
@Suite("sift run / sift run sweep", .serialized)
struct RunCommandTests {
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder() }

    var cacheArguments: [String] { ["--plan-cache", scratch.path("plans.json"), "--no-bind"] }
    let quick = ["--time", "0.2", "--warmup", "0", "--threads", "2"]
    let mlp = ["--model", "mlp", "--mlp-widths", "64,128,10"]

    func expectRefusal(_ arguments: [String], mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try SiftProcess.run(arguments)
        let context = "\(arguments.joined(separator: " ")): status \(outcome.status), stderr \(outcome.standardError)"
        #expect(outcome.status != 0 && ![132, 133, 134].contains(outcome.status), "\(context)", sourceLocation: sourceLocation)
        #expect(outcome.standardError.contains("error:") && !outcome.standardError.contains("Fatal error"), "\(context)", sourceLocation: sourceLocation)
        for text in mentions {
            #expect(outcome.standardError.contains(text), "\(context): should mention \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func benchmarkJSONCarriesTheDeepSparseFields() throws {
        let outcome = try SiftProcess.run(["run"] + mlp + ["--transform", "wide", "--sparsity", "0.9", "--batch-size", "8", "--json"]
                                          + quick + cacheArguments)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        #expect((object["items_per_sec"] as? Double ?? 0) > 0)
        let latency = try #require(object["latency_ms"] as? [String: Double])
        for key in ["mean", "median", "std", "p90", "p99"] { #expect(latency[key] != nil, "latency \(key)") }
        #expect((object["iterations"] as? Int ?? 0) >= 3)
        #expect((object["peak_memory_bytes"] as? Int ?? 0) > 0)
        #expect(object["batch_size"] as? Int == 8)
        let layers = try #require(object["layers"] as? [[String: Any]])
        let fc1 = try #require(layers.first { $0["name"] as? String == "fc1" })
        for key in ["kernel", "ms", "gflops"] { #expect(fc1[key] != nil, "layer \(key)") }
        #expect(fc1["fused"] as? [String] == ["relu1"])
    }

    @Test func aSecondRunTimesNothing() throws {
        let arguments = ["run"] + mlp + ["--sparsity", "0.9", "--batch-size", "4", "--json"] + quick + cacheArguments
        let first = try SiftProcess.run(arguments)
        let second = try SiftProcess.run(arguments)
        #expect(first.status == 0 && second.status == 0, "\(first.standardError) \(second.standardError)")
        let a = try #require(try JSONSerialization.jsonObject(with: Data(first.standardOutput.utf8)) as? [String: Any])
        let b = try #require(try JSONSerialization.jsonObject(with: Data(second.standardOutput.utf8)) as? [String: Any])
        #expect((a["timed_layers"] as? Int ?? 0) > 0)
        #expect(b["timed_layers"] as? Int == 0)
        #expect(b["cached_layers"] as? Int == a["timed_layers"] as? Int)
        // A corrupt cache: a warning, a run that times again, and a valid cache after it.
        try "{ not json".write(toFile: scratch.path("plans.json"), atomically: true, encoding: .utf8)
        let third = try SiftProcess.run(arguments)
        #expect(third.status == 0)
        #expect(third.standardError.contains("warning:") && third.standardError.contains("not trusted"), "\(third.standardError)")
        let c = try #require(try JSONSerialization.jsonObject(with: Data(third.standardOutput.utf8)) as? [String: Any])
        #expect(c["timed_layers"] as? Int == a["timed_layers"] as? Int)
    }

    @Test func explainPrintsThePlan() throws {
        let outcome = try SiftProcess.run(["run", "--model", "resnet18-cifar", "--transform", "dense", "--sparsity", "0.5",
                                           "--batch-size", "2", "--explain", "--kernel", "csr"] + cacheArguments)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        for text in ["plan: resnet18-cifar", "layer1.0.conv1", "im2col+csr", "forced", "activation memory", "bn1, relu"] {
            #expect(outcome.standardOutput.contains(text), "explain should show \(text)")
        }
        #expect(!outcome.standardOutput.contains("Throughput"), "--explain does not run")
    }

    /// One batch of the user's data: equal to `sift reference` on the same weights.
    @Test func inputOutputMatchesTheReferenceCommand() throws {
        let weights = scratch.path("weights")
        let model = ["--model", "mlp", "--mlp-widths", "12,16,3", "--transform", "doped", "--sparsity", "0.5"]
        #expect(try SiftProcess.run(["weights"] + model + ["--out", weights, "--seed", "4"]).status == 0)
        let x = try Tensor(shape: [5, 12], values: (0..<60).map { Float($0 % 7) / 7 - 0.4 })
        try NPY.write(x, to: scratch.path("x.npy"))
        let run = try SiftProcess.run(["run"] + model + ["--weights", weights, "--input", scratch.path("x.npy"),
                                                         "--output", scratch.path("y.npy")] + cacheArguments)
        #expect(run.status == 0, "\(run.standardError)")
        let reference = try SiftProcess.run(["reference"] + model + ["--weights", weights, "--input", scratch.path("x.npy"),
                                                                     "--output", scratch.path("expected.npy")])
        #expect(reference.status == 0, "\(reference.standardError)")
        let y = try NPY.read(contentsOf: scratch.path("y.npy")), expected = try NPY.read(contentsOf: scratch.path("expected.npy"))
        #expect(y.shape == [5, 3])
        let scale = expected.values.map { abs($0) }.max() ?? 1
        #expect(zip(y.values, expected.values).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
    }

    /// `sift run --onnx`: an exported Sparse Wide MLP benchmarks like the zoo model (same
    /// JSON) and runs the user's input to the reference outputs of the same file.
    @Test func onnxModelsRunLikeZooModels() throws {
        let onnx = scratch.path("wide.onnx")
        let model = ["--model", "mlp", "--mlp-widths", "12,16,3", "--transform", "wide", "--sparsity", "0.9"]
        let export = try SiftProcess.run(["export"] + model + ["--seed", "4", "--onnx", onnx])
        #expect(export.status == 0, "\(export.standardError)")
        let bench = try SiftProcess.run(["run", "--onnx", onnx, "--batch-size", "4", "--json"] + quick + cacheArguments)
        #expect(bench.status == 0, "\(bench.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bench.standardOutput.utf8)) as? [String: Any])
        #expect((object["items_per_sec"] as? Double ?? 0) > 0)
        #expect(object["batch_size"] as? Int == 4)
        let layers = try #require(object["layers"] as? [[String: Any]])
        #expect(layers.contains { ($0["kernel"] as? String ?? "").contains("csr") || ($0["kernel"] as? String ?? "").contains("dense") })

        let x = try Tensor(shape: [3, 12], values: (0..<36).map { Float($0 % 5) / 5 - 0.3 })
        try NPY.write(x, to: scratch.path("x.npy"))
        let run = try SiftProcess.run(["run", "--onnx", onnx, "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")]
                                      + cacheArguments)
        #expect(run.status == 0, "\(run.standardError)")
        let reference = try SiftProcess.run(["import", "--onnx", onnx, "--input", scratch.path("x.npy"),
                                             "--output", scratch.path("expected.npy")])
        #expect(reference.status == 0, "\(reference.standardError)")
        let y = try NPY.read(contentsOf: scratch.path("y.npy")), expected = try NPY.read(contentsOf: scratch.path("expected.npy"))
        #expect(y.shape == [3, 3])
        let scale = expected.values.map { abs($0) }.max() ?? 1
        #expect(zip(y.values, expected.values).allSatisfy { abs($0 - $1) <= 1e-5 * scale })

        // Two sources, zoo options on a file, a malformed file: refused, nothing written.
        let output = scratch.path("never.npy")
        let io = ["--input", scratch.path("x.npy"), "--output", output] + cacheArguments
        try expectRefusal(["run", "--onnx", onnx, "--model", "mlp"] + io, mentions: ["--model and --onnx"])
        try expectRefusal(["run", "--onnx", onnx, "--sparsity", "0.5"] + io, mentions: ["--sparsity", "as it is"])
        try expectRefusal(["run"] + io, mentions: ["--onnx"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: onnx))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: scratch.path("truncated.onnx")))
        try expectRefusal(["run", "--onnx", scratch.path("truncated.onnx")] + io, mentions: ["truncated.onnx", "ONNX"])
        try Data("not a model at all".utf8).write(to: URL(fileURLWithPath: scratch.path("text.onnx")))
        try expectRefusal(["run", "--onnx", scratch.path("text.onnx")] + io, mentions: ["text.onnx"])
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func badInputIsRefusedAndWritesNothing() throws {
        let output = scratch.path("never.npy")
        try NPY.write(try Tensor(shape: [2, 64], values: [Float](repeating: .nan, count: 128)), to: scratch.path("nan.npy"))
        try NPY.write(try Tensor(shape: [2, 63], values: [Float](repeating: 0, count: 126)), to: scratch.path("narrow.npy"))
        let otherWeights = scratch.path("other")
        #expect(try SiftProcess.run(["weights", "--model", "mlp", "--mlp-widths", "64,100,10", "--out", otherWeights]).status == 0)
        let io = ["--output", output] + cacheArguments
        try expectRefusal(["run"] + mlp + ["--batch-size", "0"] + cacheArguments, mentions: ["batch size"])
        try expectRefusal(["run"] + mlp + ["--batch-size", "-3"] + cacheArguments, mentions: ["batch size"])
        try expectRefusal(["run", "--model", "resnet99"] + cacheArguments, mentions: ["unknown model"])
        try expectRefusal(["run"] + mlp + ["--weights", otherWeights, "--input", scratch.path("nan.npy")] + io, mentions: ["another network"])
        try expectRefusal(["run"] + mlp + ["--input", scratch.path("nan.npy")] + io, mentions: ["non-finite"])
        try expectRefusal(["run"] + mlp + ["--input", scratch.path("narrow.npy")] + io, mentions: ["[2, 63]"])
        try expectRefusal(["run"] + mlp + ["--batch-size", "64", "--memory-limit", "10KiB"] + quick + cacheArguments, mentions: ["above the limit"])
        try expectRefusal(["run"] + mlp + ["--memory-limit", "lots"] + cacheArguments, mentions: ["--memory-limit"])
        try expectRefusal(["run"] + mlp + ["--kernel", "magic"] + cacheArguments, mentions: ["kernel family"])
        try expectRefusal(["run"] + mlp + ["--input", scratch.path("missing.npy")] + io, mentions: ["missing.npy"])
        #expect(!FileManager.default.fileExists(atPath: output))
        // An output path that is a directory is refused before any work.
        try FileManager.default.createDirectory(atPath: scratch.path("dir.npy"), withIntermediateDirectories: true)
        try NPY.write(try Tensor(shape: [1, 64], values: [Float](repeating: 0.5, count: 64)), to: scratch.path("good.npy"))
        try expectRefusal(["run"] + mlp + ["--input", scratch.path("good.npy"), "--output", scratch.path("dir.npy")] + cacheArguments,
                          mentions: ["directory"])
    }

    @Test func sweepWritesOneRowPerConfiguration() throws {
        let out = scratch.path("sweep.csv")
        let outcome = try SiftProcess.run(["run", "sweep"] + mlp + ["--batch-size", "4", "--sparsities", "0.5,0.9",
                                                                    "--transforms", "wide,parallel", "--patterns", "unstructured,2:4",
                                                                    "--time", "0.05", "--warmup", "0", "--threads", "2", "--out", out]
                                          + cacheArguments)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "model,transform,sparsity,body_sparsity,pattern,batch,threads,items_per_sec,median_latency_ms,relative_latency,relative_nonzero_flops,nonzero_gflops,peak_memory_bytes,iterations,point,points,shard,sweep_id")
        // dense, then wide and parallel at 0.5 (unstructured, 2:4) and 0.9 (unstructured).
        #expect(lines.count == 1 + 1 + 2 * 3, "\(lines)")
        #expect(lines[1].hasPrefix("mlp,dense,0.0,0.0,unstructured,4,2,"))
        #expect(lines[1].split(separator: ",")[9] == "1.0")
        #expect(outcome.standardError.contains("[7/7]"), "progress on stderr")
        // Two shards: each runs its own points plus the dense baseline; together, all.
        var owned: Set<String> = []
        for index in 1...2 {
            let part = scratch.path("part\(index).csv")
            let sharded = try SiftProcess.run(["run", "sweep"] + mlp + ["--batch-size", "4", "--sparsities", "0.5,0.9",
                                                                       "--transforms", "wide,parallel", "--patterns", "unstructured,2:4",
                                                                       "--time", "0", "--warmup", "0", "--threads", "1",
                                                                       "--shard", "\(index)/2", "--out", part] + cacheArguments)
            #expect(sharded.status == 0, "\(sharded.standardError)")
            let rows = try String(contentsOfFile: part, encoding: .utf8).split(separator: "\n").dropFirst()
            #expect(rows.contains { $0.hasPrefix("mlp,dense,0.0,") }, "every shard measures its baseline")
            for row in rows where row.hasSuffix(",\(index)/2," + row.split(separator: ",").last!) {
                let fields = row.split(separator: ",")
                if Int(fields[fields.count - 4])! % 2 == index - 1 { owned.insert(String(fields[fields.count - 4])) }
            }
        }
        #expect(owned == Set((0..<7).map(String.init)))
        try expectRefusal(["run", "sweep"] + mlp + ["--sparsities", "0.5,,0.9", "--out", scratch.path("bad.csv")], mentions: ["comma-separated"])
        try expectRefusal(["run", "sweep"] + mlp + ["--sparsities", "1.5", "--out", scratch.path("bad.csv")], mentions: ["[0, 1)"])
        try expectRefusal(["run", "sweep"] + mlp + ["--transforms", "wider", "--out", scratch.path("bad.csv")], mentions: ["wider"])
        #expect(!FileManager.default.fileExists(atPath: scratch.path("bad.csv")))
    }
}
