import Foundation

/// Times every format against this project's own dense kernel on the same shape, the
/// same ISA and the same threads, in the same run: the only comparison the toolkit
/// quotes. Effective GFLOP/s count only the FLOPs on stored nonzeros (2 per
/// multiply-add), so a sparse kernel that wastes work on zeros cannot look fast.
public struct KernelBenchmark {
    /// One GEMM shape: W is M×K, X is K×N.
    public struct Shape: Sendable, Equatable {
        public let name: String
        public let m: Int, k: Int, n: Int
        public init(name: String, m: Int, k: Int, n: Int) {
            self.name = name
            self.m = m
            self.k = k
            self.n = n
        }

        /// Largest operand a benchmark shape may ask for, in elements (1 GiB of fp32).
        public static let maxOperandElements = 1 << 28

        /// Parses "MxKxN" (e.g. 1024x1024x256) and refuses shapes whose operands would
        /// not fit in memory (or whose sizes would overflow) before anything is allocated.
        public init(parsing text: String) throws(KernelError) {
            let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 3, let m = parts[0], let k = parts[1], let n = parts[2], m > 0, k > 0, n > 0 else {
                throw .invalidArgument("shape '\(text)' must be MxKxN with positive integers, e.g. 1024x1024x256")
            }
            for (name, a, b) in [("W (MxK)", m, k), ("X (KxN)", k, n), ("Y (MxN)", m, n)] {
                let (elements, overflow) = a.multipliedReportingOverflow(by: b)
                guard !overflow, elements <= Self.maxOperandElements else {
                    throw .invalidArgument("shape '\(text)': \(name) would exceed \(Self.maxOperandElements) elements (1 GiB)")
                }
            }
            self.init(name: text, m: m, k: k, n: n)
        }
    }

    /// One measured kernel on one shape.
    public struct Result: Sendable, Codable {
        public let shape: String
        public let format: String
        public let pattern: String
        public let sparsity: Double
        public let M: Int, K: Int, N: Int
        public let nonzeros: Int
        /// Median seconds per multiply.
        public let seconds: Double
        /// Nonzero FLOPs per second (2·nnz·N / seconds), in GFLOP/s.
        public let gflops: Double
        public let percentOfPeak: Double
        /// Dense time / this time, same shape, ISA and threads, same run.
        public let speedupVsDense: Double
        /// Weight storage in bytes, and relative to dense fp32.
        public let weightBytes: Int
        /// The result matched the dense kernel's product on the same masked weights.
        public let verified: Bool
        /// The registry kernel that ran (`sift kernels list`).
        public let kernel: String

        enum CodingKeys: String, CodingKey {
            case shape, format, pattern, sparsity, M, K, N, nonzeros, seconds, gflops
            case percentOfPeak = "percent_of_peak", speedupVsDense = "speedup_vs_dense"
            case weightBytes = "weight_bytes", verified, kernel
        }
    }

    /// A format to measure and the sparsities to measure it at.
    public enum Format: String, CaseIterable, Sendable {
        case dense, csr, nm, bsr
    }

    /// The shapes to measure. The CLI's defaults come from the GEMM lowering of zoo
    /// models (`KernelWorkloads.defaultShapes` in SparseIFT).
    public var shapes: [Shape] = []
    public var sparsities: [Double] = [0.5, 0.75, 0.9, 0.95]
    public var formats: [Format] = Format.allCases
    public var nmPatterns: [SparsityPattern] = [.nOfM(n: 2, m: 4)]
    public var blockPatterns: [SparsityPattern] = [.block(rows: 16, columns: 16), .block(rows: 4, columns: 4)]
    public var options: ExecutionOptions
    /// Seconds each timed sample aims for; the median of `samples` samples is reported.
    public var sampleSeconds = 0.02
    public var samples = 7
    /// Evict the caches before every timed call, so the weights come from DRAM as they
    /// do in a network whose weights exceed the last-level cache. Without it, a sparse
    /// matrix small enough to stay in L3 between repetitions races a dense one that
    /// cannot, which flatters memory-bound (batch-1) ratios.
    public var coldCaches = false
    /// Samples taken in cold mode (one call each).
    public var coldSamples = 15
    /// Time every case interleaved with the dense kernel, sample by sample, and take its
    /// speedup from those pairs (`--paired`): on a shared machine the load drifts between
    /// one case and the next, and a ratio of times taken minutes apart drifts with it.
    public var paired = false
    /// Vendor BLAS libraries whose sgemm each shape is also timed with (`--compare`).
    public var compareWith: [VendorBLAS] = []

