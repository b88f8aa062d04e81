import Foundation
import SparseKernels

/// Latency statistics of the timed iterations, in milliseconds.
public struct LatencyStatistics: Codable, Sendable, Equatable {
    public var mean: Double
    public var median: Double
    public var std: Double
    public var p90: Double
    public var p99: Double
    public var min: Double
    public var max: Double

    /// Percentiles by nearest rank on the sorted samples.
    public init(milliseconds samples: [Double]) {
        let sorted = samples.sorted()
        let count = Double(sorted.count)
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((p / 100 * count).rounded(.up))
            return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
        }
        mean = sorted.reduce(0, +) / Swift.max(1, count)
        let m = mean
        std = (sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Swift.max(1, count)).squareRoot()
        median = percentile(50)
        p90 = percentile(90)
        p99 = percentile(99)
        min = sorted.first ?? 0
        max = sorted.last ?? 0
    }
}

/// One row of the per-layer profile: a plan step.
public struct LayerProfile: Codable, Sendable {
    public var name: String
    public var kind: String
    public var kernel: String
    /// Median time per run (over the timed iterations; robust to a preempted iteration on a
    /// busy machine), and its share of the sum of the steps' medians.
    public var ms: Double
    public var percent: Double
    /// GFLOP/s on the FLOPs of nonzero weights, and that as a percentage of the FMA peak
    /// measured in the same run (nil for steps without arithmetic worth counting).
    public var gflops: Double?
    public var percentOfPeak: Double?
    /// The fastest candidate not chosen, with its time per run from the plan's timing.
    public var runnerUp: String?
    public var runnerUpMs: Double?
    /// How the kernel was chosen (timed, cached, only, forced).
    public var choice: String?
    public var fused: [String]

    enum CodingKeys: String, CodingKey {
        case name, kind, kernel, ms, percent, gflops, fused, choice
        case percentOfPeak = "percent_of_peak"
        case runnerUp = "runner_up"
        case runnerUpMs = "runner_up_ms"
    }
}

/// What `sift run` reports, in the manner of `deepsparse.benchmark`.
public struct BenchmarkResult: Codable, Sendable {
    public var model: String
    public var batchSize: Int
    public var threads: Int
    public var isa: String
    public var cpu: String
    public var itemsPerSecond: Double
    public var latencyMs: LatencyStatistics
    public var iterations: Int
    public var seconds: Double
    public var peakMemoryBytes: Int
    public var weightBytes: Int
    /// The fp32 FMA peak measured in this run (what "% of peak" refers to).
    public var peakGFLOPS: Double
    /// FLOPs of one batch on nonzero weights, and with every weight present.
    public var nonzeroFLOPs: Double
    public var denseFLOPs: Double
    public var compileSeconds: Double
    public var timedLayers: Int
    public var cachedLayers: Int
    /// The whole model's rate: nonzero FLOPs per median latency.
    public var modelGFLOPS: Double
    /// Every timed iteration's latency (ms), in order (not in the JSON).
    public var samplesMs: [Double] = []
    /// When asked for: our dense kernel alone on the largest weight layer's shape, timed
    /// in the same run between the model's iterations (framework overhead check).
    public var referenceKernel: ReferenceKernel?
    public var layers: [LayerProfile]
    /// Where the kernels' blockings came from (`Plan.kernelTuning`).
    public var kernelTuning: String?
    /// Seconds from the command's start to a plan ready to run (set by the CLI).
    public var startSeconds: Double?

    public struct ReferenceKernel: Codable, Sendable {
        public var layer: String
        /// `MxKxN`, N the layer's columns for the whole batch.
        public var shape: String
        public var gflops: Double
        /// The whole model's GFLOP/s over this kernel's.
        public var modelFraction: Double

        enum CodingKeys: String, CodingKey {
            case layer, shape, gflops
            case modelFraction = "model_fraction"
        }
    }

    enum CodingKeys: String, CodingKey {
        case model, threads, isa, cpu, iterations, seconds, layers
        case batchSize = "batch_size"
        case itemsPerSecond = "items_per_sec"
        case latencyMs = "latency_ms"
        case peakMemoryBytes = "peak_memory_bytes"
        case weightBytes = "weight_bytes"
        case peakGFLOPS = "peak_gflops"
        case nonzeroFLOPs = "nonzero_flops"
        case denseFLOPs = "dense_flops"
        case compileSeconds = "compile_seconds"
        case timedLayers = "timed_layers"
        case cachedLayers = "cached_layers"
        case modelGFLOPS = "model_gflops"
        case referenceKernel = "reference_kernel"
        case kernelTuning = "kernel_tuning"
        case startSeconds = "start_seconds"
    }
}

public struct BenchmarkOptions: Sendable {
    /// Seconds of timed iterations (at least `minimumIterations` run) and of warm-up.
    public var seconds: Double
    public var warmupSeconds: Double
    public var minimumIterations: Int
    /// Measure the FMA peak for "% of peak" (0.2 s); off gives no percentages.
    public var measurePeak: Bool
    /// Also time the dense kernel alone on the largest weight layer, one call after each
    /// model iteration (so both see the same machine load).
    public var referenceKernel: Bool

    public init(seconds: Double = 10, warmupSeconds: Double = 2, minimumIterations: Int = 3, measurePeak: Bool = true,
                referenceKernel: Bool = false) {
        self.seconds = seconds
        self.warmupSeconds = warmupSeconds
        self.minimumIterations = minimumIterations
        self.measurePeak = measurePeak
        self.referenceKernel = referenceKernel
    }
}

