internal import CSparseKernels
import Foundation

/// An instruction-set path through the kernels. Every kernel has all three, so one
/// machine can test and benchmark every path.
public enum ISA: String, CaseIterable, Sendable, Comparable, CustomStringConvertible {
    case scalar, avx2, avx512

    public var description: String { rawValue }

    public static func < (a: ISA, b: ISA) -> Bool { a.rank < b.rank }
    private var rank: Int { ISA.allCases.firstIndex(of: self)! }

    var cValue: sk_isa {
        switch self {
        case .scalar: SK_ISA_SCALAR
        case .avx2: SK_ISA_AVX2
        case .avx512: SK_ISA_AVX512
        }
    }

    /// Parses a user's choice; the error lists the accepted spellings.
    public init(parsing text: String) throws(KernelError) {
        guard let isa = ISA(rawValue: text.lowercased()) else {
            throw .invalidArgument("unknown ISA '\(text)': expected one of scalar, avx2, avx512")
        }
        self = isa
    }
}

/// Facts about this machine, read once.
public enum Machine {
    /// The widest ISA this CPU supports.
    public static var bestISA: ISA {
        switch sk_best_isa() {
        case SK_ISA_AVX512: .avx512
        case SK_ISA_AVX2: .avx2
        default: .scalar
        }
    }

    /// ISAs this CPU can run, narrowest first.
    public static var supportedISAs: [ISA] { ISA.allCases.filter { $0 <= bestISA } }

    public struct Topology: Sendable, Equatable {
        public let cores: Int
        public let hardwareThreads: Int
        public let l1dBytes: Int
        public let l2Bytes: Int
        public let l3Bytes: Int
    }

    /// Cores and caches as hwloc reports them.
    public static var topology: Topology {
        let t = sk_query_topology()
        return Topology(cores: Int(t.cores), hardwareThreads: Int(t.hardware_threads),
                        l1dBytes: Int(t.l1d_bytes), l2Bytes: Int(t.l2_bytes), l3Bytes: Int(t.l3_bytes))
    }

    /// True when the kernels were compiled with OpenMP.
    public static var openMPEnabled: Bool { sk_openmp_enabled() != 0 }

    /// How many distinct threads ran a parallel region that asked for `threads`.
    public static func threadsThatRan(requesting threads: Int) -> Int {
        Int(sk_openmp_threads_that_ran(Int32(clamping: threads)))
    }

    /// Pins OpenMP threads 0..<threads each to its own core. Returns false if hwloc
    /// could not bind (e.g. inside a restricted container); the kernels still run.
    @discardableResult
    public static func bindThreads(_ threads: Int) -> Bool {
        sk_bind_threads(Int32(clamping: threads)) == 0
    }

    /// Measured fp32 FMA peak (GFLOP/s) of `isa` on `threads` threads.
    public static func measuredPeakGFLOPS(isa: ISA, threads: Int, seconds: Double = 0.2) -> Double {
        sk_fma_peak_gflops(isa.cValue, Int32(clamping: threads), seconds)
    }

    /// Measured GFLOP/s of AVX-512 FMAs that each take their own zmm load from L1, with one
    /// broadcast per `fmasPerBroadcast` FMAs (0: none; 3: the N:M 8x48 mix; 4: CSR at 64
    /// columns; 6: N:M 4x96; 8: CSR at 128): the ceiling of the index-selecting sparse
    /// kernels on this core. nil without AVX-512.
    public static func measuredLoadBoundGFLOPS(fmasPerBroadcast: Int, threads: Int, seconds: Double = 0.2) -> Double? {
        guard bestISA == .avx512 else { return nil }
        return sk_load_fma_probe_gflops(Int32(clamping: fmasPerBroadcast), Int32(clamping: threads), seconds)
    }

    /// Measured read bandwidth (GB/s) streaming `bytes` bytes on `threads` threads; the
    /// default size is far beyond any L3, so it measures DRAM.
    public static func measuredReadBandwidthGBs(threads: Int, bytes: Int = 512 << 20, seconds: Double = 0.3) -> Double {
        sk_read_bandwidth_gbs(Int32(clamping: threads), bytes, seconds)
    }
}

/// Where and how wide a kernel runs: the ISA path and the OpenMP thread count.
public struct ExecutionOptions: Sendable, Equatable {
    public let isa: ISA
    public let threads: Int
    /// Blocking and kernel choices tuned for this machine, ISA and thread count (nil: the
    /// kernels' defaults, derived from the hwloc cache sizes). See `KernelTuner`.
    public var tuning: KernelTuning?

    public static let maxThreads = 256

    /// Refuses an ISA the CPU lacks and thread counts outside 1...maxThreads.
    public init(isa: ISA, threads: Int) throws(KernelError) {
        guard isa <= Machine.bestISA else {
            throw .invalidArgument("ISA \(isa) is not supported by this CPU (best: \(Machine.bestISA))")
        }
        guard (1...Self.maxThreads).contains(threads) else {
            throw .invalidArgument("thread count \(threads) must be between 1 and \(Self.maxThreads)")
        }
        self.isa = isa
        self.threads = threads
    }

    /// The defaults a user gets: the ISA named by `SIFT_ISA` if set, else the best one;
    /// the thread count named by `SIFT_THREADS` if set, else one per core.
    public static func fromEnvironment(
        isa requestedISA: ISA? = nil, threads requestedThreads: Int? = nil
    ) throws(KernelError) -> ExecutionOptions {
        let environment = ProcessInfo.processInfo.environment
        var isa = Machine.bestISA
        if let requestedISA {
            isa = requestedISA
        } else if let text = environment["SIFT_ISA"], !text.isEmpty {
            isa = try ISA(parsing: text)
        }
        var threads = Machine.topology.cores
        if let requestedThreads {
            threads = requestedThreads
        } else if let text = environment["SIFT_THREADS"], !text.isEmpty {
            guard let value = Int(text) else {
                throw .invalidArgument("SIFT_THREADS='\(text)' is not a whole number")
            }
            threads = value
        }
        return try ExecutionOptions(isa: isa, threads: threads)
    }
}
