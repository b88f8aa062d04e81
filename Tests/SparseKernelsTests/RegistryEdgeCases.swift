@testable import SparseKernels

/// The test cases the registry generates for one kernel: shapes at the edges of its own
/// register tile, layout unit and K block (exactly one, one less, one more, a multiple),
/// one dimension at a time around a base shape that crosses every edge once, plus a
/// forced small K block so that every multi-block path runs at small sizes. Block and N:M
/// cases include ragged edges (M or K not a multiple of the block or group).
struct RegistryEdgeCase: CustomStringConvertible {
    let m: Int, k: Int, n: Int
    /// The weight format the case prepares (the pattern of N:M and BSR cases).
    let format: WeightFormat
    let blocking: KernelBlocking
    /// The CSR layout's K block (nil: chosen by density).
    let csrKBlock: Int?

    var description: String {
        var text = "\(m)x\(k)x\(n) \(format)"
        if let kc = blocking.kBlock { text += " kc=\(kc)" }
        if let csrKBlock { text += " csr-kblock=\(csrKBlock)" }
        return text
    }

    /// W with this case's pattern (ragged edges included) and its prepared form.
    func weights(seed: UInt64) throws -> (Matrix, WeightMatrix) {
        switch format {
        case .dense:
            let w = RandomWeights.dense(rows: m, columns: k, seed: seed)
            return (w, try DenseWeights(w))
        case .csr:
            let w = try RandomWeights.matrix(rows: m, columns: k, pattern: .unstructured, sparsity: 0.6, seed: seed)
            return (w, try CSRWeights(w, kBlock: csrKBlock))
        case .nm(let n, let groupSize):
            let w = raggedNM(rows: m, columns: k, n: n, m: groupSize, seed: seed)
            return (w, try NMWeights(w, n: n, m: groupSize))
        case .bsr(let r, let c):
            let w = raggedBlocks(rows: m, columns: k, blockRows: r, blockColumns: c, seed: seed)
            return (w, try BSRWeights(w, blockRows: r, blockColumns: c))
        }
    }

    /// Every kernel's cases.
    static func cases(for kernel: KernelInfo) -> [RegistryEdgeCase] {
        switch kernel.family {
        case .dense: unitCases(kernel, format: .dense, rowUnit: kernel.rowUnit)
        case .csr: unitCases(kernel, format: .csr, rowUnit: 1)
        case .nm: nmCases(kernel)
        case .bsr: bsrCases(kernel)
        }
    }

    /// Column counts at the kernel's column edges, inside its N range.
    static func columnEdges(_ kernel: KernelInfo, extra: [Int] = []) -> [Int] {
        let tile = max(kernel.tileColumns, 1), grain = max(kernel.columnGrain, 1)
        let candidates = [1, 2, tile - 1, tile, tile + 1, 2 * tile, 2 * tile + 3, 2 * grain + 1] + extra
        return unique(candidates.filter { $0 >= 1 && kernel.accepts(columns: $0) })
    }

    /// The base N: past one tile where the kernel allows it.
    static func baseColumns(_ kernel: KernelInfo) -> Int {
        let wanted = max(kernel.tileColumns, 1) + 3
        return kernel.accepts(columns: wanted) ? wanted : (kernel.maxColumns ?? wanted)
    }

