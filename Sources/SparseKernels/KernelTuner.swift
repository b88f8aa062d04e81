import Foundation
internal import CSparseKernels

/// The per-machine search: for each kernel family, the blocking of every variant (K, M and
/// N blocks, panel chunks, CSR's K block) and the choice among the variants of a group,
/// measured on the actual CPU with the options' ISA and thread count.
///
/// The search starts from the kernels' defaults, which are derived from the hwloc cache
/// sizes, and walks one blocking field at a time (halve, ×3/4, ×3/2, double; keep a change
/// only when it is at least 2% faster), a variant at a time, on a few representative
/// shapes per family. It stops at `budgetSeconds` with what it has: a first run stays
/// under two minutes (about 30-60 s on 2 cores).
public struct KernelTuner {
    /// One representative product: a shape, the weights' pattern and sparsity.
    public struct Workload: Sendable {
        public var m: Int, k: Int, n: Int
        public var format: WeightFormat
        public var sparsity: Double
        public init(m: Int, k: Int, n: Int, format: WeightFormat, sparsity: Double) {
            self.m = m
            self.k = k
            self.n = n
            self.format = format
            self.sparsity = sparsity
        }
    }

    /// The variant groups searched and the workloads each is measured on.
    public struct Group: Sendable {
        public var name: String
        public var workloads: [Workload]
    }

    public var options: ExecutionOptions
    public var budgetSeconds: Double
    /// Progress lines (the CLI prints them on stderr).
    public var log: @Sendable (String) -> Void
    public var groups: [Group]
    /// CSR's layout K block is searched per density class on these two workloads (the
    /// class boundary is the density between them).
    public var csrWorkloads: (dense: Workload, sparse: Workload)?
    /// Seconds per call of a plan over `repetitions` back-to-back calls: by default timed;
    /// tests inject a model instead, so that no test depends on timing.
    public var measure: (WeightMatrix, Matrix, inout Matrix, KernelPlan, ExecutionOptions, Int) -> Double

    /// The standard search for `options` (its tuning, if any, is ignored).
    public init(options: ExecutionOptions, budgetSeconds: Double = 100, log: @escaping @Sendable (String) -> Void = { _ in }) {
        var plain = options
        plain.tuning = nil
        self.options = plain
        self.budgetSeconds = budgetSeconds
        self.log = log
        groups = [
            // MLP layers at batch 256, sized so the whole search fits its budget on a busy
            // 2-core machine: K up to 4096 (the K block matters most there), M up to 2048.
            Group(name: "dense-gemm", workloads: [
                Workload(m: 1024, k: 1024, n: 256, format: .dense, sparsity: 0),
                Workload(m: 2048, k: 2048, n: 256, format: .dense, sparsity: 0),
            ]),
            Group(name: "csr-spmm", workloads: [
                Workload(m: 1024, k: 1024, n: 256, format: .csr, sparsity: 0.9),
                Workload(m: 1024, k: 1024, n: 256, format: .csr, sparsity: 0.95),
            ]),
            Group(name: "nm-spmm", workloads: [
                Workload(m: 1024, k: 4096, n: 256, format: .nm(n: 2, m: 4), sparsity: 0.5),
                Workload(m: 2048, k: 2048, n: 256, format: .nm(n: 2, m: 4), sparsity: 0.5),
            ]),
            Group(name: "nm-spmm-few-rows", workloads: [Workload(m: 128, k: 1152, n: 784, format: .nm(n: 2, m: 4), sparsity: 0.5)]),
            Group(name: "bsr-spmm", workloads: [Workload(m: 1024, k: 1024, n: 256, format: .bsr(rows: 16, columns: 16), sparsity: 0.9)]),
        ]
        csrWorkloads = (Workload(m: 1024, k: 1024, n: 256, format: .csr, sparsity: 0.5),
                        Workload(m: 1024, k: 1024, n: 256, format: .csr, sparsity: 0.9))
        measure = Self.timed
    }

    /// A change counts only when it is at least 5% faster (a kernel measured against
    /// itself on a busy shared machine comes out within a few per cent).
    static let improvement = 0.95

