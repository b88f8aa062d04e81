import Foundation
import SiftReport

/// The one file that wires `sift report` to the CPU runtime and the accelerator
/// simulator. Each adapter turns a report point into a library call; until a library
/// lands in this build, its backend is reported as missing, with the reason, and the
/// report shows only what was really measured or simulated.
enum ReportBackendFactory {
    /// The sweeps whose shard CSVs `sift report --merge a.csv b.csv` recognises by their
    /// columns: the report's own, and those of the runtime and simulator sweeps.
    static var knownSweeps: [CSVMerge.KnownSweep] { CSVMerge.reportSweeps }

    static func make(acceleratorConfig: String?) throws -> ReportBackends {
        var missing: [MissingBackend] = []
        missing.append(MissingBackend(
            what: "CPU runtime sweep (whole networks)",
            reason: "the CPU inference runtime (SparseRuntime, `sift run`, issue 7) is not in this build yet"))
        missing.append(MissingBackend(
            what: "accelerator sweeps (networks and single product)",
            reason: "the dataflow simulator (DataflowSim, `sift simulate`, issue 8) is not in this build yet"))
        if let acceleratorConfig {
            throw ReportError.invalidArgument("--accelerator-config \(acceleratorConfig): the simulator is not in this build yet")
        }
        return ReportBackends(cpuRuntime: nil, accelerator: nil, missing: missing)
    }
}