    /// Dense and CSR: the tile rows, the layout unit, the K block.
    static func unitCases(_ kernel: KernelInfo, format: WeightFormat, rowUnit: Int) -> [RegistryEdgeCase] {
        let tileRows = max(kernel.tileRows, 1), unit = max(rowUnit, 1)
        let m0 = unit + tileRows + 1, n0 = baseColumns(kernel), k0 = 37
        var cases: [RegistryEdgeCase] = []
        func add(_ m: Int, _ k: Int, _ n: Int, _ blocking: KernelBlocking = .defaults, csr: Int? = nil) {
            cases.append(RegistryEdgeCase(m: m, k: k, n: n, format: format, blocking: blocking, csrKBlock: csr))
        }
        for m in unique([1, tileRows - 1, tileRows, tileRows + 1, unit - 1, unit, unit + 1, 2 * unit + tileRows + 1]) where m >= 1 {
            add(m, k0, n0)
        }
        for n in columnEdges(kernel) { add(m0, k0, n) }
        for k in [1, 2, 7] { add(m0, k, n0) }
        switch kernel.kBlock {
        case .rows(let kb):
            for k in [kb - 1, kb, kb + 1, 2 * kb + 5] { add(m0, k, n0) }
            for k in [15, 16, 17, 40, 49] { add(m0, k, n0, KernelBlocking(kBlock: 16)) }
        case .perMatrix:
            for k in [15, 16, 17, 40, 49] { add(m0, k, n0, csr: 16) }
            for k in [95, 96, 97, 200] { add(m0, k, n0) } // density 0.4: the library picks 96
        case .none:
            for k in [16, 64, 129] { add(m0, k, n0) }
        }
        // The other tunable blocking at its extremes: N blocks of one grain and of two
        // tiles, an M block of one unit (several M blocks per part).
        if kernel.tunable.contains(.nBlock) {
            for nBlock in [16, 2 * max(kernel.tileColumns, 16)] {
                for n in [2 * kernel.tileColumns + 5, 130] where kernel.accepts(columns: n) {
                    add(m0, 40, n, KernelBlocking(kBlock: kernel.tunable.contains(.kBlock) ? 16 : nil, nBlock: nBlock))
                }
            }
        }
        if kernel.tunable.contains(.prefetch) {
            for distance in [4, 64] { add(m0, 300, n0, KernelBlocking(prefetch: distance)) }
        }
        if kernel.tunable.contains(.mBlock) {
            add(3 * unit + 1, 40, n0, KernelBlocking(kBlock: 16, mBlock: 1))
        }
        return cases
    }

    /// N:M: tile rows and 8-row tiles, groups (K a multiple of M or not), the K block at
    /// its default (K > 1024 reaches the multi-block path) and forced small.
    static func nmCases(_ kernel: KernelInfo) -> [RegistryEdgeCase] {
        let patterns: [(Int, Int)] = [(2, 4), (1, 2), (3, 8), (5, 16), (1, 1), (16, 16), (3, 4), (1, 8)]
        let tileRows = max(kernel.tileRows, 1), unit = kernel.rowUnit
        let n0 = baseColumns(kernel)
        var cases: [RegistryEdgeCase] = []
        var next = 0
        func add(_ m: Int, _ k: Int, _ n: Int, _ blocking: KernelBlocking = .defaults) {
            let (nz, group) = patterns[next % patterns.count]
            next += 1
            cases.append(RegistryEdgeCase(m: m, k: k, n: n, format: .nm(n: nz, m: group), blocking: blocking, csrKBlock: nil))
        }
        for m in unique([1, tileRows - 1, tileRows, tileRows + 1, unit - 1, unit, unit + 1, 2 * unit + 3, 33]) where m >= 1 {
            add(m, 48, n0)
        }
        for n in columnEdges(kernel, extra: [16, 17, 20, 49]) { add(unit + 3, 48, n) }
        // Every pattern with a ragged K (the last group shorter) and with whole groups.
        for (index, (nz, group)) in patterns.enumerated() {
            for k in unique([group, 3 * group, 3 * group + max(1, group / 2), 2 * group + group - 1, 37]) {
                cases.append(RegistryEdgeCase(m: unit + 1 + index, k: k, n: n0, format: .nm(n: nz, m: group),
                                              blocking: .defaults, csrKBlock: nil))
            }
        }
        if case .rows(let kb) = kernel.kBlock {
            for k in [kb - 4, kb, kb + 4, kb + 6, 2 * kb + 12] {
                cases.append(RegistryEdgeCase(m: unit + 5, k: k, n: n0, format: .nm(n: 2, m: 4), blocking: .defaults, csrKBlock: nil))
            }
            for k in [16, 17, 33, 50] {
                cases.append(RegistryEdgeCase(m: unit + 5, k: k, n: n0, format: .nm(n: 2, m: 4),
                                              blocking: KernelBlocking(kBlock: 8), csrKBlock: nil))
            }
            cases.append(RegistryEdgeCase(m: unit + 5, k: 45, n: n0, format: .nm(n: 3, m: 8),
                                          blocking: KernelBlocking(kBlock: 16), csrKBlock: nil))
        }
        return cases
    }

