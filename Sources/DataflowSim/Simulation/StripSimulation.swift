/// The cycle-level engine: simulates one strip (see `StripSpec`) with one event queue.
///
/// Each core has a main thread, which runs the task of every wavelet that arrives (in
/// stream order), and a fabric microthread, which sends a finished accumulator down the
/// partial-sum chain. What is modelled, cycle by cycle:
/// - the stream: one wavelet per link per cycle at most, slower when the weight store's
///   bandwidth share is lower; wavelets reach a column `columnLatency` cycles after they
///   leave the source; a core's input queue holds `inputBuffer` wavelets and the source
///   stops when any core of the row has no credit left (back-pressure through multicast);
/// - each task's cost (trigger, vector operation through the SRAM model, conflicts);
/// - accumulators: a core may start group g only when the chain has released its
///   accumulator for group g - B (B = `accumulatorBuffers`): slow neighbours stall it;
/// - the chain: a core's microthread sends group g's partial sums when its accumulator is
///   complete (FMAC pipeline drained) and the previous core's partial sums have begun to
///   arrive; the transfer occupies the link `values × linkCyclesPerValue` cycles, and a
///   receiver that has not started its own transfer holds back all but `inputBuffer`
///   wavelets (back-pressure). The last core stores the sum.
///
/// Within one group a row's tasks only depend on the stream and on when the group may
/// start, so the engine computes them in one pass when the group starts (exact for this
/// model, and one event per core and group instead of one per wavelet); the interactions
/// between cores (accumulators, chain, back-pressure) go through the event queue.
struct StripSimulation {
    private enum Kind: UInt8 { case groupComputed = 0, headArrived = 1, reductionEnded = 2 }

    let spec: StripSpec
    weak var payload: (any StripPayload)?

    private var queue = EventQueue()
    private var cores: [CoreStats]
    private var coreFree: [Int64]
    /// Per row: the next group to compute, the stream's last emission and wavelet count.
    private var nextGroup: [Int]
    private var lastEmit: [Double]
    private var emitted: [Int]
    private var keyCursor: [Int]
    /// Per core and credit slot: when the wavelet that holds the slot started its task.
    private var creditRing: [Int64]
    private let creditDepth: Int
    /// Per core and accumulator slot: when the slot was released (-1: not yet), and whether
    /// a neighbour's lateness (true) or the transfer itself (false) set that time.
    private var slotFree: [Int64]
    private var slotFreedByNeighbour: [Bool]
    /// Per core and group: accumulator complete, partial sums arriving (head, tail), the
    /// microthread's transfer start, and the next core's transfer start.
    private var accReady: [Int64]
    private var headIn: [Int64]
    private var tailIn: [Int64]
    private var started: [Int64]
    private var receiverStarted: [Int64]
    private var ended: [Int64]
    private var microNext: [Int]
    private var microFree: [Int64]
    private var completion: Int64 = 0
    private var timeline: [TimelineSpan] = []
    private var groupBegin: [Int64]

    init(spec: StripSpec, payload: (any StripPayload)? = nil) {
        self.spec = spec
        self.payload = payload
        let coreCount = spec.rows * spec.columns
        cores = [CoreStats](repeating: CoreStats(), count: coreCount)
        coreFree = [Int64](repeating: 0, count: coreCount)
        nextGroup = [Int](repeating: 0, count: spec.rows)
        lastEmit = [Double](repeating: -.greatestFiniteMagnitude, count: spec.rows)
        emitted = [Int](repeating: 0, count: spec.rows)
        keyCursor = [Int](repeating: 0, count: spec.rows)
        // An input queue deeper than the whole stream never fills: no credit bookkeeping.
        let totalWavelets = spec.wavelets.reduce(0) { $0 + Int($1) } + spec.groups
        creditDepth = spec.inputBuffer >= totalWavelets ? 0 : spec.inputBuffer
        creditRing = [Int64](repeating: 0, count: coreCount * max(creditDepth, 1))
        let buffers = spec.accumulatorBuffers
        slotFree = [Int64](repeating: 0, count: coreCount * buffers)
        slotFreedByNeighbour = [Bool](repeating: false, count: coreCount * buffers)
        let perGroup = coreCount * spec.groups
        accReady = [Int64](repeating: -1, count: perGroup)
        headIn = [Int64](repeating: -1, count: perGroup)
        tailIn = [Int64](repeating: -1, count: perGroup)
        started = [Int64](repeating: -1, count: perGroup)
        receiverStarted = [Int64](repeating: -1, count: perGroup)
        ended = [Int64](repeating: -1, count: perGroup)
        groupBegin = [Int64](repeating: 0, count: perGroup)
        microNext = [Int](repeating: 0, count: coreCount)
        microFree = [Int64](repeating: 0, count: coreCount)
    }

    @inline(__always) private func core(_ row: Int, _ column: Int) -> Int { row * spec.columns + column }
    @inline(__always) private func slot(_ core: Int, _ group: Int) -> Int { core * spec.accumulatorBuffers + group % spec.accumulatorBuffers }
    @inline(__always) private func index(_ core: Int, _ group: Int) -> Int { core * spec.groups + group }