public enum Benchmark {
    /// Runs `plan` on `input` repeatedly: warm-up, then timed iterations, each one batch;
    /// every step is timed in every iteration for the per-layer profile.
    public static func run(_ plan: Plan, input: Tensor, options: BenchmarkOptions = BenchmarkOptions()) throws -> BenchmarkResult {
        guard options.seconds >= 0, options.seconds.isFinite, options.warmupSeconds >= 0, options.warmupSeconds.isFinite else {
            throw RuntimeError.invalidArgument("benchmark times must be finite and non-negative, got \(options.seconds) s and warm-up \(options.warmupSeconds) s")
        }
        guard options.minimumIterations >= 1 else {
            throw RuntimeError.invalidArgument("at least one iteration is needed, got \(options.minimumIterations)")
        }
        try plan.validate(input)
        let peak = options.measurePeak ? Machine.measuredPeakGFLOPS(isa: plan.execution.isa, threads: plan.execution.threads) : 0
        var output = [Float](repeating: 0, count: plan.outputShape.reduce(1, *))
        let stepCount = plan.steps.count
        var stepSamples: [Double] = []  // iteration after iteration, one value per step
        var iterationSeconds = [Double](repeating: 0, count: stepCount)
        var samples: [Double] = []
        var total = 0.0
        let reference = options.referenceKernel ? try ReferenceKernelCall(plan) : nil
        var referenceSamples: [Double] = []
        try input.values.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                let warmupStart = Clock.now()
                repeat {
                    try plan.execute(x.baseAddress!, y.baseAddress!, stepSeconds: nil)
                } while Clock.now() - warmupStart < options.warmupSeconds
                let start = Clock.now()
                while samples.count < options.minimumIterations || Clock.now() - start < options.seconds {
                    for index in 0..<stepCount { iterationSeconds[index] = 0 }
                    let began = Clock.now()
                    try iterationSeconds.withUnsafeMutableBufferPointer { times in
                        try plan.execute(x.baseAddress!, y.baseAddress!, stepSeconds: times.baseAddress!)
                    }
                    samples.append(Clock.now() - began)
                    if let reference { referenceSamples.append(try reference.time()) }
                    // Per-step samples of at most ~4 M values (32 MB) feed the medians.
                    if stepSamples.count < 1 << 22 { stepSamples += iterationSeconds }
                }
                total = Clock.now() - start
            }
        }
        let iterations = samples.count
        let perRun = (0..<stepCount).map { step in
            LatencyStatistics(milliseconds: stride(from: step, to: stepSamples.count, by: stepCount).map { stepSamples[$0] }).median
        }
        let runTotal = max(perRun.reduce(0, +), .leastNormalMagnitude)
        let layers = plan.layers.map { layer -> LayerProfile in
            let seconds = perRun[layer.index]
            var gflops: Double?
            var ofPeak: Double?
            if layer.nonzeroFLOPs > 0, seconds > 0 {
                gflops = layer.nonzeroFLOPs / seconds / 1e9
                if peak > 0 { ofPeak = gflops! / peak * 100 }
            }
            let runnerUp = layer.choice?.runnerUp
            return LayerProfile(name: layer.name, kind: layer.kind, kernel: layer.kernel, ms: seconds * 1e3,
                                percent: seconds / runTotal * 100, gflops: gflops, percentOfPeak: ofPeak,
                                runnerUp: runnerUp.map { $0.candidate.label },
                                runnerUpMs: runnerUp.map { $0.seconds * Double(layer.calls) * 1e3 },
                                choice: layer.choice?.source.rawValue, fused: layer.fused)
        }
        let latency = LatencyStatistics(milliseconds: samples.map { $0 * 1e3 })
        let nonzeroFLOPs = plan.layers.reduce(0) { $0 + $1.nonzeroFLOPs }
        let modelGFLOPS = nonzeroFLOPs / max(latency.median, .leastNormalMagnitude) / 1e6
        var referenceResult: BenchmarkResult.ReferenceKernel?
        if let reference {
            let seconds = LatencyStatistics(milliseconds: referenceSamples).median
            let gflops = reference.flops / max(seconds, .leastNormalMagnitude) / 1e9
            referenceResult = .init(layer: reference.layer, shape: reference.shape, gflops: gflops, modelFraction: modelGFLOPS / gflops)
        }
        var result = BenchmarkResult(
            model: plan.network.name, batchSize: plan.batchSize, threads: plan.execution.threads,
            isa: plan.execution.isa.rawValue, cpu: MachineSignature.cpuModel,
            itemsPerSecond: Double(iterations * plan.batchSize) / max(total, .leastNormalMagnitude),
            latencyMs: latency, iterations: iterations, seconds: total,
            peakMemoryBytes: plan.peakMemoryBytes, weightBytes: plan.weightBytes, peakGFLOPS: peak,
            nonzeroFLOPs: nonzeroFLOPs, denseFLOPs: plan.layers.reduce(0) { $0 + $1.denseFLOPs },
            compileSeconds: plan.compileSeconds, timedLayers: plan.timedLayers, cachedLayers: plan.cachedLayers,
            modelGFLOPS: modelGFLOPS, referenceKernel: referenceResult, layers: layers)
        result.samplesMs = samples.map { $0 * 1e3 }
        result.kernelTuning = plan.kernelTuning
        return result
    }
}