    public init(options: ExecutionOptions) { self.options = options }

    /// Longest a single multiply may be expected to take (see `validate()`).
    public static let maxSecondsPerMultiply = 60.0
    /// Longest the whole run may be expected to take.
    public static let maxSecondsPerRun = 3600.0

    /// The dense rate, per thread, the time estimate assumes: below what our dense kernel
    /// reaches on any x86-64 core of the last decade for the ISA (about a fifth of a Zen 4
    /// core's measured peak), so the estimate errs long. A fixed rate rather than the
    /// peak probe, which a busy machine can push down tenfold.
    static func assumedGFLOPSPerThread(_ isa: ISA) -> Double {
        switch isa {
        case .scalar: 2
        case .avx2: 16
        case .avx512: 24
        }
    }

    /// Calls of one case: the warm-up, the verification, and at most `samples` (warm) or
    /// `coldSamples` timed calls once a call outlasts a sample.
    var callsPerCase: Int { 2 + (coldCaches ? coldSamples : samples) }

    /// Validates the configuration before anything runs, so that no partial results are
    /// lost to a refusal half-way:
    /// - sparsities in [0, 1), patterns a kernel can run;
    /// - format/shape combinations that cannot run (CSR's 16-bit column indices bound K);
    /// - shapes that would not fit in half of this machine's memory;
    /// - shapes that would not finish in reasonable time, estimated at a deliberately low
    ///   dense rate: over `maxSecondsPerMultiply` for one multiply or `maxSecondsPerRun`
    ///   for the whole run.
    public func validate() throws(KernelError) {
        for s in sparsities where !(s.isFinite && s >= 0 && s < 1) {
            throw .invalidArgument("sparsity \(s) must be in [0, 1)")
        }
        guard !shapes.isEmpty else { throw .invalidArgument("no shapes to benchmark") }
        for pattern in nmPatterns + blockPatterns { try WeightFormat(for: pattern).validateParameters() }
        if formats.contains(.csr) {
            for shape in shapes where shape.k > CSRWeights.maxColumns {
                throw .invalidArgument("shape \(shape.name): CSR stores 16-bit column indices and K=\(shape.k) exceeds \(CSRWeights.maxColumns); drop csr from the formats or use a smaller K")
            }
        }
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        for shape in shapes where Self.memoryEstimate(shape) > memory / 2 {
            throw .invalidArgument("shape \(shape.name) needs about \(Self.gibibytes(Self.memoryEstimate(shape))) of memory, more than half of this machine's \(Self.gibibytes(memory))")
        }
        let rate = Self.assumedGFLOPSPerThread(options.isa) * 1e9 * Double(options.threads)
        var total = 0.0
        for shape in shapes {
            let perCall = 2 * Double(shape.m) * Double(shape.k) * Double(shape.n) / rate
            guard perCall <= Self.maxSecondsPerMultiply else {
                throw .invalidArgument(String(format: "shape %@ would take up to %.0f s per multiply on %@ with %d thread(s) (estimated at %.0f GFLOP/s per thread); the limit is %.0f s", shape.name, perCall, options.isa.rawValue, options.threads, Self.assumedGFLOPSPerThread(options.isa), Self.maxSecondsPerMultiply))
            }
            let perCase = max(Double(samples) * sampleSeconds, Double(callsPerCase) * perCall)
            total += Double(1 + cases(for: shape).count) * perCase
        }
        guard total <= Self.maxSecondsPerRun else {
            throw .invalidArgument(String(format: "these shapes would take up to %.0f minutes (estimated at %.0f GFLOP/s per thread); the limit is %.0f: use fewer or smaller shapes", total / 60, Self.assumedGFLOPSPerThread(options.isa), Self.maxSecondsPerRun / 60))
        }
    }

