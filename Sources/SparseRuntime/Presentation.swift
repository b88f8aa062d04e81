import Foundation

/// Human-readable forms of plans and benchmark results (the CLI prints these).
func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }

private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let count = text.count
    guard count < width else { return text }
    let fill = String(repeating: " ", count: width - count)
    return right ? fill + text : text + fill
}

extension Plan {
    /// The compiled plan: every step with its kernel, shape and FLOPs, then memory and
    /// how the kernels were chosen. (`sift run --explain`.)
    public func explain() -> String {
        var lines: [String] = []
        lines.append("plan: \(network.name), batch \(batchSize), \(execution.threads) thread\(execution.threads == 1 ? "" : "s"), \(execution.isa), \(MachineSignature.cpuModel)")
        lines.append(pad("#", 4, right: true) + "  " + pad("step", 30) + pad("kind", 18) + pad("kernel", 26)
                     + pad("M x K x N (calls)", 26) + pad("GFLOP nz", 10, right: true) + "  choice / fused")
        for layer in layers {
            var shape = ""
            if let s = layer.gemmShape { shape = "\(s.m) x \(s.k) x \(s.n) (\(layer.calls))" }
            let flops = layer.nonzeroFLOPs > 0 ? String(format: "%.3f", layer.nonzeroFLOPs / 1e9) : ""
            var notes: [String] = []
            if let choice = layer.choice {
                var text = choice.source.rawValue
                text += " " + choice.chosen.label
                if let up = choice.runnerUp, let mine = choice.seconds[choice.chosen] {
                    text += String(format: " %.3f ms, runner-up %@ %.3f ms per call", mine * 1e3, up.candidate.label, up.seconds * 1e3)
                }
                notes.append(text)
            }
            if !layer.fused.isEmpty { notes.append("+ " + layer.fused.joined(separator: ", ")) }
            lines.append(pad("\(layer.index)", 4, right: true) + "  " + pad(layer.name, 30) + pad(layer.kind, 18)
                         + pad(layer.kernel, 26) + pad(shape, 26) + pad(flops, 10, right: true) + "  " + notes.joined(separator: "; "))
        }
        let weightLayers = layers.filter { $0.choice != nil }.count
        lines.append("")
        lines.append("activation memory (arena, peak): \(mebibytes(peakMemoryBytes)) in \(buffers.count) buffers; prepared weights: \(mebibytes(weightBytes))")
        lines.append("kernel choice: \(weightLayers) weight-layer calls, \(timedLayers) timed now, \(cachedLayers) from the plan cache; plan built in \(String(format: "%.2f", compileSeconds)) s")
        lines.append("kernel blockings: \(kernelTuning)")
        lines.append("build phases: " + compilePhases.map { String(format: "%@ %.3f s", $0.name, $0.seconds) }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}

extension BenchmarkResult {
    /// The summary and the per-layer profile, as `deepsparse.benchmark` users read them.
    public func table(limit: Int? = nil) -> String {
        var lines: [String] = []
        lines.append("sift run: \(model), batch \(batchSize), \(threads) thread\(threads == 1 ? "" : "s"), \(isa), \(cpu)")
        lines.append(String(format: "Throughput (items/sec): %.4f", itemsPerSecond))
        lines.append(String(format: "Latency Mean (ms/batch): %.4f", latencyMs.mean))
        lines.append(String(format: "Latency Median (ms/batch): %.4f", latencyMs.median))
        lines.append(String(format: "Latency Std (ms/batch): %.4f", latencyMs.std))
        lines.append(String(format: "Latency 90th Percentile (ms/batch): %.4f", latencyMs.p90))
        lines.append(String(format: "Latency 99th Percentile (ms/batch): %.4f", latencyMs.p99))
        lines.append("Iterations: \(iterations)")
        lines.append("Peak memory: activations \(mebibytes(peakMemoryBytes)), prepared weights \(mebibytes(weightBytes))")
        lines.append(String(format: "Work per batch: %.3f GFLOP on nonzero weights (%.3f GFLOP dense); measured FMA peak %.1f GFLOP/s",
                            nonzeroFLOPs / 1e9, denseFLOPs / 1e9, peakGFLOPS))
        lines.append("Plan: built in \(String(format: "%.2f", compileSeconds)) s, \(timedLayers) layer shapes timed, \(cachedLayers) from the plan cache"
                     + (kernelTuning.map { "; kernels: \($0)" } ?? ""))
        if let startSeconds {
            lines.append(String(format: "Start: ready to run %.2f s after the command started (network and weights %.2f s, plan %.2f s)",
                                startSeconds, max(0, startSeconds - compileSeconds), compileSeconds))
        }
        if let reference = referenceKernel {
            lines.append(String(format: "Whole model: %.1f GFLOP/s = %.1f%% of our dense kernel alone on its largest layer (%@, %@: %.1f GFLOP/s, same run)",
                                modelGFLOPS, reference.modelFraction * 100, reference.layer, reference.shape, reference.gflops))
        }
        lines.append("")
        lines.append(pad("layer", 32) + pad("kind", 18) + pad("kernel", 24) + pad("ms", 10, right: true) + pad("%", 7, right: true)
                     + pad("GFLOP/s", 9, right: true) + pad("%peak", 7, right: true) + "  runner-up (ms)")
        let rows = layers.sorted { $0.ms > $1.ms }
        for layer in rows.prefix(limit ?? rows.count) {
            let gflops = layer.gflops.map { String(format: "%.1f", $0) } ?? ""
            let ofPeak = layer.percentOfPeak.map { String(format: "%.1f", $0) } ?? ""
            var runnerUp = ""
            if let name = layer.runnerUp, let ms = layer.runnerUpMs { runnerUp = String(format: "%@ %.3f", name, ms) }
            lines.append(pad(layer.name, 32) + pad(layer.kind, 18) + pad(layer.kernel, 24) + pad(String(format: "%.3f", layer.ms), 10, right: true)
                         + pad(String(format: "%.1f", layer.percent), 7, right: true) + pad(gflops, 9, right: true)
                         + pad(ofPeak, 7, right: true) + "  " + runnerUp)
        }
        if let limit, rows.count > limit { lines.append("(\(rows.count - limit) more steps; --json lists all)") }
        return lines.joined(separator: "\n")
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            throw RuntimeError.io("cannot encode the result as JSON: \(error.localizedDescription)")
        }
    }
}
