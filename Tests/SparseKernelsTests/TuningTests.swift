import Foundation
import Testing
@testable import SparseKernels

/// The per-machine tuning: the file (round trips, corrupt and foreign files), the choice
/// it drives, and outputs with tuned parameters against the oracle. Nothing here times
/// anything: the one search test injects a cost model.
@Suite("Kernel tuning", .serialized)
struct TuningTests {
    static func scratchPath(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sift-tuning-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }

    static func options(_ threads: Int = 2) throws -> ExecutionOptions { try ExecutionOptions(isa: Machine.bestISA, threads: threads) }

    /// A record for this machine that ranks `kernels` with unusual blocking.
    static func record(_ kernels: [KernelTuning.Kernel], threads: Int = 2) throws -> KernelTuning {
        KernelTuning(key: KernelTuning.Key(try options(threads)), searchSeconds: 1.5, kernels: kernels,
                     csr: KernelTuning.CSRBlocks(threshold: 0.3, dense: 48, sparse: 400))
    }

    @Test("A record round-trips through the file; other machines' records are kept")
    func roundTrip() throws {
        let path = Self.scratchPath("tuning.json")
        let gemm = try #require(KernelRegistry.kernels(of: .dense).last { $0.maxColumns == nil && $0.isa <= Machine.bestISA })
        let mine = try Self.record([KernelTuning.Kernel(name: gemm.name, blocking: KernelBlocking(kBlock: 96, mBlock: 3), rank: 1)])
        var foreign = mine
        foreign.key = KernelTuning.Key(cpuModel: "Some Other CPU (family 6, model 143), L1d 48 KiB, L2 2048 KiB", isa: Machine.bestISA, threads: 4)
        try TuningFile.store(foreign, at: path)
        #expect(TuningFile.lookup(mine.key, at: path) == .absent, "a foreign record is not ours")
        try TuningFile.store(mine, at: path)
        #expect(TuningFile.lookup(mine.key, at: path) == .found(mine))
        #expect(TuningFile.lookup(foreign.key, at: path) == .found(foreign), "storing ours kept the foreign one")
        var updated = mine
        updated.searchSeconds = 7
        try TuningFile.store(updated, at: path)
        let file = try TuningFile.decode(SafeFile.read(path))
        #expect(file.records.count == 2, "the record of the same key is replaced, not added")
        #expect(TuningFile.lookup(mine.key, at: path) == .found(updated))
        #expect(TuningFile.lookup(mine.key, at: path + ".missing") == .absent)
    }

    @Test("Corrupt, foreign-format, wrong-version and out-of-range files are not used, with a reason",
          arguments: [
            ("garbage", "not a sift tuning file"),
            ("{\"format\": \"sift-kernel-tuning\", \"version\": 1}", "not a sift tuning file"),
            ("{\"format\": \"other\", \"version\": 1, \"records\": []}", "format 'other'"),
            ("{\"format\": \"sift-kernel-tuning\", \"version\": 99, \"records\": []}", "version 99"),
            ("KERNEL:sk_no_such_kernel", "does not have"),
            ("KBLOCK:-5", "between 1 and"),
            ("RANK:5000", "out of range"),
            ("TRUNCATE", "not a sift tuning file"),
          ])
    func unusable(content: String, reason: String) throws {
        let path = Self.scratchPath("tuning.json")
        let good = try Self.record([KernelTuning.Kernel(name: KernelRegistry.kernels(of: .dense)[1].name, rank: 1)])
        var text = String(decoding: try TuningFile(records: [good]).encoded(), as: UTF8.self)
        switch content {
        case let c where c.hasPrefix("KERNEL:"): text = text.replacingOccurrences(of: good.kernels[0].name, with: String(c.dropFirst(7)))
        case let c where c.hasPrefix("KBLOCK:"):
            var bad = good
            bad.kernels[0].kBlock = Int(c.dropFirst(7))
            text = String(decoding: try TuningFile(records: [bad]).encoded(), as: UTF8.self)
        case let c where c.hasPrefix("RANK:"):
            var bad = good
            bad.kernels[0].rank = Int(c.dropFirst(5))!
            text = String(decoding: try TuningFile(records: [bad]).encoded(), as: UTF8.self)
        case "TRUNCATE": text = String(text.prefix(text.count / 2))
        default: text = content
        }
        try SafeFile.write(text, to: path)
        guard case .unusable(let message) = TuningFile.lookup(good.key, at: path) else {
            Issue.record("\(content): the file was used")
            return
        }
        #expect(message.contains(reason), "\(content): \(message)")
        // Storing over an unreadable file replaces it with a good one.
        try TuningFile.store(good, at: path)
        #expect(TuningFile.lookup(good.key, at: path) == .found(good))
    }

