/// SRAM models: how many cycles a vector operation takes given the SRAM's banks and ports.

/// Banks and ports simulated cycle by cycle. Each cycle the core issues up to `lanes`
/// elements; an element needs the words its operands live in, read through one of the
/// `readPorts` (one read per bank per cycle), and its result word written back through one
/// of the `writePorts` (one write per bank per cycle) when the FMAC pipeline delivers it,
/// `pipelineCycles` later. Contiguous operands fetch each word once; scattered ones (an
/// indexed accumulator) touch a word per element. Write-backs go first; an element whose
/// reads cannot be served this cycle waits for the next (the pipeline stalls).
public struct BankedSRAM: SRAMModel {
    let banks: Int
    let readPorts: Int
    let writePorts: Int
    let portBytes: Int
    let interleaveBytes: Int
    let bankAware: Bool
    let pipelineCycles: Int
    let activationBytes: Int
    let accumulatorBytes: Int
    let indexBytes: Int

    /// Operations longer than this are simulated on this many elements and scaled: the
    /// access pattern is periodic long before.
    static let simulatedElements = 4096

    public init(_ config: MachineConfig) {
        banks = config.banks
        readPorts = config.readPorts
        writePorts = config.writePorts
        portBytes = max(1, config.portBytes)
        interleaveBytes = config.interleaveBytes
        bankAware = config.allocation == .bankAware
        pipelineCycles = config.pipelineCycles
        activationBytes = config.activationBytes
        accumulatorBytes = config.accumulatorElementBytes
        indexBytes = max(1, (config.weightIndexBits + 7) / 8)
    }

    /// One operand of an operation: where it starts and how it advances.
    struct Operand {
        let base: Int
        let elementBytes: Int
        let isWrite: Bool
        /// Scattered: every element touches its own (seeded pseudo-random) word.
        let scattered: Bool
    }

    func operands(of op: VectorOp) -> [Operand] {
        // Bank-aware placement starts each operand in its own bank; packed placement puts
        // every buffer on a multiple of the bank stride (back-to-back slabs whose sizes are
        // multiples of 64 bytes), so all start in bank 0.
        let stride = interleaveBytes
        func base(_ slot: Int) -> Int { bankAware ? slot * stride + slot * banks * stride * 16 : slot * banks * stride * 16 }
        switch op {
        case .axpy:
            return [Operand(base: base(0), elementBytes: activationBytes, isWrite: false, scattered: false),
                    Operand(base: base(1), elementBytes: accumulatorBytes, isWrite: false, scattered: false),
                    Operand(base: base(1), elementBytes: accumulatorBytes, isWrite: true, scattered: false)]
        case .dot:
            return [Operand(base: base(0), elementBytes: activationBytes, isWrite: false, scattered: false),
                    Operand(base: base(1), elementBytes: activationBytes, isWrite: false, scattered: false)]
        case .scatterAxpy:
            return [Operand(base: base(0), elementBytes: activationBytes + indexBytes, isWrite: false, scattered: false),
                    Operand(base: base(1), elementBytes: accumulatorBytes, isWrite: false, scattered: true),
                    Operand(base: base(1), elementBytes: accumulatorBytes, isWrite: true, scattered: true)]
        case .sendPartials:
            return [Operand(base: base(0), elementBytes: accumulatorBytes, isWrite: false, scattered: false)]
        case .storePartials:
            return [Operand(base: base(0), elementBytes: accumulatorBytes, isWrite: false, scattered: false),
                    Operand(base: base(0), elementBytes: accumulatorBytes, isWrite: true, scattered: false)]
        }
    }

    public func timing(of op: VectorOp, elements: Int, lanes: Int) -> DatapathTiming {
        guard elements > 0, lanes > 0 else { return DatapathTiming(issueCycles: 0, stallCycles: 0) }
        let simulated = min(elements, Self.simulatedElements)
        let cycles = simulate(op, elements: simulated, lanes: lanes)
        let scaled = simulated == elements ? cycles
            : Int((Double(cycles) * Double(elements) / Double(simulated)).rounded(.up))
        let ideal = (elements + lanes - 1) / lanes
        return DatapathTiming(issueCycles: max(scaled, ideal), stallCycles: max(0, scaled - ideal))
    }

    func bank(ofAddress address: Int) -> Int { (address / interleaveBytes) % banks }

