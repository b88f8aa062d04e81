import Foundation
import Testing

/// `sift simulate` end to end: JSON keys, files written, sharded sweeps, and bad input (one
/// `error:` line, exit 2, nothing written).
@Suite("sift simulate")
struct SimulateCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let research = root.appendingPathComponent("configs/research-mesh.json").path
    static let mlp = ["--model", "mlp", "--mlp-widths", "64,128,10", "--config", research, "--quiet"]

    func refusal(_ arguments: [String], mentions: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try SiftProcess.run(["simulate"] + arguments)
        let context = "\(arguments.joined(separator: " ")): status \(outcome.status), stderr \(outcome.standardError)"
        #expect(outcome.status == 2, "\(context)", sourceLocation: sourceLocation)
        #expect(outcome.standardError.hasPrefix("error: "), "\(context)", sourceLocation: sourceLocation)
        #expect(outcome.standardError.contains(mentions), "\(context): should mention \(mentions)", sourceLocation: sourceLocation)
        #expect(!outcome.standardError.contains("Fatal error"), sourceLocation: sourceLocation)
    }

    func json(_ outcome: SiftProcess.Outcome) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
    }

    @Test func networkJSONAndFiles() throws {
        let folder = try ScratchFolder()
        let out = folder.path("results")
        let outcome = try SiftProcess.run(["simulate"] + Self.mlp + ["--transform", "wide", "--sparsity", "0.5", "--batch-size", "8",
                                                                     "--json", "--out", out])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let report = try json(outcome)
        for key in ["cycles", "seconds", "speedup_vs_dense", "layers", "step_seconds", "samples_per_second", "breakdown",
                    "fidelity_note", "simulator"] {
            #expect(report[key] != nil, "missing \(key)")
        }
        for name in ["results.json", "layers.csv", "trace.json", "config.resolved.json", "summary.txt", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(name)"), "missing \(name)")
        }
        let trace = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/trace.json"))) as? [String: Any])
        #expect((trace["traceEvents"] as? [Any])?.isEmpty == false)
        // A second run replaces the directory it wrote.
        #expect(try SiftProcess.run(["simulate"] + Self.mlp + ["--out", out]).status == 0)
    }

    @Test func matmulTableAndJSON() throws {
        let table = try SiftProcess.run(["simulate", "matmul", "--m", "64", "--k", "48", "--n", "40", "--sparsity", "0.75",
                                         "--config", Self.research, "--functional", "--passes", "forward,input_gradient,weight_gradient"])
        #expect(table.status == 0, "\(table.standardError)")
        #expect(table.standardOutput.contains("speedup vs dense"))
        #expect(table.standardOutput.contains("functional: matches the dense reference product"))
        let outcome = try SiftProcess.run(["simulate", "matmul", "--m", "64", "--k", "48", "--n", "40", "--sparsity", "0.5",
                                           "--pattern", "2:4", "--config", Self.research, "--json"])
        let report = try json(outcome)
        for key in ["cycles", "seconds", "speedup_vs_dense", "ideal_speedup", "breakdown"] { #expect(report[key] != nil, "missing \(key)") }
    }

    @Test func shardedSweepRowsAreSelfDescribing() throws {
        let outcome = try SiftProcess.run(["simulate", "sweep"] + Self.mlp + ["--transforms", "dense,wide", "--sparsities", "0.5,0.75",
                                                                              "--batch-size", "4", "--shard", "2/2"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let lines = outcome.standardOutput.split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        for column in ["model", "transform", "sparsity", "cycles", "speedup_vs_dense", "config_digest", "point", "shard", "sweep_id"] {
            #expect(header.contains(column), "missing \(column)")
        }
        // Shard 2 of 2 owns the odd positions and runs the dense baseline beside them.
        #expect(lines.count >= 3)
        #expect(lines.dropFirst().allSatisfy { $0.hasSuffix(",2/2," + $0.split(separator: ",").last!) })
    }

    @Test func badInputIsRefused() throws {
        let folder = try ScratchFolder()
        try refusal(["--model", "resnet-9000"], mentions: "unknown model")
        let garbage = folder.path("garbage.json")
        try Data("{\"format_version\": 1, \"name\": ".utf8).write(to: URL(fileURLWithPath: garbage))
        try refusal(["--model", "mlp", "--config", garbage], mentions: "does not parse as JSON")
        try refusal(["--model", "mlp", "--config", folder.path("absent")], mentions: "no config")
        var text = try String(contentsOfFile: Self.root.appendingPathComponent("configs/wse2.json").path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"width\": {\"value\": 750", with: "\"width\": {\"value\": 0")
        let zero = folder.path("zero.json")
        try Data(text.utf8).write(to: URL(fileURLWithPath: zero))
        try refusal(["--model", "mlp", "--config", zero], mentions: "mesh.width must be in 1")
        try refusal(["--model", "mlp", "--set", "sram.bytes_per_core=-1"], mentions: "sram.bytes_per_core")
        try refusal(["matmul", "--m", "1024", "--k", "1024", "--n", "1048576", "--set", "mapping.region_width=4",
                     "--set", "mapping.region_height=4"], mentions: "does not fit")
        try refusal(["--model", "mlp", "--batch-size", "0"], mentions: "--batch-size")
        try refusal(["--model", "mlp", "--execution", "warp"], mentions: "--execution")
        try refusal(["--model", "mlp", "--activation-sparsity", "1.5"], mentions: "--activation-sparsity")
        try refusal(["matmul", "--m", "8", "--k", "8", "--n", "8", "--sparsity", "-0.5"], mentions: "sparsity")
        try refusal(["sweep", "--model", "mlp", "--shard", "3/2"], mentions: "shard")
        try refusal(Self.mlp + ["--trace-layer", "fc9"], mentions: "--trace-layer fc9 is not a matrix product")
        // A directory that sift did not write is never replaced.
        let foreign = folder.path("foreign")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: foreign + "/notes.txt"))
        try refusal(["--model", "mlp", "--config", Self.research, "--out", foreign], mentions: "refusing")
        #expect(try String(contentsOfFile: foreign + "/notes.txt", encoding: .utf8) == "mine")
        #expect(try FileManager.default.contentsOfDirectory(atPath: foreign) == ["notes.txt"])
    }
}