    public func tune() throws(KernelError) -> KernelTuning {
        if let load = Machine.loadAverage, load > Double(Machine.topology.hardwareThreads) {
            log(String(format: "warning: the machine is busy (load average %.1f on %d hardware threads): measurements are noisy, the choices may not hold on a quiet machine; tune again later with `sift kernels tune`", load, Machine.topology.hardwareThreads))
        }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int64(max(budgetSeconds, 0) * 1000)))
        var record = KernelTuning(key: KernelTuning.Key(options))
        var stopped = false
        func timeLeft() -> Bool {
            if clock.now >= deadline { stopped = true }
            return !stopped
        }

        for group in groups where timeLeft() {
            guard let outcome = try tuneGroup(group, timeLeft: timeLeft) else { continue }
            record.kernels.removeAll { kernel in outcome.contains { $0.name == kernel.name } }
            record.kernels += outcome
        }
        if let workloads = csrWorkloads, timeLeft() {
            record.csr = try tuneCSRBlocks(dense: workloads.dense, sparse: workloads.sparse, timeLeft: timeLeft)
        }
        record.searchSeconds = seconds(clock.now - start)
        if stopped { log("tuning stopped at its budget of \(Int(budgetSeconds)) s; the rest keeps the defaults") }
        try record.validate()
        return record
    }

    /// Prepared weights, X and Y of one workload.
    struct Prepared {
        let weights: WeightMatrix
        let x: Matrix
        var y: Matrix
    }

    func prepare(_ workload: Workload, seed: UInt64, csrKBlock: Int? = nil) throws(KernelError) -> Prepared {
        let w: Matrix
        do {
            if case .dense = workload.format {
                w = RandomWeights.dense(rows: workload.m, columns: workload.k, seed: seed)
            } else {
                w = try RandomWeights.matrix(rows: workload.m, columns: workload.k,
                                             pattern: workload.format.pattern ?? .unstructured,
                                             sparsity: workload.sparsity, seed: seed)
            }
        } catch {
            throw KernelError(error)
        }
        let weights: WeightMatrix
        if let csrKBlock { weights = try CSRWeights(w, kBlock: csrKBlock) } else { weights = try prepareWeights(w, as: workload.format) }
        return Prepared(weights: weights, x: RandomWeights.dense(rows: workload.k, columns: workload.n, seed: seed &+ 1),
                        y: Matrix(zeros: workload.m, workload.n))
    }

    /// Tunes every variant of one group on its workloads; returns the tuned entries, the
    /// fastest ranked 1 (nil when no variant of the group runs here).
    func tuneGroup(_ group: Group, timeLeft: () -> Bool) throws(KernelError) -> [KernelTuning.Kernel]? {
        var prepared: [Prepared] = []
        for (index, workload) in group.workloads.enumerated() {
            prepared.append(try prepare(workload, seed: UInt64(9000 + index)))
        }
        guard let first = prepared.first else { return nil }
        // Variants: the group's kernels this ISA runs, scalar ones only on the scalar path
        // (they are the portable fallback, never the fast choice).
        let variants = KernelRegistry.all.filter { kernel in
            kernel.group == group.name && kernel.isa <= options.isa && (kernel.isa != .scalar || options.isa == .scalar)
                && prepared.allSatisfy { kernel.accepts(columns: $0.x.columns) && kernel.family == $0.weights.format.family }
        }
        guard !variants.isEmpty else { return nil }
        // The reference: each workload with the library's untuned choice.
        var reference: [KernelPlan] = []
        for item in prepared {
            guard let plan = KernelRegistry.plan(for: item.weights, columns: item.x.columns, options: options) else { return nil }
            reference.append(plan)
        }
        /// `b`'s time over `a`'s: per workload the ratio of their fastest samples among 9
        /// each, taken alternately, a few milliseconds each (other work on a shared machine
        /// only ever adds time, and alternating keeps both exposed to the same load), then
        /// the geometric mean over the workloads.
        func ratio(_ a: (Int) -> KernelPlan, _ b: (Int) -> KernelPlan) -> Double {
            var logSum = 0.0
            for index in prepared.indices {
                let plans = [a(index), b(index)]
                let repetitions = plans.map { plan in
                    let once = measure(prepared[index].weights, prepared[index].x, &prepared[index].y, plan, options, 1)
                    return max(1, Int(Self.sampleSeconds / max(once, 1e-7)))
                }
                var fastestA = Double.infinity, fastestB = Double.infinity
                for _ in 0..<9 {
                    fastestA = min(fastestA, measure(prepared[index].weights, prepared[index].x, &prepared[index].y, plans[0], options, repetitions[0]))
                    fastestB = min(fastestB, measure(prepared[index].weights, prepared[index].x, &prepared[index].y, plans[1], options, repetitions[1]))
                }
                logSum += Foundation.log(fastestB / fastestA)
            }
            return exp(logSum / Double(prepared.count))
        }

        // Every variant at its defaults against the reference; the blocking search then
        // runs on the fastest one only (halving and doubling each field it reads).
        var results: [(kernel: KernelInfo, blocking: KernelBlocking, ratio: Double)] = []
        for kernel in variants where timeLeft() {
            let start = resolvedDefaults(kernel, first)
            results.append((kernel, start, ratio({ reference[$0] }, { _ in KernelPlan(kernel: kernel, blocking: start) })))
        }
        // Out of time before every variant was measured: no choice from a partial field.
        guard results.count == variants.count else { return nil }
        guard var winner = results.min(by: { $0.ratio < $1.ratio }) else { return nil }
        if results.count > 1 {
            log(group.name + " variants at their defaults: " + results.map { String(format: "%@ %.2fx", $0.kernel.name, $0.ratio) }.joined(separator: ", "))
        }
        var best = winner.blocking
        for field in Self.fields(winner.kernel.tunable) {
            let values: [Int]
            if let fixed = field.candidates { values = fixed } else if let value = field.get(best) {
                values = [0.5, 2.0].map { field.round(Double(value) * $0) }
            } else { continue }
            for value in values where timeLeft() {
                let candidate = field.set(best, value)
                guard candidate != best else { continue }
                let kernel = winner.kernel, current = best
                if ratio({ _ in KernelPlan(kernel: kernel, blocking: current) },
                         { _ in KernelPlan(kernel: kernel, blocking: candidate) }) < Self.improvement {
                    best = candidate
                }
            }
        }
        if best != winner.blocking, timeLeft() {
            let kernel = winner.kernel, tuned = best
            winner = (kernel, tuned, ratio({ reference[$0] }, { _ in KernelPlan(kernel: kernel, blocking: tuned) }))
        }
        let improved = winner.ratio < Self.improvement
        log(String(format: "%@: %@ %@ (%.2fx the untuned time)%@", group.name, winner.kernel.name,
                   Self.describe(winner.blocking, winner.kernel.tunable), winner.ratio,
                   improved ? "" : "; no gain, the defaults stay"))
        guard improved else { return [] }
        return [KernelTuning.Kernel(name: winner.kernel.name, blocking: winner.blocking, rank: 1)]
    }

    /// CSR's K block (a layout parameter) per density class.
    func tuneCSRBlocks(dense: Workload, sparse: Workload, timeLeft: () -> Bool) throws(KernelError) -> KernelTuning.CSRBlocks? {
        var chosen: [Int] = []
        for (index, workload) in [dense, sparse].enumerated() {
            let base = try prepare(workload, seed: UInt64(9100 + index))
            guard let csr = base.weights as? CSRWeights, let plan = KernelRegistry.plan(for: csr, columns: workload.n, options: options),
                  plan.kernel.kBlock == .perMatrix else { return nil }
            let start = csr.kBlock
            var bestBlock = start
            var best = base
            for factor in [0.5, 2.0, 4.0] where timeLeft() {
                let block = max(16, Int(Double(start) * factor) / 16 * 16)
                var candidate = try prepare(workload, seed: UInt64(9100 + index), csrKBlock: block)
                let repetitions = [best, candidate].map { item in
                    var y = item.y
                    return max(1, Int(Self.sampleSeconds / max(measure(item.weights, item.x, &y, plan, options, 1), 1e-7)))
                }
                var fastestBest = Double.infinity, fastestCandidate = Double.infinity
                for _ in 0..<9 {
                    fastestBest = min(fastestBest, measure(best.weights, best.x, &best.y, plan, options, repetitions[0]))
                    fastestCandidate = min(fastestCandidate, measure(candidate.weights, candidate.x, &candidate.y, plan, options, repetitions[1]))
                }
                if fastestCandidate / fastestBest < Self.improvement {
                    best = candidate
                    bestBlock = block
                }
            }
            chosen.append(bestBlock)
        }
        let threshold = (1 - dense.sparsity + 1 - sparse.sparsity) / 2
        log("csr K block: \(chosen[0]) at density >= \(threshold), \(chosen[1]) below")
        return KernelTuning.CSRBlocks(threshold: threshold, dense: chosen[0], sparse: chosen[1])
    }

    func resolvedDefaults(_ kernel: KernelInfo, _ prepared: Prepared) -> KernelBlocking {
        let resolved = kernel.resolvedBlocking(for: prepared.weights, columns: prepared.x.columns)
        let tunable = kernel.tunable
        return KernelBlocking(kBlock: tunable.contains(.kBlock) ? resolved.kBlock : nil,
                              mBlock: tunable.contains(.mBlock) ? resolved.mBlock : nil,
                              nBlock: tunable.contains(.nBlock) ? resolved.nBlock : nil,
                              auxiliary: tunable.contains(.auxiliary) ? resolved.auxiliary : nil,
                              prefetch: tunable.contains(.prefetch) ? 0 : nil)
    }

    /// One blocking field the search walks.
    struct Field {
        let get: (KernelBlocking) -> Int?
        let set: (KernelBlocking, Int) -> KernelBlocking
        let round: (Double) -> Int
        /// Values to try instead of halving and doubling (for on/off-like fields).
        var candidates: [Int]? = nil
    }

    static func fields(_ tunable: KernelInfo.Tunable) -> [Field] {
        func step(_ s: Int) -> (Double) -> Int { { value in max(s, Int(value) / s * s) } }
        var fields: [Field] = []
        if tunable.contains(.kBlock) {
            fields.append(Field(get: { $0.kBlock }, set: { var b = $0; b.kBlock = $1; return b }, round: step(16)))
        }
        if tunable.contains(.mBlock) {
            fields.append(Field(get: { $0.mBlock }, set: { var b = $0; b.mBlock = $1; return b }, round: step(1)))
        }
        if tunable.contains(.nBlock) {
            fields.append(Field(get: { $0.nBlock }, set: { var b = $0; b.nBlock = $1; return b }, round: step(16)))
        }
        if tunable.contains(.auxiliary) {
            fields.append(Field(get: { $0.auxiliary }, set: { var b = $0; b.auxiliary = $1; return b }, round: step(1)))
        }
        if tunable.contains(.prefetch) {
            // off by default; distances of 4, 16 and 64 steps
            fields.append(Field(get: { $0.prefetch }, set: { var b = $0; b.prefetch = $1; return b }, round: step(1),
                                candidates: [4, 16, 64]))
        }
        return fields
    }

    static func describe(_ blocking: KernelBlocking, _ tunable: KernelInfo.Tunable) -> String {
        var parts: [String] = []
        if let v = blocking.kBlock, tunable.contains(.kBlock) { parts.append("kc=\(v)") }
        if let v = blocking.mBlock, tunable.contains(.mBlock) { parts.append("mc=\(v)") }
        if let v = blocking.nBlock, tunable.contains(.nBlock) { parts.append("nc=\(v)") }
        if let v = blocking.auxiliary, tunable.contains(.auxiliary) { parts.append("aux=\(v)") }
        if let v = blocking.prefetch, tunable.contains(.prefetch), v > 0 { parts.append("pf=\(v)") }
        return parts.isEmpty ? "(no blocking to tune)" : parts.joined(separator: " ")
    }

    /// Seconds one timed sample aims at.
    static let sampleSeconds = 0.003

    /// Seconds per call over `repetitions` calls, timed.
    static func timed(_ weights: WeightMatrix, _ x: Matrix, _ y: inout Matrix, _ plan: KernelPlan,
                      _ options: ExecutionOptions, _ repetitions: Int) -> Double {
        let elapsed = ContinuousClock().measure {
            for _ in 0..<repetitions { weights.multiplyUnchecked(x, into: &y, epilogue: .none, plan: plan, options: options) }
        }
        return seconds(elapsed) / Double(max(repetitions, 1))
    }
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

extension KernelInfo {
    /// The blocking this kernel runs with on `weights` at N = `columns` when given none:
    /// its defaults, derived from the hwloc cache sizes.
    public func resolvedBlocking(for weights: WeightMatrix, columns: Int, given: KernelBlocking = .defaults) -> KernelBlocking {
        var c = given.cValue
        var out = c
        _ = sk_kernel_resolve_params(Int32(index), weights.cHandle, Int64(columns), &c, &out)
        func value(_ v: Int64) -> Int? { v > 0 ? Int(v) : nil }
        return KernelBlocking(kBlock: value(out.kc), mBlock: value(out.mc), nBlock: value(out.nc), auxiliary: value(out.aux),
                              prefetch: value(out.pf))
    }
}

extension Machine {
    /// The 1-minute load average (Linux), or nil.
    public static var loadAverage: Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first else { return nil }
        return Double(first)
    }
}
