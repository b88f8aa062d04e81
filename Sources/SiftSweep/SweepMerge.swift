/// Assembles the CSVs that the shards of one sweep wrote into the table the unsharded
/// sweep would have written (apart from what was measured, which differs run to run).
///
/// It refuses, naming the files, rather than guess: headers that differ, rows of
/// different sweeps (`sweep_id`) or split different ways, a shard given twice, a point
/// nobody produced, and two rows of one point that disagree outside the measured columns.
public enum SweepMerge {
    public struct Part: Sendable {
        /// Where the table came from (a path), for error messages.
        public let source: String
        public let table: CSVTable
        public init(source: String, table: CSVTable) {
            self.source = source
            self.table = table
        }
    }

    /// Merges shard tables. `measuredColumns` names the columns that hold measurements
    /// (timings, rates, anything that differs between two runs of the same point);
    /// every other non-provenance column must agree between two rows of one point, which
    /// happens when two shards both ran a baseline. The result keeps, for each point, the
    /// row written by the shard that owns it, sorted by point.
    public static func merge(_ parts: [Part], measuredColumns: Set<String> = []) throws(SweepError) -> CSVTable {
        guard let first = parts.first else { throw .invalidArgument("nothing to merge: no shard outputs given") }
        for column in SweepProvenance.all where first.table.columnIndex(column) == nil {
            throw .malformedCSV("\(first.source) has no '\(column)' column: it is not a sweep CSV written with shard provenance")
        }
        for part in parts.dropFirst() where part.table.header != first.table.header {
            let theirs = Set(part.table.header), ours = Set(first.table.header)
            let detail = theirs == ours ? "the same columns in another order"
                : "columns only in \(first.source): \(ours.subtracting(theirs).sorted()); only in \(part.source): \(theirs.subtracting(ours).sorted())"
            throw .mergeConflict("\(part.source) and \(first.source) have different headers (\(detail))")
        }
        let header = first.table.header
        let pointColumn = header.firstIndex(of: SweepProvenance.point)!
        let pointsColumn = header.firstIndex(of: SweepProvenance.points)!
        let shardColumn = header.firstIndex(of: SweepProvenance.shard)!
        let sweepColumn = header.firstIndex(of: SweepProvenance.sweepID)!
        let compared = header.indices.filter {
            !SweepProvenance.all.contains(header[$0]) && !measuredColumns.contains(header[$0])
        }

        var sweepID: (value: String, source: String)?
        var total: Int?
        var shardCount: Int?
        var shardSource: [Int: String] = [:]
        // Every row of each point, with the shard that wrote it and its file.
        var candidates: [Int: [(row: [String], shard: Int, source: String)]] = [:]

        for part in parts {
            var shardOfPart: Shard?
            for (number, row) in part.table.rows.enumerated() {
                let place = "\(part.source) row \(number + 1)"
                if let known = sweepID {
                    guard row[sweepColumn] == known.value else {
                        throw .mergeConflict("\(place) belongs to sweep \(row[sweepColumn]) but \(known.source) to sweep \(known.value): these are outputs of different sweeps")
                    }
                } else {
                    sweepID = (row[sweepColumn], part.source)
                }
                let shard = try Shard(parsing: row[shardColumn])
                if let known = shardOfPart, known != shard {
                    throw .mergeConflict("\(place) says shard \(shard) but earlier rows of the file say \(known)")
                }
                shardOfPart = shard
                if let count = shardCount, count != shard.count {
                    throw .mergeConflict("\(place) comes from a sweep split \(shard.count) ways, but other files from one split \(count) ways")
                }
                shardCount = shard.count
                guard let points = Int(row[pointsColumn]), points >= 1 else {
                    throw .malformedCSV("\(place): '\(row[pointsColumn])' is not a point count")
                }
                if let known = total, known != points {
                    throw .mergeConflict("\(place) counts \(points) points in the sweep, other rows \(known)")
                }
                total = points
                guard let point = Int(row[pointColumn]), point >= 0, point < points else {
                    throw .malformedCSV("\(place): point '\(row[pointColumn])' is not in 0..<\(points)")
                }
                candidates[point, default: []].append((row, shard.index, part.source))
            }
            if let shard = shardOfPart {
                if let other = shardSource[shard.index] {
                    throw .mergeConflict("shard \(shard) is given twice: \(other) and \(part.source)")
                }
                shardSource[shard.index] = part.source
            }
        }

        guard let total, let shardCount else {
            // Only headers: shards that owned nothing (more shards than points).
            return try CSVTable(header: header)
        }
        var merged = try CSVTable(header: header)
        var missing: [Int] = []
        for point in 0..<total {
            guard let rows = candidates[point] else {
                missing.append(point)
                continue
            }
            let owner = Shard.owner(of: point, count: shardCount)
            guard let kept = rows.first(where: { $0.shard == owner }) else {
                missing.append(point)
                continue
            }
            for other in rows {
                for column in compared where other.row[column] != kept.row[column] {
                    throw .mergeConflict("point \(point) differs between \(kept.source) and \(other.source) in column '\(header[column])' ('\(kept.row[column])' vs '\(other.row[column])')")
                }
            }
            try merged.append(kept.row)
        }
        guard missing.isEmpty else {
            let owners = Set(missing.map { Shard.owner(of: $0, count: shardCount) }).sorted()
            let shown = missing.prefix(10).map(String.init).joined(separator: ", ")
            throw .mergeConflict("\(missing.count) of \(total) points have no row (\(shown)\(missing.count > 10 ? ", ..." : "")); shard(s) \(owners.map { "\($0)/\(shardCount)" }.joined(separator: ", ")) missing or incomplete")
        }
        return merged
    }
}