    /// Runs the strip to completion.
    mutating func run() -> StripResult {
        for row in 0..<spec.rows { advance(row: row) }
        while let event = queue.pop() {
            let coreIndex = Int(event.subject)
            let group = Int(event.group)
            switch Kind(rawValue: event.kind) {
            case .groupComputed:
                tryStartReduction(coreIndex)
            case .headArrived:
                tryStartReduction(coreIndex)
            case .reductionEnded:
                finishReduction(coreIndex, group: group)
            case nil:
                break
            }
        }
        for index in cores.indices { cores[index].lastActive = max(cores[index].lastActive, coreFree[index]) }
        return StripResult(cycles: completion, cores: cores, events: queue.processed, timeline: timeline)
    }

    // MARK: the main thread

    /// Computes every group of `row` whose accumulators are known to be free.
    private mutating func advance(row: Int) {
        let buffers = spec.accumulatorBuffers
        while nextGroup[row] < spec.groups {
            let group = nextGroup[row]
            var start: Int64 = 0
            var byNeighbour = false
            for column in 0..<spec.columns {
                let index = slot(core(row, column), group)
                if group >= buffers {
                    let free = slotFree[index]
                    guard free >= 0 else { return }
                    if free > start {
                        start = free
                        byNeighbour = slotFreedByNeighbour[index]
                    }
                }
            }
            compute(row: row, group: group, notBefore: start, waitIsNeighbour: byNeighbour)
            nextGroup[row] = group + 1
            if group + buffers < spec.groups {
                for column in 0..<spec.columns { slotFree[slot(core(row, column), group + buffers)] = -1 }
            }
        }
    }

    /// Runs group `group`'s tasks on every core of `row`, starting no earlier than `notBefore`.
    private mutating func compute(row: Int, group: Int, notBefore: Int64, waitIsNeighbour: Bool) {
        let columns = spec.columns
        let base = row * columns
        for column in 0..<columns where coreFree[base + column] < notBefore {
            let wait = notBefore - coreFree[base + column]
            if waitIsNeighbour { cores[base + column].waitNeighbour += wait } else { cores[base + column].waitFabric += wait }
            coreFree[base + column] = notBefore
        }
        for column in 0..<columns { groupBegin[index(base + column, group)] = coreFree[base + column] }
        let count = spec.waveletCount(group: group, row: row)
        let interval = spec.streamInterval[row]
        let ioLimited = spec.streamIOLimited[row]
        for wavelet in 0...count {
            let isControl = wavelet == count
            // When the source can send: its rate, then the credit of every core of the row.
            // The part of the gap since the last wavelet that the link rate (one per cycle)
            // would not have imposed is the weight store's doing.
            var emit = lastEmit[row] + interval
            var ioDelay = ioLimited ? interval - 1 : 0
            if emit < 0 {
                emit = 0
                ioDelay = 0
            }
            let sequence = emitted[row]
            if creditDepth > 0, sequence >= creditDepth {
                for column in 0..<columns {
                    let freed = creditRing[(base + column) * creditDepth + sequence % creditDepth]
                    let needed = Double(freed + spec.hopLatency - spec.columnLatency[column])
                    if needed > emit {
                        emit = needed
                        ioDelay = 0
                    }
                }
            }
            lastEmit[row] = emit
            emitted[row] = sequence + 1
            let emitCycle = Int64(emit.rounded(.up))
            var key = 0
            if !isControl, case .keyed(let keys, _) = spec.itemCosts {
                key = Int(keys[row][keyCursor[row]])
                keyCursor[row] += 1
            }
            for column in 0..<columns {
                let coreIndex = base + column
                let arrival = emitCycle + spec.columnLatency[column]
                var begin = coreFree[coreIndex]
                if arrival > begin {
                    let wait = arrival - begin
                    let io = min(wait, Int64(ioDelay.rounded(.up)))
                    cores[coreIndex].waitIO += io
                    cores[coreIndex].waitFabric += wait - io
                    begin = arrival
                }
                let cost: TaskCost
                if isControl {
                    cost = spec.controlCost
                } else {
                    switch spec.itemCosts {
                    case .uniform(let perColumn): cost = perColumn[column]
                    case .keyed(_, let table): cost = table[column][key]
                    }
                    payload?.item(row: row, column: column, group: group, index: wavelet)
                }
                let busy = Int64(cost.busy + spec.relayCycles)
                cores[coreIndex].busy += busy
                cores[coreIndex].useful += cost.useful
                cores[coreIndex].conflicts += Int64(cost.conflicts)
                coreFree[coreIndex] = begin + busy
                if creditDepth > 0 { creditRing[coreIndex * creditDepth + sequence % creditDepth] = begin }
            }
        }
        // The accumulator is complete once the pipeline drains; the chain's SRAM reads are
        // charged to the main thread right after.
        let values = spec.chainValueCount(group: group, row: row)
        let isLast = row == spec.rows - 1
        for column in 0..<columns {
            let coreIndex = base + column
            let ready = coreFree[coreIndex] + spec.drainCycles
            accReady[index(coreIndex, group)] = ready
            queue.schedule(at: max(ready, queue.now), kind: Kind.groupComputed.rawValue, subject: Int32(coreIndex), group: Int32(group))
            if case .none = spec.chain {} else {
                let table = isLast ? spec.storeCost[column] : spec.sendCost[column]
                let charge = values < table.count ? table[values] : table[table.count - 1]
                let busy = Int64(charge.busy)
                cores[coreIndex].busy += busy
                cores[coreIndex].reduction += busy
                coreFree[coreIndex] += busy
            }
            if spec.recordTimeline, row < spec.timelineRows {
                timeline.append(TimelineSpan(row: row, column: column, kind: .compute, group: group,
                                             start: groupBegin[index(coreIndex, group)], end: ready))
            }
        }
    }