    @Test("A directory where the file should be is refused by name")
    func directory() throws {
        let path = Self.scratchPath("tuning.json")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard case .unusable(let message) = TuningFile.lookup(KernelTuning.Key(try Self.options()), at: path) else {
            Issue.record("a directory was read as a tuning file")
            return
        }
        #expect(message.contains("directory"), "\(message)")
    }

    @Test("The default path follows XDG_CACHE_HOME, else HOME")
    func defaultPath() {
        #expect(TuningFile.defaultPath(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]) == "/x/cache/sift/kernel-tuning.json")
        #expect(TuningFile.defaultPath(environment: ["HOME": "/home/u"]) == "/home/u/.cache/sift/kernel-tuning.json")
        #expect(TuningFile.defaultPath(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/u"]) == "/home/u/.cache/sift/kernel-tuning.json")
    }

    @Test("SIFT_TUNING=defaults never reads or searches; a found record is used; a corrupt file warns and, without a search, leaves the defaults")
    func session() throws {
        let path = Self.scratchPath("tuning.json")
        let options = try Self.options()
        let warnings = WarningLog()
        let (plain, source) = try TuningSession.resolve(options, path: path, searchIfMissing: true,
                                                        environment: ["SIFT_TUNING": "defaults"], warn: warnings.add)
        #expect(plain.tuning == nil && source == .defaults("SIFT_TUNING=defaults") && warnings.lines.isEmpty)
        let record = try Self.record([])
        try TuningFile.store(record, at: path)
        let (tuned, found) = try TuningSession.resolve(options, path: path, searchIfMissing: true, environment: [:], warn: warnings.add)
        #expect(tuned.tuning == record && found == .file(path))
        try SafeFile.write("corrupt", to: path)
        let (fallback, why) = try TuningSession.resolve(options, path: path, searchIfMissing: false, environment: [:], warn: warnings.add)
        #expect(fallback.tuning == nil)
        if case .defaults = why {} else { Issue.record("\(why)") }
        #expect(warnings.lines.contains { $0.contains("ignoring the kernel tuning") && $0.contains("not a sift tuning file") }, "\(warnings.lines)")
    }

    @Test("Without a tuning the Swift plan is the C library's own choice")
    func planMatchesC() throws {
        let weights: [WeightMatrix] = [
            try DenseWeights(RandomWeights.dense(rows: 40, columns: 33, seed: 1)),
            try CSRWeights(RandomWeights.matrix(rows: 300, columns: 64, pattern: .unstructured, sparsity: 0.5, seed: 2)),
            try NMWeights(raggedNM(rows: 40, columns: 70, n: 2, m: 4, seed: 3), n: 2, m: 4),
            try NMWeights(raggedNM(rows: 400, columns: 70, n: 2, m: 4, seed: 3), n: 2, m: 4),
            try BSRWeights(raggedBlocks(rows: 40, columns: 70, blockRows: 8, blockColumns: 4, seed: 4), blockRows: 8, blockColumns: 4),
        ]
        for w in weights {
            for isa in Machine.supportedISAs {
                for threads in [1, 2] {
                    let options = try ExecutionOptions(isa: isa, threads: threads)
                    for n in [1, 2, 3, 4, 7, 8, 9, 16, 17, 64, 300, 3136] {
                        let swift = KernelRegistry.plan(for: w, columns: n, options: options)
                        #expect(swift?.kernel == KernelRegistry.untunedChoice(for: w, columns: n, options: options), "\(w.format) \(isa) t=\(threads) N=\(n)")
                        #expect(swift?.blocking == .defaults)
                    }
                }
            }
        }
    }

