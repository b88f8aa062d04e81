import Foundation
import Testing
@testable import SparseIFT

@Suite struct TraceTests {
    static var workloadsDirectory: String {
        // Tests/SparseIFTTests/TraceTests.swift → <package>/traces/workloads
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("traces/workloads").path
    }

    /// The committed traces are what the generator produces now. To refresh them run
    /// `sift traces --out traces/workloads` (`make traces`), or this test with
    /// `SIFT_REGENERATE_TRACES=1`.
    @Test func committedTracesAreCurrent() throws {
        let files = try WorkloadTrace.generate(WorkloadTrace.committedJobs)
        if ProcessInfo.processInfo.environment["SIFT_REGENERATE_TRACES"] == "1" {
            try WorkloadTrace.write(files, to: Self.workloadsDirectory)
        }
        #expect(files.count == 3 * 13 + 1)
        for (name, content) in files.sorted(by: { $0.key < $1.key }) {
            let path = "\(Self.workloadsDirectory)/\(name)"
            let committed = try? String(contentsOfFile: path, encoding: .utf8)
            #expect(committed == content, "\(name) is missing or stale: run `make traces`")
        }
        let committedNames = Set(try FileManager.default.contentsOfDirectory(atPath: Self.workloadsDirectory).filter { $0.hasSuffix(".csv") })
        #expect(committedNames == Set(files.keys), "traces/workloads has files the generator does not produce")
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
        #expect(stem["M"] == "12544" && stem["N"] == "64" && stem["K"] == "147" && stem["groups"] == "1")
        #expect(stem["in_h"] == "224" && stem["out_h"] == "112" && stem["kernel_h"] == "7" && stem["stride"] == "2" && stem["padding"] == "3")
        #expect(stem["pattern"] == "dense" && stem["nonzeros"] == "9408")
        let fc = row("fc")
        #expect(fc["M"] == "1" && fc["N"] == "1000" && fc["K"] == "512")
        let add = row("layer1.0.add")
        #expect(add["inputs"] == "layer1.0.bn2;maxpool" && add["output_elements"] == String(64 * 56 * 56))
        // Total MACs of the rows equal the accounting.
        let macs = lines.dropFirst().compactMap { Int(Dictionary(uniqueKeysWithValues: zip(header, $0))["effective_macs"] ?? "") }.reduce(0, +)
        #expect(macs == 1_814_073_344)
    }

    @Test func gptTraceHasTheAttentionProducts() throws {
        let network = try ModelZoo.build("gpt3-small", options: ModelZoo.Options(sequenceLength: 128))
        let csv = WorkloadTrace.csv(network)
        #expect(csv.contains("h.0.attn.scores,attention_scores,h.0.attn.q_proj;h.0.attn.k_proj,h.0.attn.scores,,128,128,64,12,"))
        #expect(csv.contains("h.0.attn.context,attention_context,h.0.attn.softmax;h.0.attn.v_proj,h.0.attn.context,,128,64,128,12,"))
    }
}
