/// One point of a sweep: a configuration to measure or simulate, named by a key that is
/// unique in its sweep, and the key of the point it is compared with (its dense
/// baseline), or nil when it is a baseline itself.
public protocol SweepPoint: Sendable {
    /// Unique within the sweep and stable across machines and runs, e.g.
    /// `mlp|wide|0.75|unstructured|b64`.
    var key: String { get }
    /// The key of the point this one is reported relative to, or nil.
    var baselineKey: String? { get }
}

/// A sweep: its points in canonical order, the shard assignment, and the provenance
/// columns every row of a mergeable sweep CSV carries.
///
/// How shards stay honest: a ratio (latency relative to dense) is only meaningful when
/// both numbers come from the same machine and run. So a shard runs, besides the points
/// it owns, the baselines those points need, and writes rows for both. Every shard's CSV
/// is therefore self-contained; the merge keeps one row per point (the owner's) and each
/// row's ratio was computed against a baseline measured beside it.
public struct SweepPlan<Point: SweepPoint>: Sendable {
    /// The points in canonical order.
    public let points: [Point]
    /// The fingerprint of the definition (16 hex digits).
    public let id: String
    private let positionByKey: [String: Int]

    /// Checks that keys are unique and that every baseline is a point of the sweep placed
    /// before the points that need it (so a shard can measure it first).
    public init(points: [Point]) throws(SweepError) {
        var positions: [String: Int] = [:]
        for (position, point) in points.enumerated() {
            guard !point.key.isEmpty else { throw .invalidArgument("sweep point \(position) has an empty key") }
            guard positions[point.key] == nil else {
                throw .invalidArgument("sweep point '\(point.key)' appears twice")
            }
            positions[point.key] = position
        }
        for (position, point) in points.enumerated() {
            guard let baseline = point.baselineKey else { continue }
            guard let baselinePosition = positions[baseline] else {
                throw .invalidArgument("sweep point '\(point.key)' needs baseline '\(baseline)', which is not in the sweep")
            }
            guard baselinePosition < position else {
                throw .invalidArgument("sweep point '\(point.key)' comes before its baseline '\(baseline)'")
            }
        }
        self.points = points
        self.positionByKey = positions
        self.id = Self.fingerprint(points.map(\.key))
    }

    /// What one shard runs, in canonical order.
    public struct Work: Sendable {
        public let position: Int
        public let point: Point
        /// True when this shard owns the point; false for a baseline run only so the
        /// owned points that need it have something measured beside them to compare with.
        public let owned: Bool
    }

    /// The owned points of `shard` plus the baselines they need, in canonical order.
    public func work(for shard: Shard) -> [Work] {
        var needed: Set<Int> = []
        for (position, point) in points.enumerated() where shard.owns(position: position) {
            needed.insert(position)
            if let baseline = point.baselineKey, let baselinePosition = positionByKey[baseline] {
                needed.insert(baselinePosition)
            }
        }
        return needed.sorted().map { Work(position: $0, point: points[$0], owned: shard.owns(position: $0)) }
    }

    public func position(of key: String) -> Int? { positionByKey[key] }

    /// The provenance cells of the row of the point at `position`, written by `shard`.
    public func provenance(position: Int, shard: Shard) -> [String: String] {
        [SweepProvenance.point: String(position), SweepProvenance.points: String(points.count),
         SweepProvenance.shard: shard.description, SweepProvenance.sweepID: id]
    }

    /// FNV-1a (64-bit) over the keys, newline-separated: stable across machines and runs,
    /// unlike Swift's `Hasher`, which is seeded per process.
    static func fingerprint(_ keys: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (index, key) in keys.enumerated() {
            for byte in (index == 0 ? key : "\n" + key).utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// The provenance columns every row of a mergeable sweep CSV carries, appended in this
/// order after the sweep's own columns.
public enum SweepProvenance {
    /// The point's position in the canonical order (0-based).
    public static let point = "point"
    /// How many points the whole (unsharded) sweep has.
    public static let points = "points"
    /// `i/n`: the shard that produced the row.
    public static let shard = "shard"
    /// A fingerprint of the sweep's definition (its keys in order): shards of different
    /// sweeps are never merged.
    public static let sweepID = "sweep_id"
    public static let all = [point, points, shard, sweepID]
}

extension SweepPlan {
    /// Runs `shard`'s work in canonical order and returns its mergeable table: the sweep's
    /// own `columns` followed by the provenance columns.
    ///
    /// `measure` gets the point and, for a point with a baseline, the baseline's row
    /// (already measured in this run, on this machine), so it can write ratios; it returns
    /// one cell per column in `columns`. `progress` is told before each point starts
    /// (its number within this shard's work, and the work's length).
    public func run(shard: Shard, columns: [String],
                    measure: (_ point: Point, _ baseline: [String: String]?) throws -> [String: String],
                    progress: (_ done: Int, _ of: Int, _ point: Point) -> Void = { _, _, _ in }) throws -> CSVTable {
        var table = try CSVTable(header: columns + SweepProvenance.all)
        var measuredByKey: [String: [String: String]] = [:]
        let work = work(for: shard)
        for (number, item) in work.enumerated() {
            progress(number, work.count, item.point)
            let baseline = item.point.baselineKey.flatMap { measuredByKey[$0] }
            var cells = try measure(item.point, baseline)
            measuredByKey[item.point.key] = cells
            for (name, value) in provenance(position: item.position, shard: shard) { cells[name] = value }
            try table.append(cells)
        }
        return table
    }
}
