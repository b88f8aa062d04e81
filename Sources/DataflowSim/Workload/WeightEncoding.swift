/// How one core row's share of one output row of W travels in the weight stream: its
/// non-zero weights, packed into 32-bit wavelet payloads.
///
/// Three wavelet kinds (a wavelet's kind is told by its colour or control bits, which the
/// 38-bit WSE wavelet carries beside its 32-bit payload):
/// - **packed** values: `P` values at implicit, consecutive positions (`P` = payload bits /
///   value bits: two 16-bit weights), or fewer at the end of a run;
/// - **indexed**: one value with its index (16 + 16 bits);
/// - a **header**: the index where the run that follows starts (no value).
///
/// Per slice the compiler picks the cheaper format, counting wavelets:
/// - a slice whose weights are all present streams packed with implicit positions (the
///   dense format; after the end-of-row control wavelet a core starts at its slice's first
///   column, so no index is needed);
/// - otherwise, with `mapping.weight_runs`, a run of consecutive non-zeros may stream as a
///   header and its values packed (no header for a run that starts at the slice's first
///   column), when that is fewer wavelets than one per weight;
/// - otherwise every weight travels indexed.
/// Each wavelet triggers one task on every core of its row: a header only moves the core's
/// position (the cost of a control task), a value wavelet runs one vector operation per
/// weight it carries.
struct SliceStream: Hashable, Sendable {
    /// Non-zero weights.
    var weights: Int32 = 0
    /// Wavelets that carry weights (packed or indexed).
    var valueWavelets: Int32 = 0
    /// Run headers.
    var headers: Int32 = 0

    var wavelets: Int { Int(valueWavelets) + Int(headers) }
}

/// One wavelet of a slice's stream, in stream order.
enum StreamedWavelet: Hashable, Sendable {
    /// The run that follows starts at this reduction index.
    case header(Int)
    /// `count` weights at reduction indices `first..<first + count`.
    case weights(first: Int, count: Int)
}

struct WeightEncoding: Sendable {
    /// Values a packed wavelet carries (at least 1).
    let packed: Int
    /// Runs of consecutive non-zeros may travel as a header plus packed values.
    let runs: Bool

    init(packed: Int, runs: Bool) {
        self.packed = max(1, packed)
        self.runs = runs
    }

    /// The key of a header in the engine's per-wavelet cost tables; a value wavelet's key is
    /// the number of weights it carries (1...packed).
    static let headerKey: Int32 = 0

    private enum Format { case packed, runs, indexed }

    /// The format of `row`'s slice `start..<end`, and its non-zeros.
    private func format(_ mask: MaskBits, row: Int, from start: Int, to end: Int) -> (Format, Int) {
        let weights = mask.count(row: row, from: start, to: end)
        if weights == end - start { return (.packed, weights) }
        guard runs, weights > 1 else { return (.indexed, weights) }
        // Headers: every run but one that starts at the slice's first column.
        let headers = mask.runCount(row: row, from: start, to: end) - (mask.contains(row: row, column: start) ? 1 : 0)
        // The runs format needs at least `headers + ceil(weights / P)` wavelets: often enough
        // that settles it without walking the runs.
        let packed = packed
        guard headers + (weights + packed - 1) / packed < weights else { return (.indexed, weights) }
        var wavelets = headers
        mask.forEachRun(row: row, from: start, to: end) { _, length in wavelets += (length + packed - 1) / packed }
        return (wavelets < weights ? .runs : .indexed, weights)
    }

    /// The stream of `row`'s slice `start..<end`; every weight present when `mask` is nil.
    func stream(of mask: MaskBits?, row: Int, from start: Int, to end: Int) -> SliceStream {
        guard start < end else { return SliceStream() }
        guard let mask else { return packedStream(end - start) }
        let (format, weights) = format(mask, row: row, from: start, to: end)
        switch format {
        case .packed:
            return packedStream(weights)
        case .indexed:
            return SliceStream(weights: Int32(weights), valueWavelets: Int32(weights), headers: 0)
        case .runs:
            var result = SliceStream(weights: Int32(weights))
            let packed = packed
            mask.forEachRun(row: row, from: start, to: end) { runStart, length in
                if runStart != start { result.headers += 1 }
                result.valueWavelets += Int32((length + packed - 1) / packed)
            }
            return result
        }
    }

    /// Calls `body` for each wavelet of `row`'s slice `start..<end`, in stream order; the
    /// counts agree with `stream(of:row:from:to:)`.
    func forEachWavelet(of mask: MaskBits?, row: Int, from start: Int, to end: Int, _ body: (StreamedWavelet) -> Void) {
        guard start < end else { return }
        func run(_ first: Int, _ length: Int) {
            var index = first
            while index < first + length {
                let count = min(packed, first + length - index)
                body(.weights(first: index, count: count))
                index += count
            }
        }
        guard let mask else { return run(start, end - start) }
        switch format(mask, row: row, from: start, to: end).0 {
        case .packed:
            run(start, end - start)
        case .indexed:
            for column in start..<end where mask.contains(row: row, column: column) { body(.weights(first: column, count: 1)) }
        case .runs:
            mask.forEachRun(row: row, from: start, to: end) { runStart, length in
                if runStart != start { body(.header(runStart)) }
                run(runStart, length)
            }
        }
    }

    /// The engine's cost key of each wavelet of the slice, appended in stream order.
    func appendKeys(of mask: MaskBits?, row: Int, from start: Int, to end: Int, to keys: inout [Int32]) {
        forEachWavelet(of: mask, row: row, from: start, to: end) { wavelet in
            switch wavelet {
            case .header: keys.append(Self.headerKey)
            case .weights(_, let count): keys.append(Int32(count))
            }
        }
    }

    private func packedStream(_ weights: Int) -> SliceStream {
        SliceStream(weights: Int32(weights), valueWavelets: Int32((weights + packed - 1) / packed), headers: 0)
    }
}
