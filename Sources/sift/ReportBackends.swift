import Foundation
import SiftCore
import SiftReport
import SparseIFT
import SparseKernels
import SparseRuntime
import DataflowSim

/// The one file that wires `sift report` to the CPU runtime and the accelerator
/// simulator, as libraries. Each adapter turns a report point into a library call. The
/// backend that fails to start is reported as missing, with the reason, and the report
/// shows only what was measured.
enum ReportBackendFactory {
    /// The sweeps whose shard CSVs `sift report --merge a.csv b.csv` recognises by their
    /// columns: the report's own, and those of the runtime and simulator sweeps.
    static var knownSweeps: [CSVMerge.KnownSweep] {
        var sweeps = CSVMerge.reportSweeps
        sweeps.append(.init(name: "sift run sweep", columns: SparseRuntime.Sweep.Row.header,
                            measured: SparseRuntime.Sweep.measuredColumns))
        sweeps.append(.init(name: "sift simulate sweep", columns: DataflowSim.Sweep.columns,
                            measured: Set(DataflowSim.Sweep.measuredColumns)))
        return sweeps
    }

    static func make(acceleratorConfig: String?, acceleratorMode: String?) throws -> ReportBackends {
        let runtime = RuntimeBackend(cache: PlanCache(path: PlanCache.defaultPath))
        let accelerator = try SimulatorBackend(config: acceleratorConfig ?? "wse2", mode: acceleratorMode ?? "analytical")
        return ReportBackends(cpuRuntime: runtime, accelerator: accelerator, missing: [])
    }
}

/// `sift run`'s engine: compile with seeded Kaiming weights (as `sift weights` makes
/// them), kernels chosen by timing on each layer's shape (kept in the plan cache, so a
/// second report skips the timing), then `Benchmark.run` for the point's seconds.
struct RuntimeBackend: CPURuntimeBackend {
    let cache: PlanCache

    var name: String { "sift runtime (SparseRuntime), kernels chosen by timing" + (PlanCache.defaultPath.map { ", plan cache \($0)" } ?? "") }

    func measure(_ point: NetworkPoint, network: TransformedNetwork, options: ExecutionOptions, seconds: Double) throws -> CPUNetworkMeasurement {
        let parameters = try ParameterStore.initialize(network.network, options: .init(seed: 0))
        let plan = try Runtime.compile(network.network, parameters: parameters,
                                       options: RuntimeOptions(batchSize: point.batch, execution: options, planCache: cache))
        let result = try Benchmark.run(plan, input: plan.syntheticInput(seed: 0),
                                       options: BenchmarkOptions(seconds: seconds, warmupSeconds: min(1, seconds / 2), measurePeak: false))
        try? cache.save()  // a cache that cannot be written only costs the next run its timing
        // "12 csr, 3 dense": the kernel family of each weight layer, by its first word.
        var counts: [String: Int] = [:]
        for layer in result.layers where layer.gflops != nil {
            counts[String(layer.kernel.split(separator: " ").first ?? "?"), default: 0] += 1
        }
        let kernels = counts.sorted { $0.value == $1.value ? $0.key < $1.key : $0.value > $1.value }
            .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return CPUNetworkMeasurement(itemsPerSecond: result.itemsPerSecond, medianLatencySeconds: result.latencyMs.median / 1000,
                                     p90LatencySeconds: result.latencyMs.p90 / 1000, iterations: result.iterations,
                                     peakMemoryBytes: result.peakMemoryBytes, kernels: kernels)
    }
}

/// `sift simulate`'s engine, on the config named by `--accelerator-config` (a file, or a
/// name in configs/). What the simulator says about its own fidelity (which products
/// ran cycle by cycle, which were composed) is collected into the report's notes.
final class SimulatorBackend: AcceleratorBackend {
    let resolved: ResolvedConfig
    let machine: DataflowMachine
    let file: String
    let mode: SimulationMode
    let execution: Execution = .weightStreaming
    private var fidelity: [String] = []

    init(config: String, mode: String) throws {
        guard let parsed = SimulationMode(rawValue: mode) else {
            throw ReportError.invalidArgument("--accelerator-mode must be cycle or analytical, got '\(mode)'")
        }
        self.mode = parsed
        file = try ConfigLoader.locate(config, searchDirectories: MachineArguments.searchDirectories)
        resolved = try ConfigLoader.load(path: file)
        machine = try DataflowMachine(resolved)
    }

    var description: AcceleratorDescription {
        AcceleratorDescription(
            name: resolved.name, file: file, mode: mode.rawValue, execution: execution.rawValue,
            parameters: resolved.entries.map { .init(name: $0.key, value: "\($0.value) \($0.unit)", source: $0.provenance) },
            notes: ["Simulated with DataflowSim (`sift simulate`); its assumptions are in Sources/DataflowSim/README.md."] + fidelity,
            resolvedConfig: resolved.json())
    }

    private func note(_ text: String) {
        if !text.isEmpty, !fidelity.contains(text) { fidelity.append(text) }
    }

    func simulateStep(_ point: NetworkPoint, network: TransformedNetwork) throws -> SimulatedStep {
        let request = NetworkRequest(model: point.model, transformed: network, batch: point.batch, execution: execution,
                                     mode: mode, compareWithDense: false)
        let report = try NetworkSimulation.run(request, machine: machine).report
        note(report.fidelityNote)
        return SimulatedStep(stepSeconds: report.stepSeconds, samplesPerSecond: report.samplesPerSecond, cycles: report.cycles,
                             utilisation: report.utilisation, cyclesByCause: report.breakdown.named.map { ($0.0, $0.1) })
    }

    func simulateProduct(_ point: ProductPoint) throws -> SimulatedProduct {
        let pattern = point.pattern == "dense" ? SparsityPattern.unstructured : try SparsityPattern(parsing: point.pattern)
        let request = MatmulRequest(m: point.m, k: point.k, n: point.n, sparsity: point.sparsity, pattern: pattern,
                                    mode: mode, execution: execution)
        let report = try MatmulSimulation.run(request, machine: machine, compareWithDense: false)
        return SimulatedProduct(cycles: report.cycles, seconds: report.seconds, cyclesByCause: report.breakdown.named.map { ($0.0, $0.1) })
    }
}
