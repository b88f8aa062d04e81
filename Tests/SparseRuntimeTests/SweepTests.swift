import Foundation
import Testing
import SiftSweep
import SparseIFT
@testable import SparseRuntime

@Suite struct SweepTests {
    static let row = Sweep.Row(model: "resnet18-cifar", transform: "wide", sparsity: 0.9, bodySparsity: 0.914871, pattern: "16x16",
                               batch: 64, threads: 2, itemsPerSecond: 1234.5678, medianLatencyMs: 51.84, relativeLatency: 1.0712,
                               relativeNonzeroFLOPs: 0.99999, nonzeroGFLOPs: 71.1, peakMemoryBytes: 123_456_789, iterations: 193)

    @Test func rowsRoundTripThroughCSV() throws {
        var second = Self.row
        second.pattern = "2:4"
        second.itemsPerSecond = 1.0 / 3.0
        let text = Sweep.Row.encodeCSV([Self.row, second])
        #expect(try Sweep.Row.decodeCSV(text) == [Self.row, second])
        #expect(text.hasPrefix(Sweep.Row.header.joined(separator: ",") + "\n"))
    }

    @Test func malformedCSVIsRefusedByLine() {
        let header = Sweep.Row.header.joined(separator: ",")
        var fields = Self.row.csvFields
        fields[7] = "fast"
        #expect(throws: RuntimeError.self) { _ = try Sweep.Row.decodeCSV(header + "\n" + fields.joined(separator: ",") + "\n") }
        #expect(throws: RuntimeError.self) { _ = try Sweep.Row.decodeCSV("model,transform\nmlp,dense\n") }
        #expect(throws: RuntimeError.self) { _ = try Sweep.Row.decodeCSV(header + "\nmlp,dense\n") }
    }

    @Test func configurationsStartWithTheDenseBaseline() throws {
        let dense = try Small.mlp()
        let (valid, skipped) = Sweep.configurations(model: "mlp", dense: dense, batch: 8, transforms: [.wide, .doped],
                                                    sparsities: [0.5, 0.75], patterns: [.unstructured, .nOfM(n: 2, m: 4)])
        #expect(valid.first?.isDense == true)
        // 2:4 only at its own sparsity 0.5: 2 transforms x (2 unstructured + 1 N:M).
        #expect(valid.count + skipped.count == 1 + 2 * 3)
        #expect(valid.dropFirst().allSatisfy { $0.baselineKey == valid[0].key })
        #expect(try SweepPlan(points: valid).points.count == valid.count)
    }
}