    /// Issue cycles of `elements` elements, simulated.
    ///
    /// Each read operand fetches its words ahead of use into a two-word operand buffer (a
    /// scattered one, two lanes' worth of elements), one word per read port and per bank
    /// per cycle; operands take turns for the ports. An element issues once every operand
    /// it needs is fetched; a full write-back queue stalls issue.
    func simulate(_ op: VectorOp, elements: Int, lanes: Int) -> Int {
        let operands = operands(of: op)
        let reads = operands.indices.filter { !operands[$0].isWrite }
        var fetched = [Int](repeating: 0, count: operands.count)
        var writes: [(due: Int, bank: Int)] = []
        var writeHead = 0
        var scatterState: UInt64 = 0x9e37_79b9_7f4a_7c15
        let scatterWords = 512  // a 4 KiB accumulator
        var scatteredBank = [Int](repeating: 0, count: 2 * lanes + 2)
        var issued = 0
        var cycle = 0
        var bankRead = [Bool](repeating: false, count: banks)
        var bankWrite = [Bool](repeating: false, count: banks)
        var turn = 0
        func nextScatterBank() -> Int {
            scatterState = scatterState &* 6364136223846793005 &+ 1442695040888963407
            return bank(ofAddress: Int(scatterState >> 33) % scatterWords * portBytes)
        }
        while issued < elements {
            for index in 0..<banks {
                bankRead[index] = false
                bankWrite[index] = false
            }
            // Write-backs that are due, oldest first.
            var writesUsed = 0
            var index = writeHead
            while index < writes.count, writes[index].due <= cycle, writesUsed < writePorts, !bankWrite[writes[index].bank] {
                bankWrite[writes[index].bank] = true
                writesUsed += 1
                index += 1
            }
            writeHead = index
            // Operand fetches: one word per operand per round, rounds until the ports are used.
            var readsUsed = 0
            var fetchedThisRound = true
            while readsUsed < readPorts, fetchedThisRound {
                fetchedThisRound = false
                for step in 0..<reads.count where readsUsed < readPorts {
                    let slot = reads[(turn + step) % reads.count]
                    let operand = operands[slot]
                    let element = fetched[slot]
                    guard element < elements else { continue }
                    let bank: Int
                    let next: Int
                    if operand.scattered {
                        guard element - issued < 2 * lanes else { continue }
                        bank = nextScatterBank()
                        next = element + 1
                    } else {
                        let perWord = max(1, portBytes / operand.elementBytes)
                        guard element - issued < 2 * perWord else { continue }
                        let address = operand.base + element * operand.elementBytes
                        bank = self.bank(ofAddress: address)
                        next = min(elements, ((address / portBytes + 1) * portBytes - operand.base + operand.elementBytes - 1) / operand.elementBytes)
                    }
                    guard !bankRead[bank] else { continue }
                    bankRead[bank] = true
                    readsUsed += 1
                    if operand.scattered { scatteredBank[element % scatteredBank.count] = bank }
                    fetched[slot] = max(next, element + 1)
                    fetchedThisRound = true
                }
            }
            turn += 1
            // Issue what is fetched.
            let backlog = writes.count - writeHead
            var ready = min(lanes, elements - issued)
            for slot in reads { ready = min(ready, fetched[slot] - issued) }
            if backlog >= 8 { ready = 0 }
            for offset in 0..<max(0, ready) {
                let element = issued + offset
                for operand in operands where operand.isWrite {
                    if operand.scattered {
                        writes.append((cycle + pipelineCycles, scatteredBank[element % scatteredBank.count]))
                    } else {
                        let word = (operand.base + element * operand.elementBytes) / portBytes
                        let nextWord = (operand.base + (element + 1) * operand.elementBytes) / portBytes
                        if nextWord != word || element + 1 == elements {
                            writes.append((cycle + pipelineCycles, bank(ofAddress: word * portBytes)))
                        }
                    }
                }
            }
            issued += max(0, ready)
            cycle += 1
            if writeHead > 1024 {
                writes.removeFirst(writeHead)
                writeHead = 0
            }
        }
        return cycle
    }
}

/// An SRAM that always feeds every lane: the datapath's lane count is the only limit.
public struct IdealSRAM: SRAMModel {
    let portBytes: Int

    public func timing(of op: VectorOp, elements: Int, lanes: Int) -> DatapathTiming {
        guard elements > 0, lanes > 0 else { return DatapathTiming(issueCycles: 0, stallCycles: 0) }
        return DatapathTiming(issueCycles: (elements + lanes - 1) / lanes, stallCycles: 0)
    }
}
