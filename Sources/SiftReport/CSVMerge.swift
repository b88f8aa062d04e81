import Foundation
import SiftCore
import SiftSweep

/// `sift report --merge a.csv b.csv ... --out merged.csv`: merges the shard CSVs of one
/// sweep (`sift run sweep --shard`, the simulator's sweep, or one of the report's own)
/// into the CSV the unsharded sweep would have written.
///
/// Two shards may both have measured a dense baseline; their rows must agree except in
/// the measured columns, so the merge must know which columns those are: the sweeps it
/// knows by their header (registered below), or the ones named by `--measured-columns`.
public enum CSVMerge {
    /// A sweep's columns (without the provenance columns) and which of them are measured.
    public struct KnownSweep: Sendable {
        public let name: String
        public let columns: [String]
        public let measured: Set<String>
        public init(name: String, columns: [String], measured: Set<String>) {
            self.name = name
            self.columns = columns
            self.measured = measured
        }
    }

    /// The report's own sweeps; `sift` adds the runtime's and the simulator's.
    public static var reportSweeps: [KnownSweep] {
        ReportSweep.allCases.map { KnownSweep(name: "report \($0.rawValue)", columns: $0.columns, measured: $0.measuredColumns) }
    }

    /// Merges `files`, writes `out` (whole or not at all) and returns what it says.
    public static func merge(files: [String], out: String, known: [KnownSweep], measuredColumns: Set<String>?) throws -> String {
        do { try SafeFile.checkOutput(out) } catch { throw ReportError.io(error.message) }
        let parts = try files.map { path in SweepMerge.Part(source: path, table: try CSVTable(contentsOf: path)) }
        guard let header = parts.first?.table.header else { throw ReportError.invalidArgument("--merge needs at least one CSV file") }
        let ownColumns = header.filter { !SweepProvenance.all.contains($0) }
        let measured: Set<String>
        let what: String
        if let measuredColumns {
            let unknown = measuredColumns.subtracting(header)
            guard unknown.isEmpty else {
                throw ReportError.invalidArgument("--measured-columns names \(unknown.sorted().joined(separator: ", ")), not columns of \(files[0])")
            }
            measured = measuredColumns
            what = "columns given by --measured-columns"
        } else if let sweep = known.first(where: { $0.columns == ownColumns }) {
            measured = sweep.measured
            what = sweep.name
        } else {
            throw ReportError.invalidArgument("\(files[0]) is not a sweep this sift knows (columns \(ownColumns.joined(separator: ","))); name the columns that hold measurements with --measured-columns")
        }
        let merged = try SweepMerge.merge(parts, measuredColumns: measured)
        try merged.write(to: out)
        return "merged \(files.count) shard CSVs of \(what): \(merged.rows.count) points written to \(out)"
    }
}
