import Foundation
import Testing
import SparseIFT
import SparseKernels
@testable import SparseRuntime

/// The machine's kernel tuning in the runtime: every candidate runs with its tuned
/// blocking (also inside the per-thread convolution driver), CSR takes the tuned K block,
/// results still equal the reference, and the plan cache keeps tuned and untuned
/// decisions apart.
@Suite(.serialized) struct TuningTests {
    /// Every tunable kernel with blocking far from its defaults (small K, M and N blocks),
    /// and a CSR K block much smaller than the default.
    static func extremeTuning(threads: Int) throws -> KernelTuning {
        var kernels: [KernelTuning.Kernel] = []
        for kernel in KernelRegistry.all where kernel.isa <= Machine.bestISA && !kernel.tunable.isEmpty {
            let blocking = KernelBlocking(kBlock: kernel.tunable.contains(.kBlock) ? 24 : nil,
                                          mBlock: kernel.tunable.contains(.mBlock) ? 1 : nil,
                                          nBlock: kernel.tunable.contains(.nBlock) ? 20 : nil,
                                          auxiliary: kernel.tunable.contains(.auxiliary) ? 1 : nil,
                                          prefetch: kernel.tunable.contains(.prefetch) ? 7 : nil)
            kernels.append(KernelTuning.Kernel(name: kernel.name, blocking: blocking, rank: 1))
        }
        let key = KernelTuning.Key(try ExecutionOptions(isa: Machine.bestISA, threads: threads))
        return KernelTuning(key: key, searchSeconds: 1, kernels: kernels,
                            csr: KernelTuning.CSRBlocks(threshold: 0.5, dense: 16, sparse: 8))
    }

    @Test func tunedBlockingsRunEveryLayerAndMatchTheReference() throws {
        let networks = [
            try SparseIFT.transform(try Small.resnet(widths: [8, 16, 16, 32]), kind: .wide, sparsity: 0.9,
                                    options: TransformOptions(matchDenseFLOPs: false)).network,
            try SparseIFT.transform(try Small.mlp(), kind: .wide, sparsity: 0.75,
                                    options: TransformOptions(pattern: .block(rows: 4, columns: 4), matchDenseFLOPs: false)).network,
        ]
        for network in networks {
            let parameters = try Harness.parameters(network)
            let input = try Small.input(for: network, batch: 2)
            let expected = try ReferenceExecution.run(network, parameters: parameters, input: input)
            for threads in [1, 2] {
                let tuning = try Self.extremeTuning(threads: threads)
                for forced in [KernelFamily?.none, .dense, .csr, .bsr] {
                    var options = try Harness.options(batch: 2, threads: threads, forced: forced)
                    options.tuning = .given(tuning)
                    let plan = try Runtime.compile(network, parameters: parameters, options: options)
                    #expect(plan.kernelTuning.contains("tuned"))
                    for step in plan.steps.compactMap({ $0 as? GemmStep }) {
                        for prepared in step.kernels {
                            #expect(prepared.blocking == (tuning.tuned(prepared.kernel)?.blocking ?? .defaults), "\(step.node)")
                            if let csr = prepared.matrix as? CSRWeights {
                                #expect(csr.kBlock == 8 || csr.kBlock == 16, "\(step.node): CSR K block \(csr.kBlock)")
                            }
                        }
                    }
                    let ratio = Tolerance(network).worstRatio(try plan.run(input).values, expected.values)
                    #expect(ratio <= 1, "\(network.name) \(String(describing: forced)) threads \(threads): error \(ratio)x the tolerance")
                }
            }
        }
    }

    @Test func thePlanCacheKeepsTunedAndUntunedDecisionsApart() throws {
        let network = try SparseIFT.transform(try Small.mlp(), kind: .dense, sparsity: 0.9).network
        let parameters = try Harness.parameters(network)
        let path = PlanCacheTests.scratchFile()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        func compile(_ tuning: TuningUse) throws -> Plan {
            var options = try Harness.options(batch: 2, threads: 1)
            options.planCache = PlanCache(path: path)
            options.tuning = tuning
            return try Runtime.compile(network, parameters: parameters, options: options)
        }
        let untuned = try compile(.none)
        #expect(untuned.timedLayers > 0)
        #expect(untuned.kernelTuning.contains("default"))
        let tuning = try Self.extremeTuning(threads: 1)
        let tuned = try compile(.given(tuning))
        #expect(tuned.timedLayers == untuned.timedLayers, "a tuned plan does not trust untuned timings")
        #expect(try compile(.given(tuning)).timedLayers == 0)
        #expect(try compile(.none).timedLayers == 0)
        var retuned = tuning
        retuned.createdAt = "2099-01-01T00:00:00Z"
        #expect(try compile(.given(retuned)).timedLayers == untuned.timedLayers, "a new tuning is timed again")
    }

    /// A tuning file without this machine's record gives the defaults; SIFT_TUNING=defaults
    /// (the tests' setting) too. The file's record is used when present.
    @Test func theMachineTuningFileIsReadNotSearched() throws {
        let network = try Small.mlp()
        let parameters = try Harness.parameters(network)
        let path = PlanCacheTests.scratchFile().replacingOccurrences(of: "plans.json", with: "tuning.json")
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        var options = try Harness.options(batch: 2, threads: 1)
        options.tuning = .machine(file: path)
        let start = Date()
        let plan = try Runtime.compile(network, parameters: parameters, options: options)
        #expect(Date().timeIntervalSince(start) < TuningSession.firstUseBudgetSeconds / 3, "no search")
        #expect(plan.kernelTuning.contains("default"))
        #expect(!FileManager.default.fileExists(atPath: path), "nothing stored")
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        try TuningFile.store(try Self.extremeTuning(threads: 1), at: path)
        let tuned = try Runtime.compile(network, parameters: parameters, options: options)
        let defaultsAsked = TuningSession.defaultsRequested()
        #expect(tuned.kernelTuning.contains(defaultsAsked ? "default" : path), "\(tuned.kernelTuning)")
    }
}