    /// BSR: for several block shapes, M and K around the block (ragged included) and N
    /// around the register tiles of every block height.
    static func bsrCases(_ kernel: KernelInfo) -> [RegistryEdgeCase] {
        let shapes: [(Int, Int)] = [(16, 16), (1, 1), (2, 4), (4, 2), (8, 8), (32, 1), (1, 32), (8, 16), (4, 4), (32, 32)]
        let columns = columnEdges(kernel, extra: [3, 4, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 95, 96, 97, 129])
        var cases: [RegistryEdgeCase] = []
        for (shapeIndex, (r, c)) in shapes.enumerated() {
            let format = WeightFormat.bsr(rows: r, columns: c)
            func add(_ m: Int, _ k: Int, _ n: Int) {
                cases.append(RegistryEdgeCase(m: m, k: k, n: n, format: format, blocking: .defaults, csrKBlock: nil))
            }
            let m0 = 2 * r + 3, k0 = 2 * c + 1
            let n0 = columns[(shapeIndex * 3 + 1) % columns.count]
            for m in unique([r - 1, r, r + 1, 3 * r + 5]) where m >= 1 { add(m, k0, n0) }
            for k in unique([c - 1, c, c + 1, 3 * c]) where k >= 1 { add(m0, k, n0) }
            for (index, n) in columns.enumerated() where index % shapes.count == shapeIndex || index % 3 == shapeIndex % 3 {
                add(m0, k0, n)
            }
        }
        return cases
    }

    static func unique(_ values: [Int]) -> [Int] {
        var seen = Set<Int>()
        return values.filter { seen.insert($0).inserted }
    }
}

/// An N:M matrix of any K: every group, the short last one included, holds at most
/// min(n, length) nonzeros (sometimes fewer).
func raggedNM(rows: Int, columns: Int, n: Int, m: Int, seed: UInt64) -> Matrix {
    var generator = SeededGenerator(seed: seed)
    var w = Matrix(zeros: rows, columns)
    for row in 0..<rows {
        for start in stride(from: 0, to: columns, by: m) {
            let length = min(m, columns - start)
            var positions = Array(0..<length)
            let keep = min(n, length) - (generator.nextIndex(below: 4) == 0 ? 1 : 0)
            for i in 0..<max(keep, 0) {
                positions.swapAt(i, i + generator.nextIndex(below: length - i))
                w[row, start + positions[i]] = nonzeroValue(&generator)
            }
        }
    }
    return w
}

/// A block-sparse matrix of any shape: each block, clipped at the edges, is kept (all
/// entries nonzero) with probability 1/2.
func raggedBlocks(rows: Int, columns: Int, blockRows: Int, blockColumns: Int, seed: UInt64) -> Matrix {
    var generator = SeededGenerator(seed: seed)
    var w = Matrix(zeros: rows, columns)
    for top in stride(from: 0, to: rows, by: blockRows) {
        for left in stride(from: 0, to: columns, by: blockColumns) where generator.nextIndex(below: 2) == 0 {
            for row in top..<min(top + blockRows, rows) {
                for column in left..<min(left + blockColumns, columns) { w[row, column] = nonzeroValue(&generator) }
            }
        }
    }
    return w
}

/// A value in ±[0.5, 1.5): never zero, either sign.
func nonzeroValue(_ generator: inout SeededGenerator) -> Float {
    let u = generator.nextSignedUnit()
    return u >= 0 ? u + 0.5 : u - 0.5
}