    /// Every tunable kernel with blocking far from its defaults, ranked first in its group.
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
        return try record(kernels, threads: threads)
    }

    @Test("Tuned parameters give the oracle's product at every kernel's tile and K-block edges, threads 1 and 2")
    func tunedAgreesWithOracle() throws {
        for threads in [1, 2] {
            var options = try ExecutionOptions(isa: Machine.bestISA, threads: threads)
            options.tuning = try Self.extremeTuning(threads: threads)
            for kernel in KernelRegistry.all where kernel.isa <= Machine.bestISA && !kernel.tunable.isEmpty {
                for (index, edge) in RegistryEdgeCase.cases(for: kernel).enumerated() where edge.blocking == .defaults {
                    let seed = UInt64(5000 + index)
                    let (w, _) = try edge.weights(seed: seed)
                    let prepared = try prepareWeights(w, as: edge.format, options: options)
                    let x = RandomWeights.dense(rows: edge.k, columns: edge.n, seed: seed &+ 3)
                    let plan = try #require(KernelRegistry.plan(for: prepared, columns: edge.n, options: options))
                    let choices = epilogues(rows: edge.m, columns: edge.n, seed: seed)
                    let (name, epilogue) = choices[index % choices.count]
                    let y = try prepared.multiply(x, epilogue: epilogue, options: options)
                    try expectMatchesReference(y, w: w, x: x, epilogue: epilogue,
                                               "tuned \(plan.kernel.name) \(edge) t=\(threads) epilogue=\(name)")
                }
            }
        }
    }

    @Test("A tuning can rank another variant of a group first, and sets CSR's layout K block by density")
    func rankAndCSR() throws {
        var options = try Self.options()
        let dense = try DenseWeights(RandomWeights.dense(rows: 64, columns: 64, seed: 1))
        let variants = KernelRegistry.kernels(of: .dense).filter { $0.group == "dense-gemm" && $0.isa <= options.isa }
        for variant in variants {
            options.tuning = try Self.record([KernelTuning.Kernel(name: variant.name, blocking: KernelBlocking(kBlock: 32), rank: 1)])
            let plan = KernelRegistry.plan(for: dense, columns: 100, options: options)
            #expect(plan?.kernel == variant && plan?.blocking.kBlock == 32, "\(variant.name)")
            // The GEMV's narrower N range still wins at N = 1.
            #expect(KernelRegistry.plan(for: dense, columns: 1, options: options)?.kernel.maxColumns == 1)
        }
        options.tuning = try Self.record([])
        let sparse = try RandomWeights.matrix(rows: 32, columns: 64, pattern: .unstructured, sparsity: 0.9, seed: 2)
        let denser = try RandomWeights.matrix(rows: 32, columns: 64, pattern: .unstructured, sparsity: 0.5, seed: 2)
        #expect((try prepareWeights(sparse, as: .csr, options: options) as? CSRWeights)?.kBlock == 400)
        #expect((try prepareWeights(denser, as: .csr, options: options) as? CSRWeights)?.kBlock == 48)
    }

    @Test("The search walks to the fastest variant and blocking of a cost model (no timing involved)")
    func searchFollowsModel() throws {
        let options = try Self.options()
        var tuner = KernelTuner(options: options, budgetSeconds: 1000)
        tuner.groups = [KernelTuner.Group(name: "dense-gemm", workloads: [
            KernelTuner.Workload(m: 40, k: 64, n: 20, format: .dense, sparsity: 0),
        ])]
        tuner.csrWorkloads = nil
        let variants = KernelRegistry.all.filter { $0.group == "dense-gemm" && $0.isa <= options.isa && $0.isa != .scalar }
        guard let favourite = variants.first else { return } // a CPU without AVX2: nothing to choose
        // Cost: the favourite variant is fastest; blocking costs grow with the distance of
        // kc from 64 and of mc from 2 (in octaves).
        tuner.measure = { _, _, _, plan, _, _ in
            let kc = Double(plan.blocking.kBlock ?? 256), mc = Double(plan.blocking.mBlock ?? 16)
            let variantCost = plan.kernel == favourite ? 1.0 : 2.0
            return variantCost * (1 + 0.2 * abs(log2(kc / 64)) + 0.1 * abs(log2(mc / 2)))
        }
        let record = try tuner.tune()
        #expect(record.kernels.count == 1)
        let tuned = try #require(record.kernels.first)
        #expect(tuned.name == favourite.name && tuned.rank == 1)
        // One halving per field from the hwloc-derived start (kc 256 on a 32 KiB L1d).
        let start = favourite.resolvedBlocking(for: try DenseWeights(RandomWeights.dense(rows: 40, columns: 64, seed: 9000)), columns: 20)
        #expect(tuned.kBlock == (start.kBlock.map { max(16, $0 / 2 / 16 * 16) }), "\(tuned)")
        #expect(tuned.mBlock == (start.mBlock.map { max(1, $0 / 2) }), "\(tuned)")
        try record.validate()
        // A zero budget measures nothing and keeps every default.
        tuner.budgetSeconds = 0
        #expect(try tuner.tune().kernels.isEmpty)
    }
}

/// Collects warnings from a @Sendable callback.
final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
    func add(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
}
