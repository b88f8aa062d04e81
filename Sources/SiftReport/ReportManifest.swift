import Foundation
import SiftCore
import SiftSweep

/// `manifest.json`, in every report folder: which plan and shard(s) produced the CSVs,
/// on which machine(s), with which simulator config, and what was unavailable. `sift
/// report --merge` reads it to check that shard folders belong together.
public struct ReportManifest: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    /// One run of `sift report` (a whole report, or one shard).
    public struct Run: Codable, Sendable, Equatable {
        /// `i/n`.
        public var shard: String
        public var machine: MachineDescription
        public var command: String
        /// ISO 8601, UTC.
        public var started: String
        public var seconds: Double
    }

    public struct Missing: Codable, Sendable, Equatable {
        public var what: String
        public var reason: String
    }

    /// "sift": what SafeDirectory looks for before it replaces a folder.
    public var tool = SafeDirectory.tool
    public var formatVersion = ReportManifest.formatVersion
    public var kind = "sift-report"
    public var plan: ReportPlan
    /// The sweep id (SiftSweep fingerprint) of each sweep that ran, by CSV file name.
    public var sweepIDs: [String: String]
    /// The runs that produced the data: one, or one per shard after a merge.
    public var runs: [Run]
    public var accelerator: AcceleratorDescription?
    public var missing: [Missing]

    enum CodingKeys: String, CodingKey {
        case tool, formatVersion = "format_version", kind, plan, sweepIDs = "sweep_ids", runs, accelerator, missing
    }

    public func json() throws(ReportError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
        } catch {
            throw .io("the manifest cannot be written as JSON (a non-finite number?): \(error)")
        }
    }

    public static func read(folder: String) throws(ReportError) -> ReportManifest {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(SafeDirectory.manifestName).path
        let bytes: [UInt8]
        do { bytes = try SafeFile.read(path) } catch {
            throw .malformedInput("\(folder) has no readable manifest.json (\(error.message)): it is not a folder written by `sift report`")
        }
        let manifest: ReportManifest
        do { manifest = try JSONDecoder().decode(ReportManifest.self, from: Data(bytes)) } catch {
            throw .malformedInput("\(path) does not parse: \(error)")
        }
        guard manifest.kind == "sift-report", manifest.formatVersion == formatVersion else {
            throw .malformedInput("\(path) is format \(manifest.kind) v\(manifest.formatVersion); this sift reads sift-report v\(formatVersion)")
        }
        return manifest
    }

    /// The distinct machines of the runs, in run order.
    public var machines: [MachineDescription] {
        var seen: [MachineDescription] = []
        for run in runs where !seen.contains(where: { $0.sameHardware(as: run.machine) }) { seen.append(run.machine) }
        return seen
    }
}

extension MachineDescription {
    /// Same CPU, ISA path and threads (the measured peak differs run to run).
    func sameHardware(as other: MachineDescription) -> Bool {
        cpuModel == other.cpuModel && isa == other.isa && threads == other.threads && hostname == other.hostname
    }
}