    /// Bytes one shape holds at once: W as a matrix, packed and masked (three M×K copies),
    /// a prepared sparse copy (at most 2 M×K: CSR's values + indices + counts), X, Y twice
    /// (the result and the verification product).
    static func memoryEstimate(_ shape: Shape) -> Double {
        let m = Double(shape.m), k = Double(shape.k), n = Double(shape.n)
        return 4 * (5 * m * k + k * n + 2 * m * n)
    }

    static func gibibytes(_ bytes: Double) -> String { String(format: "%.1f GiB", bytes / Double(1 << 30)) }

    /// The weight patterns measured on `shape`, each with its sparsity. N:M and blocks run
    /// on any shape (a short last group, ragged edge blocks).
    func cases(for shape: Shape) -> [(format: Format, pattern: SparsityPattern, sparsity: Double)] {
        var list: [(Format, SparsityPattern, Double)] = []
        for format in formats {
            switch format {
            case .dense:
                continue  // always measured first, as the baseline
            case .csr:
                for s in sparsities { list.append((.csr, .unstructured, s)) }
            case .nm:
                for pattern in nmPatterns {
                    guard let sparsity = pattern.fixedSparsity else { continue }
                    list.append((.nm, pattern, sparsity))
                }
            case .bsr:
                for pattern in blockPatterns {
                    for s in sparsities { list.append((.bsr, pattern, s)) }
                }
            }
        }
        return list
    }

    /// Runs everything; `progress` receives each result as it is measured.
    public func run(peakGFLOPS: Double, progress: (Result) -> Void = { _ in }) throws(KernelError) -> [Result] {
        try validate()
        var results: [Result] = []
        let evictor = coldCaches ? CacheEvictor() : nil
        for (shapeIndex, shape) in shapes.enumerated() {
            let seed = UInt64(shapeIndex + 1)
            let x = RandomWeights.dense(rows: shape.k, columns: shape.n, seed: seed &* 7919)
            let denseW = RandomWeights.dense(rows: shape.m, columns: shape.k, seed: seed)
            let dense = try DenseWeights(denseW)
            var y = Matrix(zeros: shape.m, shape.n)
            let denseSeconds = time(dense, x, &y, evictor: evictor)
            let denseResult = Result(
                shape: shape.name, format: "dense", pattern: "dense", sparsity: 0, M: shape.m, K: shape.k, N: shape.n,
                nonzeros: shape.m * shape.k, seconds: denseSeconds,
                gflops: 2 * Double(shape.m * shape.k * shape.n) / denseSeconds / 1e9,
                percentOfPeak: 100 * 2 * Double(shape.m * shape.k * shape.n) / denseSeconds / 1e9 / peakGFLOPS,
                speedupVsDense: 1, weightBytes: dense.storageBytes, verified: true,
                kernel: KernelRegistry.plan(for: dense, columns: shape.n, options: options)?.kernel.name ?? "")
            results.append(denseResult)
            progress(denseResult)
            for blas in compareWith {
                let result = try compare(blas, dense: dense, w: denseW, x: x, shape: shape, peakGFLOPS: peakGFLOPS,
                                         evictor: evictor)
                results.append(result)
                progress(result)
            }

            for (caseIndex, item) in cases(for: shape).enumerated() {
                let w: Matrix
                do {
                    w = try RandomWeights.matrix(rows: shape.m, columns: shape.k, pattern: item.pattern,
                                                 sparsity: item.sparsity, seed: seed &* 104_729 &+ UInt64(caseIndex))
                } catch {
                    throw KernelError(error)
                }
                let prepared = try prepareWeights(w, as: WeightFormat(for: item.pattern), options: options)
                var seconds: Double
                var caseDenseSeconds = denseSeconds
                if paired, let densePlan = KernelRegistry.plan(for: dense, columns: shape.n, options: options),
                   let plan = KernelRegistry.plan(for: prepared, columns: shape.n, options: options) {
                    // Dense and this kernel sample by sample (both on our OpenMP runtime: no
                    // pause needed), so the ratio sees one machine load.
                    var denseY = y
                    (caseDenseSeconds, seconds) = timeInterleaved(
                        { dense.multiplyUnchecked(x, into: &denseY, epilogue: .none, plan: densePlan, options: self.options) },
                        { prepared.multiplyUnchecked(x, into: &y, epilogue: .none, plan: plan, options: self.options) },
                        evictor: evictor, settleBetween: false)
                } else {
                    seconds = time(prepared, x, &y, evictor: evictor)
                }
                let verified = try agrees(prepared, y, with: w, x)
                let nonzeros = w.values.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
                let gflops = 2 * Double(nonzeros) * Double(shape.n) / seconds / 1e9
                let result = Result(
                    shape: shape.name, format: item.format.rawValue, pattern: item.pattern.description,
                    sparsity: item.sparsity, M: shape.m, K: shape.k, N: shape.n, nonzeros: nonzeros,
                    seconds: seconds, gflops: gflops, percentOfPeak: 100 * gflops / peakGFLOPS,
                    speedupVsDense: caseDenseSeconds / seconds, weightBytes: prepared.storageBytes, verified: verified,
                    kernel: KernelRegistry.plan(for: prepared, columns: shape.n, options: options)?.kernel.name ?? "")
                results.append(result)
                progress(result)
            }
        }
        return results
    }

