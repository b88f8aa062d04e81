import ArgumentParser
import Foundation
import SparseKernels

/// `sift kernels list`: the kernel registry, the one table the dispatch, the tests and
/// the runtime's choice of kernel all read.
struct KernelsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every kernel of the library: format, ISA, N range, register tile, blocking, threading."
    )

    @Option(help: "Only the kernels of one format: dense, csr, nm or bsr.")
    var format: String?

    @Flag(help: "Also print each kernel's blocking and the patterns it accepts.")
    var verbose = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    /// One kernel in the JSON output.
    struct Record: Codable {
        let name: String
        let format: String
        let isa: String
        let runsHere: Bool
        let minN: Int
        let maxN: Int?
        let tileRows: Int
        let tileColumns: Int
        let rowUnit: Int
        /// Rows of X per K block by default; nil when the kernel takes all of K at once or
        /// the block is set per matrix (`kBlockPerMatrix`).
        let kBlock: Int?
        let kBlockPerMatrix: Bool
        let split: String
        let columnGrain: Int
        let minUnitsPerThread: Int
        let minMACsPerThread: Int
        let scalarFallback: Bool
        let blocking: String
        let patterns: String

        enum CodingKeys: String, CodingKey {
            case name, format, isa, split, blocking, patterns
            case runsHere = "runs_here", minN = "min_n", maxN = "max_n", tileRows = "tile_rows"
            case tileColumns = "tile_columns", rowUnit = "row_unit", kBlock = "k_block", kBlockPerMatrix = "k_block_per_matrix"
            case columnGrain = "column_grain", minUnitsPerThread = "min_units_per_thread"
            case minMACsPerThread = "min_macs_per_thread", scalarFallback = "scalar_fallback"
        }

        /// Every key is written, null where there is no value (max_n, k_block).
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(format, forKey: .format)
            try c.encode(isa, forKey: .isa)
            try c.encode(runsHere, forKey: .runsHere)
            try c.encode(minN, forKey: .minN)
            try c.encode(maxN, forKey: .maxN)
            try c.encode(tileRows, forKey: .tileRows)
            try c.encode(tileColumns, forKey: .tileColumns)
            try c.encode(rowUnit, forKey: .rowUnit)
            try c.encode(kBlock, forKey: .kBlock)
            try c.encode(kBlockPerMatrix, forKey: .kBlockPerMatrix)
            try c.encode(split, forKey: .split)
            try c.encode(columnGrain, forKey: .columnGrain)
            try c.encode(minUnitsPerThread, forKey: .minUnitsPerThread)
            try c.encode(minMACsPerThread, forKey: .minMACsPerThread)
            try c.encode(scalarFallback, forKey: .scalarFallback)
            try c.encode(blocking, forKey: .blocking)
            try c.encode(patterns, forKey: .patterns)
        }

        init(_ k: KernelInfo) {
            name = k.name
            format = k.family.rawValue
            isa = k.isa.rawValue
            runsHere = k.isa <= Machine.bestISA
            minN = k.minColumns
            maxN = k.maxColumns
            tileRows = k.tileRows
            tileColumns = k.tileColumns
            rowUnit = k.rowUnit
            if case .rows(let rows) = k.kBlock { kBlock = rows } else { kBlock = nil }
            kBlockPerMatrix = k.kBlock == .perMatrix
            split = k.split.rawValue
            columnGrain = k.columnGrain
            minUnitsPerThread = k.minUnitsPerThread
            minMACsPerThread = k.minMACsPerThread
            scalarFallback = k.isScalarFallback
            blocking = k.blocking
            patterns = k.patterns
        }
    }

    func run() throws {
        try reportingErrors {
            var kernels = KernelRegistry.all
            if let format {
                guard let family = KernelFamily(rawValue: format.lowercased()) else {
                    throw KernelError.invalidArgument("unknown format '\(format)': expected dense, csr, nm or bsr")
                }
                kernels = kernels.filter { $0.family == family }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let data = try encoder.encode(kernels.map(Record.init))
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("sift kernels list: \(kernels.count) kernels; this CPU runs \(Machine.supportedISAs.map(\.rawValue).joined(separator: ", ")).")
            print("N: the columns it computes; tile: register tile (r = the block height); unit: rows of W per work unit")
            print("(r = a block row); K block: rows of X per pass over Y; split: how threads share a multiply (/column grain).")
            print("The dispatch takes the narrowest N range, then the widest ISA (an ISA may run a narrower ISA's kernel),")
            print("then table order. --verbose adds each kernel's blocking; --json all fields.")
            let header = pad("name", 38) + pad("format", 7) + pad("isa", 7) + pad("N", 6) + pad("tile", 6)
                + pad("unit", 5) + pad("K block", 11) + pad("split", 23) + "runs here"
            print(header)
            for k in kernels {
                let split = k.split == .rows ? "rows" : "\(k.split.rawValue)/\(k.columnGrain)"
                print(pad(k.name, 38) + pad(k.family.rawValue, 7) + pad(k.isa.rawValue, 7) + pad(k.columnRange, 6)
                      + pad(k.tile, 6) + pad(k.rowUnit == 0 ? "r" : "\(k.rowUnit)", 5) + pad(k.kBlock.description, 11) + pad(split, 23)
                      + (k.isa <= Machine.bestISA ? "yes" : "no"))
                if verbose {
                    print("    blocking: \(k.blocking)")
                    print("    accepts:  \(k.patterns)" + (k.isScalarFallback ? "; the format's fallback when memory runs out" : ""))
                }
            }
        }
    }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
