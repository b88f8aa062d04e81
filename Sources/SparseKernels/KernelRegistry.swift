internal import CSparseKernels

/// One kernel of the C library, as the registry (`kernels/registry/registry.c`) describes
/// it: what it computes, where it is correct, and how it blocks and threads.
public struct KernelInfo: Sendable, Hashable, CustomStringConvertible {
    /// Position in the registry table (stable within one build of the library).
    public let index: Int
    /// `sk_f32_<op>[_<format>]__<isa>_<tile>[_<variant>]`.
    public let name: String
    public let family: KernelFamily
    /// The ISA the kernel is written for; the dispatch also uses it for wider ISAs that
    /// have no entry of their own for the call.
    public let isa: ISA
    /// The N (columns of X and Y) it computes correctly: `minColumns...(maxColumns ?? ∞)`.
    public let minColumns: Int
    public let maxColumns: Int?
    /// Register tile of the microkernel: rows (0 for BSR: the block height, at most the
    /// value in `blocking`) × columns of Y.
    public let tileRows: Int
    public let tileColumns: Int
    /// Rows of W per work unit of the layout (16-row strips, 8-row tiles, rows); 0 = one
    /// block row (BSR).
    public let rowUnit: Int
    public let kBlock: KBlock
    public let split: Split
    /// Columns per unit when threads split N.
    public let columnGrain: Int
    /// The threshold of the split rule (see `Split`).
    public let minUnitsPerThread: Int
    /// Fewer multiply-adds per thread than this: the driver uses fewer threads (0: never).
    public let minMACsPerThread: Int
    /// Needs no scratch and no shared buffer: the format's fallback when memory runs out.
    public let isScalarFallback: Bool
    /// The other blocking, packing and tail handling, in words (and which `KernelBlocking`
    /// fields it reads).
    public let blocking: String
    /// The patterns and shapes it accepts.
    public let patterns: String
    /// Interchangeable variants (the same job, the same N range) share a group; the tuner
    /// may rank one above the others of its group.
    public let group: String
    /// The `KernelBlocking` fields it reads.
    public let tunable: Tunable

    /// Blocking fields a kernel reads.
    public struct Tunable: OptionSet, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let kBlock = Tunable(rawValue: 1)
        public static let mBlock = Tunable(rawValue: 2)
        public static let nBlock = Tunable(rawValue: 4)
        public static let auxiliary = Tunable(rawValue: 8)
        public static let prefetch = Tunable(rawValue: 16)
    }

    /// The K block: the rows of X one pass over Y covers.
    public enum KBlock: Hashable, Sendable, CustomStringConvertible {
        /// All of K at once.
        case none
        /// This many rows by default (`KernelBlocking.kBlock` overrides it).
        case rows(Int)
        /// Part of the matrix's layout, chosen when it is prepared (CSR).
        case perMatrix

        public var description: String {
            switch self {
            case .none: "-"
            case .rows(let rows): "\(rows)"
            case .perMatrix: "per matrix"
            }
        }
    }

    /// How the driver splits one multiply between threads.
    public enum Split: String, Hashable, Sendable {
        /// Row units only.
        case rows
        /// Columns when there are fewer than `minUnitsPerThread` row units per thread and
        /// at least two column units per thread.
        case rowsThenColumns = "rows-then-columns"
        /// Columns when there are at least `minUnitsPerThread` column units per thread (or
        /// a multiple of the thread count).
        case columnsThenRows = "columns-then-rows"
    }

    /// Whether the kernel computes N = `columns` correctly.
    public func accepts(columns: Int) -> Bool {
        columns >= minColumns && (maxColumns.map { columns <= $0 } ?? true)
    }

    /// "1..1", "1..8", "1..".
    public var columnRange: String { "\(minColumns).." + (maxColumns.map(String.init) ?? "") }

    /// "8x48", "rx48" (BSR: block height rows).
    public var tile: String { "\(tileRows == 0 ? "r" : String(tileRows))x\(tileColumns)" }

    public var description: String { name }

    init(index: Int, _ c: sk_kernel_info) {
        self.index = index
        name = String(cString: c.name)
        switch c.format {
        case SK_FORMAT_DENSE: family = .dense
        case SK_FORMAT_CSR: family = .csr
        case SK_FORMAT_NM: family = .nm
        default: family = .bsr
        }
        switch c.isa {
        case SK_ISA_AVX512: isa = .avx512
        case SK_ISA_AVX2: isa = .avx2
        default: isa = .scalar
        }
        minColumns = Int(c.min_n)
        maxColumns = c.max_n == 0 ? nil : Int(c.max_n)
        tileRows = Int(c.tile_rows)
        tileColumns = Int(c.tile_cols)
        rowUnit = Int(c.row_unit)
        kBlock = c.kblock == 0 ? .none : c.kblock < 0 ? .perMatrix : .rows(Int(c.kblock))
        switch c.split {
        case SK_SPLIT_ROWS_THEN_COLUMNS: split = .rowsThenColumns
        case SK_SPLIT_COLUMNS_THEN_ROWS: split = .columnsThenRows
        default: split = .rows
        }
        columnGrain = Int(c.col_grain)
        minUnitsPerThread = Int(c.min_units_per_thread)
        minMACsPerThread = Int(c.min_macs_per_thread)
        isScalarFallback = c.scalar_fallback != 0
        blocking = String(cString: c.blocking)
        patterns = String(cString: c.patterns)
        group = String(cString: c.group)
        tunable = Tunable(rawValue: Int(c.tunable))
    }
}

