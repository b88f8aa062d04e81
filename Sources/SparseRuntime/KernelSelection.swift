import Foundation
import SparseKernels

/// The kernel a weight layer runs on, and the evidence for it.
public struct KernelChoice: Sendable {
    public enum Source: String, Sendable {
        /// Timed when this plan was built.
        case timed
        /// Taken from the plan cache (or from an identical layer timed earlier in this build).
        case cached
        /// The only candidate the layer's weights allow (dense weights): nothing to time.
        case only
        /// Chosen by the caller (`--kernel`), not timed.
        case forced
    }

    public let format: WeightFormat
    public let source: Source
    /// Seconds per kernel call (N = the call's columns) of every timed candidate.
    public let seconds: [WeightFormat: Double]

    /// The fastest candidate that was not chosen, with its time per call.
    public var runnerUp: (format: WeightFormat, seconds: Double)? {
        seconds.filter { $0.key != format }.min { $0.value < $1.value }.map { ($0.key, $0.value) }
    }
}

/// Chooses each weight layer's format by timing the candidates its weights allow on the
/// layer's real shape, through the plan cache.
final class KernelSelector {
    let machine: MachineSignature
    let forced: KernelFamily?
    let cache: PlanCache?
    let retune: Bool
    private(set) var timedLayers = 0
    private(set) var cachedLayers = 0
    private var memo: [String: KernelChoice] = [:]

    /// Timing stops after `secondsPerCandidate` (at least 3 calls), and X plus Y of a
    /// timed call are capped at `timedBytes`: beyond it a layer's columns are timed on a
    /// prefix of N, the time scaled to N (the per-column cost no longer changes).
    let secondsPerCandidate: Double
    static let timedBytes = 64 << 20

    init(machine: MachineSignature, forced: KernelFamily?, cache: PlanCache?, retune: Bool, secondsPerCandidate: Double) {
        self.machine = machine
        self.forced = forced
        self.cache = cache
        self.retune = retune
        self.secondsPerCandidate = secondsPerCandidate
    }

    /// The formats a layer's detected structure allows.
    static func candidates(_ s: WeightStructure) -> [WeightFormat] {
        var formats: [WeightFormat] = [.dense]
        guard s.nonzeros < s.rows * s.columns else { return formats }
        if WeightFormat.csr.canHold(s) { formats.append(.csr) }
        if let nm = s.nOfM { formats.append(.nm(n: nm.n, m: nm.m)) }
        if let block = s.block { formats.append(.bsr(rows: block.rows, columns: block.columns)) }
        return formats
    }

    /// What `--kernel family` means for a layer: the family where the weights allow it
    /// (BSR on a layer without exact blocks takes the largest block tiling it), else dense.
    static func forcedFormat(_ family: KernelFamily, _ s: WeightStructure) -> WeightFormat {
        switch family {
        case .dense: return .dense
        case .csr: return WeightFormat.csr.canHold(s) ? .csr : .dense
        case .nm: return s.nOfM.map { .nm(n: $0.n, m: $0.m) } ?? .dense
        case .bsr:
            if let block = s.block ?? s.largestTilingBlock { return .bsr(rows: block.rows, columns: block.columns) }
            return .dense
        }
    }

    func key(_ s: WeightStructure, columns: Int, threads: Int, candidates: [WeightFormat]) -> String {
        let density = Double(s.nonzeros) / Double(s.rows * s.columns)
        let formats = candidates.map(\.description).joined(separator: ",")
        // The call's threads, and the machine's (a one-thread call runs beside the others).
        return "\(machine.cpu)|\(machine.isa)|\(machine.threads)t|call\(threads)t|\(s.rows)x\(s.columns)x\(columns)|"
            + String(format: "d%.4f", density) + "|\(formats)"
    }

    /// Prepares the layer's weights in the chosen format.
    func select(_ weights: UnsafeBufferPointer<Float>, structure s: WeightStructure, columns: Int,
                threads: Int) throws -> (KernelChoice, PreparedWeights) {
        func prepare(_ format: WeightFormat) throws -> PreparedWeights {
            try PreparedWeights(weights, rows: s.rows, columns: s.columns, format: format, structure: s)
        }
        if let forced {
            let format = Self.forcedFormat(forced, s)
            return (KernelChoice(format: format, source: .forced, seconds: [:]), try prepare(format))
        }
        let candidates = Self.candidates(s)
        if candidates.count == 1 {
            return (KernelChoice(format: .dense, source: .only, seconds: [:]), try prepare(.dense))
        }
        let key = key(s, columns: columns, threads: threads, candidates: candidates)
        if !retune, let known = memo[key] ?? trusted(cache?.lookup(key), candidates: candidates) {
            cachedLayers += 1
            memo[key] = known
            return (known, try prepare(known.format))
        }
        var seconds: [WeightFormat: Double] = [:]
        var best: (format: WeightFormat, weights: PreparedWeights, seconds: Double)?
        for format in candidates {
            let prepared = try prepare(format)
            let time = Self.time(prepared, columns: columns, isa: machine.isa, threads: threads, budget: secondsPerCandidate)
            seconds[format] = time
            if best == nil || time < best!.seconds { best = (format, prepared, time) }
        }
        let choice = KernelChoice(format: best!.format, source: .timed, seconds: seconds)
        timedLayers += 1
        memo[key] = choice
        cache?.record(key, PlanCache.Entry(choice: choice.format.description,
                                           seconds: Dictionary(uniqueKeysWithValues: seconds.map { ($0.key.description, $0.value) })))
        return (choice, best!.weights)
    }

    /// A cache entry, if every format it names is a candidate of this layer.
    private func trusted(_ entry: PlanCache.Entry?, candidates: [WeightFormat]) -> KernelChoice? {
        guard let entry, let choice = WeightFormat(parsing: entry.choice), candidates.contains(choice) else { return nil }
        var seconds: [WeightFormat: Double] = [:]
        for (name, time) in entry.seconds {
            guard let format = WeightFormat(parsing: name), candidates.contains(format), time > 0, time.isFinite else { return nil }
            seconds[format] = time
        }
        return KernelChoice(format: choice, source: .cached, seconds: seconds)
    }

    /// Seconds of one call on `columns` columns: the fastest of at least 3 calls after a
    /// warm-up (the minimum is the least disturbed by a busy machine), on constant data.
    static func time(_ weights: PreparedWeights, columns: Int, isa: ISA, threads: Int, budget: Double) -> Double {
        let rowBytes = (weights.rows + weights.columns) * MemoryLayout<Float>.size
        let timed = min(columns, max(Lowering.chunkTile, timedBytes / rowBytes))
        let x = UnsafeMutablePointer<Float>.allocate(capacity: weights.columns * timed)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: weights.rows * timed)
        defer {
            x.deallocate()
            y.deallocate()
        }
        x.initialize(repeating: 0.5, count: weights.columns * timed)
        y.initialize(repeating: 0, count: weights.rows * timed)
        func call() {
            weights.multiply(n: timed, x: x, ldx: timed, y: y, ldy: timed, bias: nil, residual: nil, ldResidual: timed,
                             activation: .none, isa: isa, threads: threads)
        }
        call()
        var fastest = Double.infinity, total = 0.0, calls = 0
        while calls < 3 || (calls < 20 && total < budget) {
            let start = Clock.now()
            call()
            let elapsed = Clock.now() - start
            fastest = min(fastest, elapsed)
            total += elapsed
            calls += 1
        }
        return fastest * Double(columns) / Double(timed)
    }
}
