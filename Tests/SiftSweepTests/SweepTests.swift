import Testing
@testable import SiftSweep

/// A synthetic sweep shaped like the real ones: per model, a dense baseline, then every
/// transform × sparsity relative to it.
struct FakePoint: SweepPoint {
    let model: String
    let transform: String
    let sparsity: Double
    var key: String { "\(model)|\(transform)|\(sparsity)" }
    var baselineKey: String? { transform == "dense" ? nil : "\(model)|dense|0.0" }
}

func fakeSweep() throws -> SweepPlan<FakePoint> {
    var points: [FakePoint] = []
    for model in ["mlp", "resnet18-cifar", "gpt3-small"] {
        points.append(FakePoint(model: model, transform: "dense", sparsity: 0))
        for transform in ["wide", "parallel", "factorized", "doped"] {
            for s in [0.5, 0.75, 0.9] { points.append(FakePoint(model: model, transform: transform, sparsity: s)) }
        }
    }
    return try SweepPlan(points: points)
}

let fakeColumns = ["model", "transform", "sparsity", "flops_relative", "seconds", "relative"]
let fakeMeasured: Set<String> = ["seconds", "relative"]

/// "Measures" a point: the identity columns and a deterministic FLOP ratio, plus a
/// timing that differs on every call, as real timings do.
func runFake(_ plan: SweepPlan<FakePoint>, shard: Shard, noise: inout SystemRandomNumberGenerator) throws -> CSVTable {
    try plan.run(shard: shard, columns: fakeColumns) { point, baseline in
        let seconds = Double.random(in: 1...2, using: &noise)
        let base = baseline.flatMap { Double($0["seconds"]!) } ?? seconds
        return ["model": point.model, "transform": point.transform, "sparsity": String(point.sparsity),
                "flops_relative": String(1 - point.sparsity / 100), "seconds": String(seconds),
                "relative": String(seconds / base)]
    }
}

