import Foundation
import Testing
@testable import SparseIFT

@Suite struct TraceTests {
    static var workloadsDirectory: String {
        // Tests/SparseIFTTests/TraceTests.swift → <package>/traces/workloads
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("traces/workloads").path
    }

    static var regenerating: Bool { ProcessInfo.processInfo.environment["SIFT_REGENERATE_TRACES"] == "1" }

    /// The committed traces are what the generator produces now. To refresh them run
    /// `sift traces --out traces/workloads` (`make traces`). Skipped while regenerating,
    /// since comparing files with what was just written could not fail.
    @Test(.disabled(if: regenerating, "SIFT_REGENERATE_TRACES=1: regenerating, not checking"))
    func committedTracesAreCurrent() throws {
        let files = try WorkloadTrace.generate(WorkloadTrace.committedJobs)
        #expect(files.count == 3 * 13 + 1)
        for (name, content) in files.sorted(by: { $0.key < $1.key }) {
            let path = "\(Self.workloadsDirectory)/\(name)"
            let committed = try? String(contentsOfFile: path, encoding: .utf8)
            #expect(committed == content, "\(name) is missing or stale: run `make traces`")
        }
        let committedNames = Set(try FileManager.default.contentsOfDirectory(atPath: Self.workloadsDirectory))
        #expect(committedNames == Set(files.keys).union(["manifest.json"]), "traces/workloads has files the generator does not produce")
        let manifest = try? String(contentsOfFile: "\(Self.workloadsDirectory)/manifest.json", encoding: .utf8)
        #expect(manifest == WorkloadTrace.manifest(for: files), "manifest.json is missing or stale: run `make traces`")
    }

    /// Not a test: with `SIFT_REGENERATE_TRACES=1` this writes the committed traces (then
    /// run the suite again without it to check them).
    @Test(.enabled(if: regenerating, "runs only with SIFT_REGENERATE_TRACES=1"))
    func regenerateCommittedTraces() throws {
        try WorkloadTrace.write(try WorkloadTrace.generate(WorkloadTrace.committedJobs), to: Self.workloadsDirectory)
    }

    /// File names are unique per sparsity and keep the committed two-decimal form.
    @Test func traceFileNamesAreExact() throws {
        #expect(try WorkloadTrace.sparsityLabel(0.5) == "0.50")
        #expect(try WorkloadTrace.sparsityLabel(0.75) == "0.75")
        #expect(try WorkloadTrace.sparsityLabel(0.9) == "0.90")
        #expect(try WorkloadTrace.sparsityLabel(0.501) == "0.501")
        #expect(try WorkloadTrace.sparsityLabel(0.9999) == "0.9999")
        #expect(try WorkloadTrace.sparsityLabel(0.00001) == "0.00001")
        #expect(throws: SparseIFTError.self) { try WorkloadTrace.sparsityLabel(5e-324) }
        #expect(throws: SparseIFTError.self) { try WorkloadTrace.sparsityLabel(.nan) }
        #expect(try WorkloadTrace.fileName(model: "mlp", kind: .wide, sparsity: 0.5, pattern: .unstructured) == "mlp__wide__s0.50.csv")
        #expect(try WorkloadTrace.fileName(model: "mlp", kind: .wide, sparsity: 0.501, pattern: .unstructured) == "mlp__wide__s0.501.csv")
        #expect(try WorkloadTrace.fileName(model: "mlp", kind: .dense, sparsity: 0, pattern: .unstructured) == "mlp__dense.csv")
        #expect(try WorkloadTrace.fileName(model: "mlp", kind: .parallel, sparsity: 0.5, pattern: .nOfM(n: 2, m: 4)) == "mlp__parallel__s0.50__2:4.csv")
    }

    @Test func generationIsDeterministic() throws {
        let jobs = [WorkloadTrace.Job(model: "resnet18-cifar", kind: .wide, sparsity: 0.9)]
        #expect(try WorkloadTrace.generate(jobs) == WorkloadTrace.generate(jobs))
    }

    @Test func traceRowsCarryTheGEMMAndConvDimensions() throws {
        let network = try ModelZoo.build("resnet18-imagenet")
        let lines = WorkloadTrace.csv(network).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines[0]
        #expect(header == WorkloadTrace.columns)
        func row(_ name: String) -> [String: String] {
            let cells = lines.first { $0[0] == name }!
            return Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
        let stem = row("conv1")
        #expect(stem["M"] == "64" && stem["N"] == "12544" && stem["K"] == "147" && stem["groups"] == "1")
        #expect(stem["bias"] == "0" && stem["fused_batchnorm"] == "bn1" && stem["fused_activation"] == "relu" && stem["fused_add"] == "")
        #expect(stem["in_h"] == "224" && stem["out_h"] == "112" && stem["kernel_h"] == "7" && stem["stride"] == "2" && stem["padding"] == "3")
        #expect(stem["pattern"] == "dense" && stem["nonzeros"] == "9408")
        let fc = row("fc")
        #expect(fc["M"] == "1000" && fc["N"] == "1" && fc["K"] == "512" && fc["bias"] == "1")
        let conv2 = row("layer1.0.conv2")
        #expect(conv2["fused_add"] == "layer1.0.add" && conv2["residual"] == "maxpool" && conv2["fused_activation"] == "layer1.0.relu2")
        let add = row("layer1.0.add")
        #expect(add["inputs"] == "layer1.0.bn2;maxpool" && add["output_elements"] == String(64 * 56 * 56))
        // Total MACs of the rows equal the accounting.
        let macs = lines.dropFirst().compactMap { Int(Dictionary(uniqueKeysWithValues: zip(header, $0))["effective_macs"] ?? "") }.reduce(0, +)
        #expect(macs == 1_814_073_344)
    }

    @Test func gptTraceHasTheAttentionProducts() throws {
        let network = try ModelZoo.build("gpt3-small", options: ModelZoo.Options(sequenceLength: 128))
        let csv = WorkloadTrace.csv(network)
        #expect(csv.contains("h.0.attn.scores,attention_scores,h.0.attn.q_proj;h.0.attn.k_proj,h.0.attn.scores,,128,64,128,12,"))
        #expect(csv.contains("h.0.attn.context,attention_context,h.0.attn.softmax;h.0.attn.v_proj,h.0.attn.context,,128,128,64,12,"))
    }
}
