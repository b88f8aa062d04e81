import Foundation
import SparseKernels

extension Benchmark {
    /// Times `plan` in short slices alternating with `baseline` until `options.seconds` are
    /// spent (at least `minimumRounds` rounds), after a warm-up of both: on a shared
    /// machine load changes within seconds, and neighbouring slices see the same load. A
    /// slice is at least `sliceIterations` iterations and `sliceSeconds` long, so each plan
    /// runs with its own data in cache, as it would alone. Returns `plan`'s result (the
    /// profile of one slice; latency and throughput over all) and the baseline's median
    /// latency over its slices.
    public static func paired(_ plan: Plan, input: Tensor, against baseline: Plan, input baselineInput: Tensor,
                              options: BenchmarkOptions, minimumRounds: Int = 5, sliceIterations: Int = 3,
                              sliceSeconds: Double = 0.2) throws -> (result: BenchmarkResult, baselineMedianMs: Double) {
        let slice = BenchmarkOptions(seconds: sliceSeconds, warmupSeconds: 0, minimumIterations: sliceIterations, measurePeak: false)
        let warm = BenchmarkOptions(seconds: 0, warmupSeconds: options.warmupSeconds, minimumIterations: 1, measurePeak: false)
        _ = try run(baseline, input: baselineInput, options: warm)
        _ = try run(plan, input: input, options: warm)
        var baselineSamples: [Double] = []
        var results: [BenchmarkResult] = []
        let start = Clock.now()
        while results.count < minimumRounds || Clock.now() - start < options.seconds {
            baselineSamples += try run(baseline, input: baselineInput, options: slice).samplesMs
            results.append(try run(plan, input: input, options: slice))
        }
        var merged = results[results.count / 2]
        let samples = results.flatMap(\.samplesMs)
        let seconds = results.reduce(0) { $0 + $1.seconds }
        merged.latencyMs = LatencyStatistics(milliseconds: samples)
        merged.iterations = samples.count
        merged.seconds = seconds
        merged.itemsPerSecond = Double(samples.count * plan.batchSize) / max(seconds, .leastNormalMagnitude)
        merged.samplesMs = samples
        merged.modelGFLOPS = merged.nonzeroFLOPs / max(merged.latencyMs.median, .leastNormalMagnitude) / 1e6
        return (merged, LatencyStatistics(milliseconds: baselineSamples).median)
    }
}

/// Our dense kernel alone on the shape of a plan's largest weight layer (most weights;
/// the most FLOPs among equals): `M x K x N` with N the layer's columns for the whole
/// batch, the plan's threads, constant data.
final class ReferenceKernelCall {
    let layer: String
    let shape: String
    let flops: Double
    private let weights: WeightMatrix
    private let n: Int
    private let x: UnsafeMutablePointer<Float>
    private let y: UnsafeMutablePointer<Float>
    private let options: ExecutionOptions

    init(_ plan: Plan) throws {
        let steps = plan.steps.compactMap { $0 as? GemmStep }
        guard let largest = steps.max(by: { a, b in
            let (wa, wb) = (a.rowsPerGroup * a.reduction, b.rowsPerGroup * b.reduction)
            return wa != wb ? wa < wb : a.work.denseFLOPs < b.work.denseFLOPs
        }) else {
            throw RuntimeError.invalidArgument("\(plan.network.name) has no weight layer to compare with")
        }
        let (m, k) = (largest.rowsPerGroup, largest.reduction)
        n = largest.columns
        layer = largest.node
        shape = "\(m)x\(k)x\(n)"
        flops = 2 * Double(m) * Double(k) * Double(n)
        do {
            weights = try DenseWeights(try Matrix(rows: m, columns: k, values: [Float](repeating: 0.01, count: m * k)))
        } catch {
            throw RuntimeError(error)
        }
        x = .allocate(capacity: k * n)
        x.initialize(repeating: 0.5, count: k * n)
        y = .allocate(capacity: m * n)
        y.initialize(repeating: 0, count: m * n)
        options = plan.execution
    }

    deinit {
        x.deallocate()
        y.deallocate()
    }

    /// Seconds of one call (the library's default kernel for the shape).
    func time() throws -> Double {
        let start = Clock.now()
        do {
            try weights.multiply(x: UnsafeBufferPointer(start: x, count: weights.columns * n), ldx: n, columns: n,
                                 into: UnsafeMutableBufferPointer(start: y, count: weights.rows * n), ldy: n,
                                 checkFinite: false, options: options)
        } catch {
            throw RuntimeError(error)
        }
        return Clock.now() - start
    }
}