    /// A vendor sgemm on the same shape, threads and process, timed interleaved with our
    /// dense kernel (sample by sample, so that both see the same load on a shared machine);
    /// its `speedupVsDense` is our time over its time: below 1 when the vendor is faster.
    func compare(_ blas: VendorBLAS, dense: DenseWeights, w: Matrix, x: Matrix, shape: Shape, peakGFLOPS: Double,
                 evictor: CacheEvictor?) throws(KernelError) -> Result {
        guard let plan = KernelRegistry.plan(for: dense, columns: x.columns, options: options) else {
            throw .invalidArgument("no dense kernel for N=\(x.columns)")
        }
        var ours = Matrix(zeros: w.rows, x.columns), theirs = ours
        try blas.multiply(w, x, into: &theirs) // warm it up and check the shapes
        let (oursSeconds, theirSeconds) = timeInterleaved(
            { dense.multiplyUnchecked(x, into: &ours, epilogue: .none, plan: plan, options: self.options) },
            { blas.multiplyUnchecked(w, x, into: &theirs) }, evictor: evictor)
        let verified = try agrees(dense, theirs, with: w, x)
        let gflops = 2 * Double(shape.m) * Double(shape.k) * Double(shape.n) / theirSeconds / 1e9
        return Result(
            shape: shape.name, format: "blas", pattern: blas.vendor.rawValue, sparsity: 0, M: shape.m, K: shape.k,
            N: shape.n, nonzeros: shape.m * shape.k, seconds: theirSeconds, gflops: gflops,
            percentOfPeak: 100 * gflops / peakGFLOPS, speedupVsDense: oursSeconds / theirSeconds, weightBytes: 4 * w.values.count,
            verified: verified, kernel: "\(blas.vendor.rawValue) sgemm (\(blas.path))")
    }

