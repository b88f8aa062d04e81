import Foundation
import SparseKernels

/// One thing the selector can time: a storage format and a registry kernel of its family.
public struct KernelCandidate: Hashable, Sendable, CustomStringConvertible {
    public let format: WeightFormat
    public let kernel: String

    /// "csr|sk_f32_spmm_csr__avx512_1x64": the plan cache's name for it.
    public var description: String { "\(format)|\(kernel)" }

    /// "csr avx512_1x64": the format and the kernel's ISA and tile, for tables.
    public var label: String {
        let variant = kernel.range(of: "__").map { String(kernel[$0.upperBound...]) } ?? kernel
        return "\(format) \(variant)"
    }

    public init(format: WeightFormat, kernel: String) {
        self.format = format
        self.kernel = kernel
    }

    /// Parses `description`; nil for anything malformed (a corrupt cache entry).
    public init?(parsing text: String) {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 2, let format = WeightFormat(parsing: String(parts[0])),
              let info = KernelRegistry.named(String(parts[1])), info.family == format.family else { return nil }
        self.init(format: format, kernel: info.name)
    }
}

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

    public let chosen: KernelCandidate
    public let source: Source
    /// Seconds per kernel call (N = the call's columns) of every timed candidate.
    public let seconds: [KernelCandidate: Double]

    public var format: WeightFormat { chosen.format }

    /// The fastest candidate that was not chosen, with its time per call.
    public var runnerUp: (candidate: KernelCandidate, seconds: Double)? {
        seconds.filter { $0.key != chosen }.min { $0.value < $1.value }.map { ($0.key, $0.value) }
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
    /// The machine's kernel tuning (blockings, CSR K blocks), if a tuning file has one:
    /// every candidate runs with its tuned blocking, and the cache keys say which tuning.
    let tuning: KernelTuning?

    init(machine: MachineSignature, forced: KernelFamily?, cache: PlanCache?, retune: Bool, secondsPerCandidate: Double,
         tuning: KernelTuning? = nil) {
        self.machine = machine
        self.forced = forced
        self.cache = cache
        self.retune = retune
        self.secondsPerCandidate = secondsPerCandidate
        self.tuning = tuning
    }

    /// The plan-cache key's tuning part: a decision timed with one tuning (or none) is not
    /// trusted under another; a new `sift kernels tune` has a new creation time.
    var tuningTag: String { tuning.map { "tuned \($0.createdAt)" } ?? "untuned" }

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
            let block = s.block ?? s.fallbackBlock
            return .bsr(rows: block.rows, columns: block.columns)
        }
    }

    func key(_ s: WeightStructure, columns: Int, threads: Int, candidates: [WeightFormat]) -> String {
        let density = Double(s.nonzeros) / Double(s.rows * s.columns)
        let formats = candidates.map(\.description).joined(separator: ",")
        // The call's threads, and the machine's (a one-thread call runs beside the others).
        return "\(machine.cpu)|\(machine.isa)|\(machine.threads)t|call\(threads)t|\(s.rows)x\(s.columns)x\(columns)|"
            + String(format: "d%.4f", density) + "|\(formats)|\(tuningTag)"
    }

    /// The registry kernels worth timing for a prepared matrix: the library's default
    /// choice and the others of the same ISA that accept N (narrower ISAs never win).
    static func kernels(for matrix: WeightMatrix, columns: Int, options: ExecutionOptions) -> [KernelInfo] {
        let all = KernelRegistry.candidates(for: matrix, columns: columns, options: options)
        return all.enumerated().filter { $0.offset == 0 || $0.element.isa == options.isa }.map(\.element)
    }

    /// Prepares the layer's weights in the chosen format with the chosen kernel.
    func select(_ weights: UnsafeBufferPointer<Float>, structure s: WeightStructure, columns: Int,
                threads: Int) throws -> (KernelChoice, PreparedWeights) {
        var options: ExecutionOptions
        do {
            options = try ExecutionOptions(isa: machine.isa, threads: threads)
        } catch {
            throw RuntimeError(error)
        }
        options.tuning = tuning
        func prepare(_ format: WeightFormat) throws -> WeightMatrix {
            try PreparedWeights.prepare(weights, rows: s.rows, columns: s.columns, format: format, structure: s, options: options)
        }
        func defaultKernel(_ matrix: WeightMatrix) throws -> KernelInfo {
            guard let kernel = Self.kernels(for: matrix, columns: columns, options: options).first else {
                throw RuntimeError.unsupported("no \(matrix.format) kernel runs a \(s.rows)x\(s.columns) matrix at N = \(columns)")
            }
            return kernel
        }
        if let forced {
            let matrix = try prepare(Self.forcedFormat(forced, s))
            let kernel = try defaultKernel(matrix)
            return (KernelChoice(chosen: KernelCandidate(format: matrix.format, kernel: kernel.name), source: .forced, seconds: [:]),
                    PreparedWeights(matrix, kernel: kernel, tuning: tuning))
        }
        let formats = Self.candidates(s)
        let key = key(s, columns: columns, threads: threads, candidates: formats)
        if !retune, let known = memo[key] ?? trusted(cache?.lookup(key), formats: formats, columns: columns, options: options) {
            cachedLayers += 1
            memo[key] = known
            let matrix = try prepare(known.format)
            guard let kernel = KernelRegistry.named(known.chosen.kernel) else {
                throw RuntimeError.unsupported("kernel \(known.chosen.kernel) is not in the registry")
            }
            return (known, PreparedWeights(matrix, kernel: kernel, tuning: tuning))
        }
        var contenders: [(candidate: KernelCandidate, weights: PreparedWeights)] = []
        for format in formats {
            let matrix = try prepare(format)
            let kernels = Self.kernels(for: matrix, columns: columns, options: options)
            if formats.count == 1 && kernels.count == 1 {  // nothing to choose between
                return (KernelChoice(chosen: KernelCandidate(format: format, kernel: kernels[0].name), source: .only, seconds: [:]),
                        PreparedWeights(matrix, kernel: kernels[0], tuning: tuning))
            }
            for kernel in kernels {
                contenders.append((KernelCandidate(format: format, kernel: kernel.name), PreparedWeights(matrix, kernel: kernel, tuning: tuning)))
            }
        }
        guard !contenders.isEmpty else {
            throw RuntimeError.unsupported("no kernel runs a \(s.rows)x\(s.columns) matrix at N = \(columns)")
        }
        let times = try Self.time(contenders.map(\.weights), columns: columns, options: options,
                                  budget: secondsPerCandidate * Double(contenders.count))
        var seconds: [KernelCandidate: Double] = [:]
        for (index, contender) in contenders.enumerated() { seconds[contender.candidate] = times[index] }
        let winner = times.indices.min { times[$0] < times[$1] }!
        let best = (candidate: contenders[winner].candidate, weights: contenders[winner].weights)
        let choice = KernelChoice(chosen: best.candidate, source: .timed, seconds: seconds)
        timedLayers += 1
        memo[key] = choice
        cache?.record(key, PlanCache.Entry(choice: best.candidate.description,
                                           seconds: Dictionary(uniqueKeysWithValues: seconds.map { ($0.key.description, $0.value) })))
        return (choice, best.weights)
    }

    /// A cache entry, if every candidate it names is one this layer allows and its chosen
    /// kernel runs here at this N.
    private func trusted(_ entry: PlanCache.Entry?, formats: [WeightFormat], columns: Int, options: ExecutionOptions) -> KernelChoice? {
        guard let entry, let chosen = KernelCandidate(parsing: entry.choice), formats.contains(chosen.format),
              let info = KernelRegistry.named(chosen.kernel), info.isa <= options.isa, info.accepts(columns: columns) else { return nil }
        var seconds: [KernelCandidate: Double] = [:]
        for (name, time) in entry.seconds {
            guard let candidate = KernelCandidate(parsing: name), formats.contains(candidate.format), time > 0, time.isFinite else {
                return nil
            }
            seconds[candidate] = time
        }
        guard seconds[chosen] != nil else { return nil }
        return KernelChoice(chosen: chosen, source: .cached, seconds: seconds)
    }

    /// Seconds of one call on `columns` columns for each contender: rounds of one call of
    /// each in turn (after a warm-up call each), at least 5 rounds and until `budget`
    /// seconds are spent (20 rounds at most); each contender's fastest call. Taking turns
    /// means a busy machine's slow moments hit every contender alike, and the minimum is the
    /// time least disturbed by them. Constant data; X and Y capped at `timedBytes` (a prefix
    /// of N, the time scaled to N).
    static func time(_ contenders: [PreparedWeights], columns: Int, options: ExecutionOptions, budget: Double) throws -> [Double] {
        guard let first = contenders.first else { return [] }
        let rowBytes = (first.rows + first.columns) * MemoryLayout<Float>.size
        let timed = min(columns, max(Lowering.chunkTile, timedBytes / rowBytes))
        let x = UnsafeMutablePointer<Float>.allocate(capacity: first.columns * timed)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: first.rows * timed)
        defer {
            x.deallocate()
            y.deallocate()
        }
        x.initialize(repeating: 0.5, count: first.columns * timed)
        y.initialize(repeating: 0, count: first.rows * timed)
        func call(_ weights: PreparedWeights) throws -> Double {
            let start = Clock.now()
            try weights.multiply(n: timed, x: x, ldx: timed, y: y, ldy: timed, bias: nil, residual: nil, ldResidual: timed,
                                 activation: .none, options: options)
            return Clock.now() - start
        }
        for weights in contenders { _ = try call(weights) }
        var fastest = [Double](repeating: .infinity, count: contenders.count)
        var total = 0.0, rounds = 0
        while rounds < 5 || (rounds < 20 && total < budget) {
            for (index, weights) in contenders.enumerated() {
                let elapsed = try call(weights)
                fastest[index] = min(fastest[index], elapsed)
                total += elapsed
            }
            rounds += 1
        }
        return fastest.map { $0 * Double(columns) / Double(timed) }
    }
}
