import Foundation
import Testing
@testable import SparseIFT

@Suite struct ReportTests {
    @Test func jsonHasTheDocumentedKeys() throws {
        let dense = try ModelZoo.build("resnet18-imagenet")
        let transformed = try SparseIFT.transform(dense, kind: .doped, sparsity: 0.9)
        let json = try TransformReport(model: "resnet18-imagenet", transformed: transformed).json()
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let totals = object["totals"] as! [String: Any]
        for key in ["params", "nonzero_params", "macs", "dense_macs", "flop_ratio_vs_dense", "search_space"] {
            #expect(totals[key] != nil, "totals.\(key)")
        }
        #expect(totals["dense_macs"] as? Int == 1_814_073_344)
        let layers = object["layers"] as! [[String: Any]]
        let conv = layers.first { $0["name"] as? String == "layer1.0.conv1" }!
        for key in ["name", "kind", "weight_shape", "in_channels", "out_channels", "sparsity", "params", "nonzero_params", "macs"] {
            #expect(conv[key] != nil, "layers[].\(key)")
        }
        #expect(conv["weight_shape"] as? [Int] == [64, 64, 3, 3])
        #expect(conv["sparsity"] as? Double == 0.9)
        // The per-layer rows add up to the totals.
        #expect(layers.reduce(0) { $0 + ($1["macs"] as! Int) } == totals["macs"] as! Int)
        #expect(layers.reduce(0) { $0 + ($1["params"] as! Int) } == totals["params"] as! Int)
    }

    @Test func tableListsLayersAndTotals() throws {
        let transformed = try SparseIFT.transform(try ModelZoo.build("resnet18-cifar"), kind: .wide, sparsity: 0.75)
        let table = TransformReport(model: "resnet18-cifar", transformed: transformed).table()
        #expect(table.contains("layer1.0.conv1"))
        #expect(table.contains("128x128x3x3"))
        #expect(table.contains("forward MACs"))
        #expect(table.contains("search:"))
    }

    /// GPT-3 Medium at 2048 tokens goes through every transform with accounting only
    /// (no weights materialized). Its speed (< 1 s in release) is measured with the CLI,
    /// not asserted here: tests check correctness, benchmarks time.
    @Test func gpt3MediumAt2048TokensTransformsWithoutWeights() throws {
        for kind in TransformKind.allCases {
            let dense = try ModelZoo.build("gpt3-medium", options: ModelZoo.Options(sequenceLength: 2048))
            let transformed = try SparseIFT.transform(dense, kind: kind, sparsity: 0.9)
            let json = try TransformReport(model: "gpt3-medium", transformed: transformed).json()
            #expect(json.contains("\"flop_ratio_vs_dense\""), "\(kind)")
        }
    }

    @Test func wideSearchWorksWithERKAndBlocks() throws {
        let dense = try ModelZoo.build("resnet18-imagenet")
        let budget = Double(Accounting.effectiveMACs(dense))
        for options in [TransformOptions(distribution: .erk), TransformOptions(pattern: .block(rows: 2, columns: 2))] {
            let wide = try SparseIFT.transform(dense, kind: .wide, sparsity: 0.75, options: options)
            #expect(abs(Double(Accounting.effectiveMACs(wide.network)) / budget - 1) <= 0.001)
        }
    }
}