@Suite("shards and merge")
struct SweepTests {
    @Test func parsesShards() throws {
        #expect(try Shard(parsing: "2/3") == Shard(index: 2, count: 3))
        #expect(try Shard(parsing: " 1 / 1 ") == Shard.whole)
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/2/3", "", "1/100001"] {
            #expect(throws: SweepError.self, "\(bad)") { try Shard(parsing: bad) }
        }
    }

    @Test func shardsPartitionThePoints() throws {
        let plan = try fakeSweep()
        for count in 1...7 {
            var owners = [Int](repeating: 0, count: plan.points.count)
            for index in 1...count {
                for work in try plan.work(for: Shard(index: index, count: count)) where work.owned { owners[work.position] += 1 }
            }
            #expect(owners.allSatisfy { $0 == 1 }, "count \(count)")
        }
    }

    @Test func aShardRunsTheBaselinesItsPointsNeed() throws {
        let plan = try fakeSweep()
        let work = plan.work(for: try Shard(index: 2, count: 3))
        let keys = Set(work.map(\.point.key))
        for item in work {
            if let baseline = item.point.baselineKey { #expect(keys.contains(baseline)) }
        }
        // Canonical order, and baselines before their dependents.
        #expect(work.map(\.position) == work.map(\.position).sorted())
        #expect(work.contains { !$0.owned })
    }

    @Test func refusesBadDefinitions() {
        let dense = FakePoint(model: "m", transform: "dense", sparsity: 0)
        let wide = FakePoint(model: "m", transform: "wide", sparsity: 0.5)
        #expect(throws: SweepError.self) { try SweepPlan(points: [dense, dense]) }
        #expect(throws: SweepError.self) { try SweepPlan(points: [wide]) }
        #expect(throws: SweepError.self) { try SweepPlan(points: [wide, dense]) }
    }

    @Test func fingerprintIsStableAndDefinitionSensitive() throws {
        let a = try fakeSweep()
        let b = try fakeSweep()
        #expect(a.id == b.id)
        #expect(a.id.count == 16)
        let fewer = try SweepPlan(points: Array(a.points.dropLast()))
        #expect(fewer.id != a.id)
        // FNV-1a of "a" is the published test vector.
        #expect(SweepPlan<FakePoint>.fingerprint(["a"]) == "af63dc4c8601ec8c")
    }

    /// The acceptance test: three shards, merged, equal the unsharded sweep apart from
    /// the measured columns (and which shard wrote each row).
    @Test func threeShardsMergedEqualTheWholeSweep() throws {
        var noise = SystemRandomNumberGenerator()
        let plan = try fakeSweep()
        let whole = try runFake(plan, shard: .whole, noise: &noise)
        var parts: [SweepMerge.Part] = []
        for index in [3, 1, 2] {  // any order
            let shard = try Shard(index: index, count: 3)
            let table = try runFake(plan, shard: shard, noise: &noise)
            // Through text and back, as files would be.
            parts.append(SweepMerge.Part(source: "shard\(index).csv", table: try CSVTable(parsing: table.text(), source: "shard\(index).csv")))
        }
        let merged = try SweepMerge.merge(parts, measuredColumns: fakeMeasured)
        let ignored = fakeMeasured.union([SweepProvenance.shard])
        #expect(merged.removingColumns(ignored) == whole.removingColumns(ignored))
        #expect(merged.rows.count == plan.points.count)
        // The measured columns really were measured anew (the comparison is not vacuous).
        #expect(try merged.column("seconds") != whole.column("seconds"))
        // Each merged row came from its owner.
        for row in merged.records {
            let point = Int(row["point"]!)!
            #expect(row["shard"] == "\(Shard.owner(of: point, count: 3))/3")
        }
    }

    @Test func moreShardsThanPointsStillMerge() throws {
        var noise = SystemRandomNumberGenerator()
        let plan = try SweepPlan(points: [FakePoint(model: "m", transform: "dense", sparsity: 0),
                                          FakePoint(model: "m", transform: "wide", sparsity: 0.5)])
        var parts: [SweepMerge.Part] = []
        for index in 1...5 {
            parts.append(.init(source: "\(index)", table: try runFake(plan, shard: Shard(index: index, count: 5), noise: &noise)))
        }
        #expect(parts[3].table.rows.isEmpty)
        let merged = try SweepMerge.merge(parts, measuredColumns: fakeMeasured)
        #expect(merged.rows.count == 2)
    }

    @Test func mergeRefusesIncompleteOrMixedInputs() throws {
        var noise = SystemRandomNumberGenerator()
        let plan = try fakeSweep()
        let shards = try (1...3).map { try runFake(plan, shard: Shard(index: $0, count: 3), noise: &noise) }
        func parts(_ tables: [CSVTable]) -> [SweepMerge.Part] {
            tables.enumerated().map { SweepMerge.Part(source: "s\($0.offset + 1).csv", table: $0.element) }
        }
        // A shard missing.
        #expect(throws: SweepError.self) { try SweepMerge.merge(parts([shards[0], shards[2]]), measuredColumns: fakeMeasured) }
        // A shard twice.
        #expect(throws: SweepError.self) { try SweepMerge.merge(parts([shards[0], shards[1], shards[2], shards[1]]), measuredColumns: fakeMeasured) }
        // A different sweep.
        let other = try SweepPlan(points: Array(plan.points.dropLast()))
        let foreign = try runFake(other, shard: Shard(index: 3, count: 3), noise: &noise)
        #expect(throws: SweepError.self) { try SweepMerge.merge(parts([shards[0], shards[1], foreign]), measuredColumns: fakeMeasured) }
        // A different split.
        let half = try runFake(plan, shard: Shard(index: 2, count: 2), noise: &noise)
        #expect(throws: SweepError.self) { try SweepMerge.merge(parts([shards[0], shards[1], shards[2], half]), measuredColumns: fakeMeasured) }
        // Different headers.
        #expect(throws: SweepError.self) {
            try SweepMerge.merge(parts([shards[0], shards[1], shards[2].removingColumns(["seconds"])]), measuredColumns: fakeMeasured)
        }
        // Not a sweep CSV at all.
        #expect(throws: SweepError.self) { try SweepMerge.merge(parts([try CSVTable(header: ["a"], rows: [["1"]])])) }
        // Nothing.
        #expect(throws: SweepError.self) { try SweepMerge.merge([]) }
    }

    @Test func mergeRefusesDisagreeingDuplicates() throws {
        var noise = SystemRandomNumberGenerator()
        let plan = try fakeSweep()
        var shards = try (1...3).map { try runFake(plan, shard: Shard(index: $0, count: 3), noise: &noise) }
        // Shard 2 ran the baseline of point 0 (owned by shard 1) as well; corrupt its copy.
        let rows = shards[1].rows.map { row -> [String] in
            var copy = row
            if row[shards[1].columnIndex("point")!] == "0" { copy[shards[1].columnIndex("flops_relative")!] = "7" }
            return copy
        }
        shards[1] = try CSVTable(header: shards[1].header, rows: rows)
        let parts = shards.enumerated().map { SweepMerge.Part(source: "s\($0.offset + 1).csv", table: $0.element) }
        #expect(throws: SweepError.self) { try SweepMerge.merge(parts, measuredColumns: fakeMeasured) }
    }
}

@Suite("CSV")
struct CSVTests {
    @Test func roundTripsAwkwardCells() throws {
        let table = try CSVTable(header: ["a", "b,c", "d"], rows: [["1", "x \"quoted\"", "line\nbreak"], ["", ",", "é ü 🙂"]])
        let text = table.text()
        #expect(text.hasPrefix("a,\"b,c\",d\n"))
        #expect(try CSVTable(parsing: text, source: "t") == table)
        // CRLF line ends and no final newline.
        let simple = try CSVTable(parsing: "x,y\r\n1,2\r\n3,4", source: "t")
        #expect(simple.rows == [["1", "2"], ["3", "4"]])
    }

    @Test func refusesMalformedText() {
        for (text, why) in [
            ("", "empty"), ("a,b\n1\n", "short row"), ("a,b\n1,2,3\n", "long row"),
            ("a,b\n\"1,2\n", "unterminated quote"), ("a,a\n1,2\n", "duplicate column"),
            ("a,\n1,2\n", "empty column name"), ("a,b\n1\"x,2\n", "quote inside cell"),
            ("a,b\n\"1\"x,2\n", "text after quote"), ("a,b\r1,2\n", "bare CR"),
        ] {
            #expect(throws: SweepError.self, "\(why)") { try CSVTable(parsing: text, source: "t") }
        }
    }

    @Test func appendByNameChecksColumns() throws {
        var table = try CSVTable(header: ["a", "b"])
        try table.append(["a": "1", "b": "2"])
        #expect(throws: SweepError.self) { try table.append(["a": "1"]) }
        #expect(throws: SweepError.self) { try table.append(["a": "1", "b": "2", "c": "3"]) }
        #expect(throws: SweepError.self) { try table.append(["1"]) }
        #expect(table.rows == [["1", "2"]])
    }
}