    /// Median seconds per call of `a` and of `b`, their samples alternating. Each switch
    /// from one library to the other first waits for the other's OpenMP workers to stop
    /// spinning (they keep both cores busy for KMP_BLOCKTIME, 200 ms by default, after each
    /// call: measured, our kernel ran at 0.6x its own speed right after an MKL call), then
    /// warms up with one untimed call.
    func timeInterleaved(_ a: () -> Void, _ b: () -> Void, evictor: CacheEvictor?, settleBetween: Bool = true) -> (Double, Double) {
        let clock = ContinuousClock()
        let environment = ProcessInfo.processInfo.environment
        let blocktime = environment["KMP_BLOCKTIME"].flatMap(Double.init).map { min(max($0, 0), 1000) } ?? 200
        let pause = Duration.milliseconds(Int64(blocktime) + 100)
        func settle(_ call: () -> Void) {
            if settleBetween {
                Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
            }
            call()
        }
        var first: [Double] = [], second: [Double] = []
        settle(a)
        let repetitionsA = max(1, Int(sampleSeconds * 5 / max(seconds(clock.measure { a() }), 1e-7)))
        settle(b)
        let repetitionsB = max(1, Int(sampleSeconds * 5 / max(seconds(clock.measure { b() }), 1e-7)))
        for _ in 0..<(evictor == nil ? samples : coldSamples) {
            settle(a)
            if let evictor {
                evictor.evict()
                first.append(seconds(clock.measure { a() }))
            } else {
                first.append(seconds(clock.measure { for _ in 0..<repetitionsA { a() } }) / Double(repetitionsA))
            }
            settle(b)
            if let evictor {
                evictor.evict()
                second.append(seconds(clock.measure { b() }))
            } else {
                second.append(seconds(clock.measure { for _ in 0..<repetitionsB { b() } }) / Double(repetitionsB))
            }
        }
        return (first.sorted()[first.count / 2], second.sorted()[second.count / 2])
    }

    /// Median seconds per multiply: warm, over `samples` samples of about
    /// `sampleSeconds` each; cold, over `coldSamples` single calls each after an eviction.
    func time(_ w: WeightMatrix, _ x: Matrix, _ y: inout Matrix, evictor: CacheEvictor?) -> Double {
        // The dispatch's plan (tuned with a tuning) is made once, outside the timing.
        guard let plan = KernelRegistry.plan(for: w, columns: x.columns, options: options) else { return .nan }
        w.multiplyUnchecked(x, into: &y, epilogue: .none, plan: plan, options: options)  // warm the thread pool
        let clock = ContinuousClock()
        var perCall: [Double] = []
        if let evictor {
            for _ in 0..<coldSamples {
                evictor.evict()
                perCall.append(seconds(clock.measure { w.multiplyUnchecked(x, into: &y, epilogue: .none, plan: plan, options: options) }))
            }
        } else {
            let once = seconds(clock.measure { w.multiplyUnchecked(x, into: &y, epilogue: .none, plan: plan, options: options) })
            let repetitions = max(1, Int(sampleSeconds / max(once, 1e-7)))
            for _ in 0..<samples {
                let elapsed = clock.measure {
                    for _ in 0..<repetitions { w.multiplyUnchecked(x, into: &y, epilogue: .none, plan: plan, options: options) }
                }
                perCall.append(seconds(elapsed) / Double(repetitions))
            }
        }
        perCall.sort()
        return perCall[perCall.count / 2]
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Checks the timed kernel's last output against the dense kernel on the same
    /// masked weights, with the reduction-length tolerance the tests use.
    func agrees(_ prepared: WeightMatrix, _ y: Matrix, with w: Matrix, _ x: Matrix) throws(KernelError) -> Bool {
        let expected = try DenseWeights(w).multiply(x, options: options)
        let tolerance = Float(8 * w.columns) * Float.ulpOfOne
        for i in y.values.indices {
            let scale = max(1, abs(expected.values[i]))
            if abs(y.values[i] - expected.values[i]) > tolerance * scale * 4 { return false }
        }
        return true
    }
}

/// Pushes everything else out of the caches by reading a buffer twice the size of the
/// last-level cache, one load per cache line.
final class CacheEvictor {
    private var buffer: [Float]
    private var sink: Float = 0

    init() {
        let l3 = Machine.topology.l3Bytes
        let bytes = max(2 * (l3 > 0 ? l3 : 32 << 20), 64 << 20)
        buffer = [Float](repeating: 1, count: bytes / MemoryLayout<Float>.size)
    }

    func evict() {
        var total: Float = 0
        buffer.withUnsafeMutableBufferPointer { values in
            // Writing as well as reading leaves the lines dirty, so the kernel's data
            // cannot survive in any level as a clean copy.
            for index in stride(from: 0, to: values.count, by: 16) {
                total += values[index]
                values[index] = total
            }
        }
        sink += total
    }
}
