import Foundation
import Testing

/// `sift report` end to end: a small report, shards merged with `--merge`, and the
/// refusals (each a clear `error:` line, a non-zero exit, and nothing written).
@Suite("sift report", .serialized)
struct ReportCommandTests {
    /// A report small enough for a test: one tiny product shape, one thread.
    let small = ["report", "--sweeps", "cpu-products", "--product-shape", "64x64x16", "--threads", "1", "--quiet"]

    func csvRows(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func writesAReportAndPrintsTheSummary() throws {
        let scratch = try ScratchFolder()
        let outcome = try SiftProcess.run(small + ["--out", scratch.path("r")])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("Single product, speedup over dense"))
        #expect(outcome.standardOutput.contains("report written to"))
        for name in ["index.html", "cpu-products.csv", "cpu-products.md", "summary.md", "manifest.json", "product-speedup-cpu-64x64x16.svg"] {
            #expect(FileManager.default.fileExists(atPath: scratch.path("r/\(name)")), "missing \(name)")
        }
        // Missing backends are said, not hidden.
        let html = try String(contentsOfFile: scratch.path("r/index.html"), encoding: .utf8)
        #expect(html.contains("is not in this report"))
    }

    /// The simulator is wired as a library: the single-product sweep on the accelerator,
    /// with the resolved config on the page and beside the results.
    @Test func simulatesTheSingleProduct() throws {
        let scratch = try ScratchFolder()
        let outcome = try SiftProcess.run(["report", "--sweeps", "accelerator-products", "--product-shape", "64x64x16", "--threads", "1",
                                           "--quiet", "--out", scratch.path("r")])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let rows = try csvRows(scratch.path("r/accelerator-products.csv"))
        #expect(rows.count == 22)  // header + dense + 20 sparse points
        let header = rows[0]
        let speedup = try #require(header.firstIndex(of: "speedup_vs_dense"))
        #expect(rows.dropFirst().allSatisfy { Double($0[speedup]).map { $0 > 0 } == true })
        #expect(FileManager.default.fileExists(atPath: scratch.path("r/accelerator-config.json")))
        let html = try String(contentsOfFile: scratch.path("r/index.html"), encoding: .utf8)
        #expect(html.contains("Simulated accelerator"))
        // A config that does not exist is refused before anything runs.
        let bad = try SiftProcess.run(["report", "--sweeps", "accelerator-products", "--accelerator-config", "no-such-config",
                                       "--out", scratch.path("b")])
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("error:"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("b")))
    }

    @Test func shardsMergeIntoOneReport() throws {
        let scratch = try ScratchFolder()
        for index in 1...2 {
            let outcome = try SiftProcess.run(small + ["--shard", "\(index)/2", "--out", scratch.path("s\(index)")])
            #expect(outcome.status == 0, "\(outcome.standardError)")
        }
        let merged = try SiftProcess.run(["report", "--quiet", "--merge", scratch.path("s2"), scratch.path("s1"), "--out", scratch.path("m")])
        #expect(merged.status == 0, "\(merged.standardError)")
        let rows = try csvRows(scratch.path("m/cpu-products.csv"))
        let header = rows[0]
        let point = try #require(header.firstIndex(of: "point"))
        let points = try #require(header.firstIndex(of: "points"))
        #expect(rows.dropFirst().map { Int($0[point])! } == Array(0..<Int(rows[1][points])!))
        // The shard CSVs themselves merge into one CSV (as `sift run sweep --shard` outputs do).
        let csv = try SiftProcess.run(["report", "--merge", scratch.path("s1/cpu-products.csv"), scratch.path("s2/cpu-products.csv"),
                                       "--out", scratch.path("merged.csv")])
        #expect(csv.status == 0, "\(csv.standardError)")
        #expect(try csvRows(scratch.path("merged.csv")).count == rows.count)
        // A CSV whose sweep sift does not know needs its measured columns named.
        let foreign = try String(contentsOfFile: scratch.path("s1/cpu-products.csv"), encoding: .utf8)
            .replacingOccurrences(of: "speedup_vs_dense", with: "my_speedup")
        try foreign.write(toFile: scratch.path("foreign.csv"), atomically: true, encoding: .utf8)
        let unknown = try SiftProcess.run(["report", "--merge", scratch.path("foreign.csv"), "--out", scratch.path("f.csv")])
        #expect(unknown.status == 2)
        #expect(unknown.standardError.contains("--measured-columns"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("f.csv")))
        // One shard alone does not merge: its partner's points are missing.
        let alone = try SiftProcess.run(["report", "--quiet", "--merge", scratch.path("s1"), "--out", scratch.path("m1")])
        #expect(alone.status == 2)
        #expect(alone.standardError.contains("missing"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("m1")))
    }

    @Test func refusesBadRequestsAndWritesNothing() throws {
        let scratch = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: scratch.path("full"), withIntermediateDirectories: false)
        try Data("x".utf8).write(to: URL(fileURLWithPath: scratch.path("full/keep.txt")))
        try FileManager.default.createSymbolicLink(atPath: scratch.path("link"), withDestinationPath: scratch.path("elsewhere"))
        let cases: [([String], String)] = [
            (small + ["--out", scratch.path("full")], "not written by sift"),
            (small + ["--out", scratch.path("link")], "symbolic link"),
            (small + ["--shard", "0/3", "--out", scratch.path("a")], "shard"),
            (small + ["--shard", "4/3", "--out", scratch.path("a")], "shard"),
            (small + ["--shard", "x", "--out", scratch.path("a")], "shard"),
            (["report", "--sweeps", "bogus", "--out", scratch.path("a")], "unknown sweep"),
            (["report", "--sweeps", "cpu-products", "--product-shape", "1x1x1048577000", "--out", scratch.path("a")], "1 GiB"),
            (["report", "--sweeps", "cpu-products", "--product-shape", "0x60x8", "--out", scratch.path("a")], "shape"),
            (small + ["--seconds", "-1", "--out", scratch.path("a")], "--seconds"),
            (["report", "--merge", scratch.path("nowhere"), "--out", scratch.path("a")], "manifest.json"),
            (["report", "--merge", scratch.path("full"), "--shard", "1/2", "--out", scratch.path("a")], "--shard"),
        ]
        for (arguments, mention) in cases {
            let outcome = try SiftProcess.run(arguments)
            let context = "\(arguments.joined(separator: " ")): status \(outcome.status), stderr \(outcome.standardError)"
            #expect(outcome.status != 0, "\(context)")
            #expect(![132, 133, 134].contains(outcome.status), "\(context)")
            #expect(outcome.standardError.contains("error:"), "\(context)")
            #expect(outcome.standardError.contains(mention), "\(context): should mention \(mention)")
        }
        // Nothing was written: the scratch folder holds only what the test put there.
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
        #expect(left == ["full", "link"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("full")) == ["keep.txt"])
    }
}
