import Testing
@testable import SparseKernels

@Suite("Machine, ISA and threads", .serialized)
struct MachineTests {
    @Test("OpenMP is compiled in and really runs more than one thread")
    func openMPIsOn() {
        #expect(Machine.openMPEnabled)
        #expect(Machine.threadsThatRan(requesting: 2) == 2)
        #expect(Machine.threadsThatRan(requesting: 1) == 1)
    }

    @Test("hwloc reports a plausible topology")
    func topology() {
        let topology = Machine.topology
        #expect(topology.cores >= 1)
        #expect(topology.hardwareThreads >= topology.cores)
        #expect(topology.l1dBytes > 0 && topology.l2Bytes >= topology.l1dBytes)
    }

    @Test("The ISA override parses, and refuses unknown or unsupported ISAs")
    func isaOverride() throws {
        #expect(try ISA(parsing: "AVX2") == .avx2)
        #expect(throws: KernelError.self) { try ISA(parsing: "sse9") }
        #expect(Machine.supportedISAs.first == .scalar)
        for isa in ISA.allCases where isa > Machine.bestISA {
            #expect(throws: KernelError.self) { try ExecutionOptions(isa: isa, threads: 1) }
        }
        #expect(throws: KernelError.self) { try ExecutionOptions(isa: .scalar, threads: 0) }
        #expect(try ExecutionOptions.fromEnvironment(isa: .scalar, threads: 2) == ExecutionOptions(isa: .scalar, threads: 2))
    }

    @Test("The probes measure something")
    func probes() {
        #expect(Machine.measuredPeakGFLOPS(isa: .scalar, threads: 1, seconds: 0.02) > 0.1)
        #expect(Machine.measuredReadBandwidthGBs(threads: 1, bytes: 1 << 20, seconds: 0.02) > 0.1)
    }
}
