import Testing
@testable import DataflowSim

@Suite("Event queue and datapath")
struct EngineTests {
    @Test func eventsLeaveInCyclePrioritySequenceOrder() {
        var queue = EventQueue()
        queue.schedule(at: 5, kind: 0, subject: 1, priority: 1)
        queue.schedule(at: 3, kind: 0, subject: 2, priority: 2)
        queue.schedule(at: 5, kind: 0, subject: 3, priority: 0)
        queue.schedule(at: 3, kind: 0, subject: 4, priority: 2)
        queue.schedule(at: 1, kind: 0, subject: 5, priority: 9)
        var order: [Int32] = []
        while let event = queue.pop() { order.append(event.subject) }
        // Same cycle and priority: insertion order.
        #expect(order == [5, 2, 4, 3, 1])
        #expect(queue.processed == 5)
    }

    @Test func manyEventsComeOutSorted() {
        var queue = EventQueue()
        var state: UInt64 = 12345
        for index in 0..<2000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            queue.schedule(at: Int64(state >> 50), kind: 0, subject: Int32(index), priority: UInt8(state >> 60 & 3))
        }
        var previous: (Int64, UInt8, Int32) = (-1, 0, -1)
        while let event = queue.pop() {
            let key = (event.cycle, event.priority, event.subject)
            #expect(key.0 > previous.0 || (key.0 == previous.0 && (key.1 > previous.1 || (key.1 == previous.1 && key.2 > previous.2))))
            previous = key
        }
    }

    @Test func bankAwareFP16StreamsWithoutConflicts() throws {
        let config = try MachineConfig(try ConfigLoader.load(path: configPath("wse2"), overrides: ["core.precision=fp16"]))
        let sram = BankedSRAM(config)
        for length in [1, 3, 4, 7, 64, 701] {
            let timing = sram.timing(of: .axpy, elements: length, lanes: 4)
            // 4 FP16 lanes need two 64-bit reads a cycle: exactly what two ports in distinct banks give.
            #expect(timing.issueCycles == (length + 3) / 4, "length \(length)")
            #expect(timing.stallCycles == 0)
        }
    }

    @Test func packedBuffersConflictAndScatterIsWritePortBound() throws {
        let packed = BankedSRAM(try MachineConfig(try ConfigLoader.load(path: configPath("wse2"), overrides: ["core.precision=fp16", "sram.allocation=packed"])))
        let conflicted = packed.timing(of: .axpy, elements: 512, lanes: 4)
        #expect(conflicted.stallCycles > 0)
        let mixed = BankedSRAM(try MachineConfig(try ConfigLoader.load(path: configPath("wse2"))))
        // A scattered FP32 accumulation writes one element per cycle at best (one write port).
        let scatter = mixed.timing(of: .scatterAxpy, elements: 512, lanes: 2)
        #expect(scatter.issueCycles >= 512 - 16)
        let ideal = IdealSRAM(portBytes: 8).timing(of: .scatterAxpy, elements: 512, lanes: 2)
        #expect(ideal.issueCycles == 256)
    }

    @Test func idealComponentsRemoveOverheads() throws {
        let machine = try machine("wse2", ["components.core=ideal-core", "components.fabric=ideal-fabric", "components.weight_stream=unlimited"])
        #expect(machine.components.core.controlCost == .zero)
        #expect(machine.components.fabric.hopLatency == 0)
        #expect(machine.inboundWaveletsPerCycle == .infinity)
    }
}
