/// The description of one strip, the unit the cycle-level engine simulates: `rows` cores
/// chained by a partial-sum reduction (one per slice of the reduction dimension), each
/// with `columns` simulated cores that receive the same multicast stream of wavelets.
///
/// The stream of a row is a sequence of groups (output rows of the product). Group g
/// brings `wavelets[g * rows + r]` wavelets to row r (the non-zero weights of that output
/// row in the row's slice), then one end-of-group control wavelet. Each wavelet triggers a
/// task on every core of the row; when a core has seen group g's control wavelet, its
/// accumulator for g is complete and enters the partial-sum chain.
struct StripSpec {
    enum Chain {
        /// Partial sums flow down the column, row 0 to the last row, which stores the result.
        case column
        /// The reduction runs along a row of identical cores (each column holds a slice of
        /// the positions); only its length matters: `latency` cycles end to end.
        case identicalRow(latency: Int64)
        /// No reduction: results stay in place.
        case none
    }

    /// How many partial sums a group sends, per core.
    enum ChainValues {
        /// The same count for every group (an output row of `count` positions).
        case constant(Int)
        /// One per weight the row received for the group: wavelets × weights per wavelet.
        case perWavelet(Int)
    }

    /// The cost of each wavelet's task.
    enum ItemCosts {
        /// The same cost for every wavelet, per column.
        case uniform([TaskCost])
        /// A per-wavelet key (`keys[row]`, in stream order, control wavelets excluded) into a
        /// per-column cost table (`table[column][key]`).
        case keyed(keys: [[Int32]], table: [[TaskCost]])
    }

    var rows: Int
    var columns: Int
    var groups: Int
    var wavelets: [Int32]
    var itemCosts: ItemCosts
    var controlCost: TaskCost

    var chain: Chain
    var chainValues: ChainValues
    /// Link cycles per partial sum (bits / payload bits; 0 for an ideal fabric).
    var linkCyclesPerValue: Double
    /// Datapath charge of sending (all rows but the last) and storing (the last row) a
    /// group's partial sums, by the number of values (index), per column.
    var sendCost: [[TaskCost]]
    var storeCost: [[TaskCost]]

    /// Cycles per wavelet of each row's stream (at least 1: one wavelet per link per cycle).
    var streamInterval: [Double]
    /// Rows whose stream interval is set by the weight store's bandwidth, not the link.
    var streamIOLimited: [Bool]
    /// Cycles from the stream's source to each simulated column's core.
    var columnLatency: [Int64]
    /// Core cycles per wavelet spent relaying a row broadcast (no hardware multicast).
    var relayCycles: Int
    var hopLatency: Int64
    /// Wavelets a core's input queue holds (credits), per colour.
    var inputBuffer: Int
    var accumulatorBuffers: Int
    var drainCycles: Int64

    var recordTimeline: Bool = false
    /// Rows whose timeline is recorded (the trace stays readable).
    var timelineRows: Int = 32

    func waveletCount(group: Int, row: Int) -> Int { Int(wavelets[group * rows + row]) }

    func chainValueCount(group: Int, row: Int) -> Int {
        switch chainValues {
        case .constant(let count): count
        case .perWavelet(let weights): waveletCount(group: group, row: row) * weights
        }
    }
}

/// What one simulated core did, in cycles.
struct CoreStats: Sendable {
    var busy: Int64 = 0
    var useful: Double = 0
    var conflicts: Int64 = 0
    var reduction: Int64 = 0
    var waitIO: Int64 = 0
    var waitFabric: Int64 = 0
    /// Waiting for an accumulator the chain had not released because another core was late.
    var waitNeighbour: Int64 = 0
    var lastActive: Int64 = 0
    var overhead: Double { Double(busy) - useful - Double(conflicts) - Double(reduction) }
}

/// One span of a core's timeline (for the Chrome trace).
struct TimelineSpan: Sendable {
    enum Kind: String, Sendable { case compute, reduction }
    let row: Int
    let column: Int
    let kind: Kind
    let group: Int
    let start: Int64
    let end: Int64
}

struct StripResult: Sendable {
    /// Cycle at which the strip's last result is complete.
    var cycles: Int64
    var cores: [CoreStats]
    var events: Int
    var timeline: [TimelineSpan]
}

/// Receives the dataflow's steps in functional mode, to compute real values.
protocol StripPayload: AnyObject {
    /// Core (row, column) runs the task of the `index`-th wavelet of `group`.
    func item(row: Int, column: Int, group: Int, index: Int)
    /// Core (row, column) has sent its partial sums of `group` down the chain (or, on the
    /// chain's last row, stored them).
    func reduced(row: Int, column: Int, group: Int, isLast: Bool)
}