/// Blocking of one multiply. nil fields take the kernel's default, derived from the cache
/// sizes hwloc reports; which fields a kernel reads is in its `KernelInfo.blocking`.
public struct KernelBlocking: Sendable, Hashable {
    /// K block, in rows of X.
    public var kBlock: Int?
    /// M block, in the kernel's row units.
    public var mBlock: Int?
    /// N block, in columns.
    public var nBlock: Int?
    /// The kernel-specific knob its `blocking` text names.
    public var auxiliary: Int?
    /// Software prefetch distance in the kernel's steps (0: off).
    public var prefetch: Int?

    public init(kBlock: Int? = nil, mBlock: Int? = nil, nBlock: Int? = nil, auxiliary: Int? = nil, prefetch: Int? = nil) {
        self.kBlock = kBlock
        self.mBlock = mBlock
        self.nBlock = nBlock
        self.auxiliary = auxiliary
        self.prefetch = prefetch
    }

    public static let defaults = KernelBlocking()

    /// Largest value any field may take.
    public static let maxValue = 1 << 24

    func validate() throws(KernelError) {
        for (name, value) in [("K block", kBlock), ("M block", mBlock), ("N block", nBlock), ("auxiliary", auxiliary)] {
            if let value, !(1...Self.maxValue).contains(value) {
                throw .invalidArgument("\(name) \(value) must be between 1 and \(Self.maxValue)")
            }
        }
        if let prefetch, !(0...Self.maxValue).contains(prefetch) {
            throw .invalidArgument("prefetch distance \(prefetch) must be between 0 and \(Self.maxValue)")
        }
    }

    var cValue: sk_params {
        sk_params(kc: Int64(kBlock ?? 0), mc: Int64(mBlock ?? 0), nc: Int64(nBlock ?? 0), aux: Int64(auxiliary ?? 0),
                  pf: Int64(prefetch ?? 0))
    }
}

/// The list of every kernel, and the choice among them. The runtime asks it which
/// kernels can run a weight at a given N (`candidates`), and which one the library would
/// pick (`defaultKernel`).
public enum KernelRegistry {
    /// Every kernel, in table order.
    public static let all: [KernelInfo] = (0..<Int(sk_kernel_count())).map { index in
        KernelInfo(index: index, sk_kernel_at(Int32(index)).pointee)
    }

    /// The kernel with this name, or nil.
    public static func named(_ name: String) -> KernelInfo? { all.first { $0.name == name } }

    /// The kernels of one family, in table order.
    public static func kernels(of family: KernelFamily) -> [KernelInfo] { all.filter { $0.family == family } }

    /// The kernel the library runs for `weights` at N = `columns` with these options (and
    /// their tuning, if any): `plan(for:columns:options:)`'s kernel.
    public static func defaultKernel(for weights: WeightMatrix, columns: Int, options: ExecutionOptions) -> KernelInfo? {
        plan(for: weights, columns: columns, options: options)?.kernel
    }

    /// The C library's own choice (no tuning), for the test that keeps the two in step.
    static func untunedChoice(for weights: WeightMatrix, columns: Int, options: ExecutionOptions) -> KernelInfo? {
        guard columns >= 1 else { return nil }
        let index = Int(sk_kernel_select(weights.cHandle, Int64(columns), options.isa.cValue, Int32(options.threads)))
        return all.indices.contains(index) ? all[index] : nil
    }

    /// Every kernel that computes `weights` at N = `columns` correctly with an ISA up to
    /// `options.isa`: the default choice first, then by ISA (widest first) and table order.
    public static func candidates(for weights: WeightMatrix, columns: Int, options: ExecutionOptions) -> [KernelInfo] {
        let preferred = defaultKernel(for: weights, columns: columns, options: options)
        let fitting = all.filter {
            $0.family == weights.format.family && $0.isa <= options.isa && $0.accepts(columns: columns)
        }
        let others = fitting.filter { $0 != preferred }.sorted { a, b in
            a.isa != b.isa ? a.isa > b.isa : a.index < b.index
        }
        return (preferred.map { [$0] } ?? []) + others
    }
}
