import Foundation
import SparseIFT
import Testing
@testable import DataflowSim

/// Small deterministic outputs, diffed exactly against `traces/golden/`. Run with
/// `SIFT_UPDATE_GOLDEN=1` to rewrite them after a deliberate change of the model (and say
/// why in the commit).
@Suite("Golden outputs")
struct GoldenTests {
    static let directory = repositoryRoot.appendingPathComponent("traces/golden")
    static let update = ProcessInfo.processInfo.environment["SIFT_UPDATE_GOLDEN"] == "1"

    func check(_ name: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = Self.directory.appendingPathComponent(name)
        if Self.update {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            return
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        if golden != text {
            let goldenLines = golden.split(separator: "\n", omittingEmptySubsequences: false)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let first = (0..<min(goldenLines.count, lines.count)).first { goldenLines[$0] != lines[$0] } ?? min(goldenLines.count, lines.count)
            Issue.record("\(name) differs from the golden file at line \(first + 1):\n  golden: \(first < goldenLines.count ? String(goldenLines[first]) : "<end>")\n  now:    \(first < lines.count ? String(lines[first]) : "<end>")",
                         sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [("unstructured", SparsityPattern.unstructured, 0.75), ("2of4", .nOfM(n: 2, m: 4), 0.5),
                      ("4x4", .block(rows: 4, columns: 4), 0.75)])
    func singleProducts(name: String, pattern: SparsityPattern, sparsity: Double) throws {
        let report = try MatmulSimulation.run(MatmulRequest(m: 256, k: 192, n: 640, sparsity: sparsity, pattern: pattern,
                                                            passes: Pass.allCases, seed: 0),
                                              machine: try machine("research-mesh"))
        try check("matmul_256x192x640_\(name)_research-mesh.csv", ReportText.matmulCSV(report))
    }

    func mlp() throws -> TransformedNetwork {
        let dense = try ModelZoo.build("mlp", options: ModelZoo.Options(mlpWidths: [64, 128, 128, 10]))
        return try SparseIFT.transform(dense, kind: .wide, sparsity: 0.5)
    }

    @Test func weightStreamingStep() throws {
        let machine = try machine("research-mesh")
        let run = try NetworkSimulation.run(NetworkRequest(model: "mlp", transformed: try mlp(), batch: 16), machine: machine)
        try check("mlp_wide_s0.5_b16_weight-streaming_research-mesh.csv", ReportText.layersCSV(run.report))
        try check("mlp_wide_s0.5_b16_weight-streaming_research-mesh.trace.json",
                  try ReportText.chromeTrace(step: run.stepTimeline, region: run.regionTimeline,
                                             regionProduct: run.regionTimelineProduct, clockHz: machine.config.clockHz))
    }

    @Test func pipelinedStep() throws {
        let run = try NetworkSimulation.run(NetworkRequest(model: "mlp", transformed: try mlp(), batch: 16, execution: .pipelined,
                                                           activationSparsity: .fixed(0.5)),
                                            machine: try machine("research-mesh"))
        try check("mlp_wide_s0.5_b16_pipelined_a0.5_research-mesh.csv", ReportText.layersCSV(run.report))
    }
}