    // MARK: the partial-sum chain

    private func transferCycles(_ coreIndex: Int, group: Int) -> Int64 {
        let row = coreIndex / spec.columns
        let values = spec.chainValueCount(group: group, row: row)
        return Int64((Double(values) * spec.linkCyclesPerValue).rounded(.up))
    }

    private mutating func tryStartReduction(_ coreIndex: Int) {
        let group = microNext[coreIndex]
        guard group < spec.groups else { return }
        let now = queue.now
        let at = index(coreIndex, group)
        guard started[at] < 0, accReady[at] >= 0, accReady[at] <= now, microFree[coreIndex] <= now else { return }
        let row = coreIndex / spec.columns
        switch spec.chain {
        case .column:
            if row > 0 {
                guard headIn[at] >= 0, headIn[at] <= now else { return }
            }
            started[at] = now
            if row < spec.rows - 1 {
                let next = coreIndex + spec.columns
                headIn[index(next, group)] = now + spec.hopLatency
                queue.schedule(at: now + spec.hopLatency, kind: Kind.headArrived.rawValue, subject: Int32(next), group: Int32(group))
            }
            if row > 0 {
                let previous = coreIndex - spec.columns
                receiverStarted[index(previous, group)] = now
                tryFinish(previous, group: group)
            }
            tryFinish(coreIndex, group: group)
        case .identicalRow, .none:
            started[at] = now
            let end = now + (isNone ? 0 : transferCycles(coreIndex, group: group))
            ended[at] = end
            queue.schedule(at: end, kind: Kind.reductionEnded.rawValue, subject: Int32(coreIndex), group: Int32(group))
        }
    }

    private var isNone: Bool {
        if case .none = spec.chain { return true }
        return false
    }

    /// Fixes when `coreIndex`'s transfer of `group` ends, once everything it depends on is known.
    private mutating func tryFinish(_ coreIndex: Int, group: Int) {
        let at = index(coreIndex, group)
        guard started[at] >= 0, ended[at] < 0 else { return }
        let row = coreIndex / spec.columns
        let duration = transferCycles(coreIndex, group: group)
        var end = started[at] + duration
        if row > 0 {
            guard tailIn[at] >= 0 else { return }
            end = max(end, tailIn[at])
        }
        // A link carries one wavelet per cycle: a transfer longer than the receiver's input
        // queue waits for the receiver to start consuming.
        if row < spec.rows - 1, duration > Int64(spec.inputBuffer) {
            guard receiverStarted[at] >= 0 else { return }
            end = max(end, receiverStarted[at] + duration - Int64(spec.inputBuffer))
        }
        end = max(end, queue.now)
        ended[at] = end
        queue.schedule(at: end, kind: Kind.reductionEnded.rawValue, subject: Int32(coreIndex), group: Int32(group))
        if row < spec.rows - 1 {
            let next = coreIndex + spec.columns
            tailIn[index(next, group)] = end + spec.hopLatency
            tryFinish(next, group: group)
        }
    }

    private mutating func finishReduction(_ coreIndex: Int, group: Int) {
        let now = queue.now
        let at = index(coreIndex, group)
        let row = coreIndex / spec.columns
        let column = coreIndex % spec.columns
        let isLast: Bool
        switch spec.chain {
        case .column: isLast = row == spec.rows - 1
        case .identicalRow, .none: isLast = true
        }
        payload?.reduced(row: row, column: column, group: group, isLast: isLast)
        if spec.recordTimeline, row < spec.timelineRows, started[at] < now {
            timeline.append(TimelineSpan(row: row, column: column, kind: .reduction, group: group, start: started[at], end: now))
        }
        // The accumulator is free for group + B. A release later than the core's own
        // readiness plus its own transfer means another core held it back.
        let own = max(accReady[at], started[at]) + transferCycles(coreIndex, group: group)
        let byNeighbour = started[at] > accReady[at] || now > own
        let next = group + spec.accumulatorBuffers
        if next < spec.groups {
            let index = slot(coreIndex, next)
            slotFree[index] = now
            slotFreedByNeighbour[index] = byNeighbour
        }
        microFree[coreIndex] = now
        microNext[coreIndex] = group + 1
        switch spec.chain {
        case .column:
            if isLast { completion = max(completion, now) }
        case .identicalRow(let latency):
            completion = max(completion, now + latency)
        case .none:
            completion = max(completion, now)
        }
        advance(row: row)
        tryStartReduction(coreIndex)
    }
}
