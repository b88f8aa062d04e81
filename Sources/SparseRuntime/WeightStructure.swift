internal import CSparseKernels
import SparseKernels

/// What a weight matrix's zeros allow, detected from the weights themselves (not from
/// the pattern the network declares): the formats a layer may be offered.
public struct WeightStructure: Hashable, Sendable {
    public let rows: Int
    public let columns: Int
    public let nonzeros: Int
    /// The sparsest N:M (M <= 16) the mask satisfies, if it is sparser than dense.
    public let nOfM: (n: Int, m: Int)?
    /// The largest block shape whose stored blocks are all full (an exact block mask).
    public let block: (rows: Int, columns: Int)?

    public var sparsity: Double { 1 - Double(nonzeros) / Double(max(1, rows * columns)) }

    public static func == (a: Self, b: Self) -> Bool {
        a.rows == b.rows && a.columns == b.columns && a.nonzeros == b.nonzeros
            && a.nOfM?.n == b.nOfM?.n && a.nOfM?.m == b.nOfM?.m
            && a.block?.rows == b.block?.rows && a.block?.columns == b.block?.columns
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rows)
        hasher.combine(columns)
        hasher.combine(nonzeros)
        hasher.combine(nOfM?.n)
        hasher.combine(nOfM?.m)
        hasher.combine(block?.rows)
        hasher.combine(block?.columns)
    }

    /// Scans a `rows x columns` row-major matrix (in C: this runs on every weight of the
    /// network when a plan is built, debug builds included).
    ///
    /// N:M candidates are the power-of-two groups (2, 4, 8, 16: what N:M masks use) and
    /// the group of the pattern the network declares, if it is N:M: a random 90% mask
    /// also "is" 4:15, which no N:M kernel would run well.
    static func detect(_ weights: UnsafeBufferPointer<Float>, rows: Int, columns: Int,
                       declared: SparsityPattern? = nil) throws -> WeightStructure {
        var groups = [2, 4, 8, 16]
        if case .nOfM(_, let m)? = declared, !groups.contains(m) { groups.append(m) }
        groups = groups.filter { $0 >= 2 && $0 <= min(16, KernelCapabilities.nmMaxGroupSize) }
        let groupBits = groups.reduce(UInt32(0)) { $0 | (1 << UInt32($1)) }
        var result = sk_op_structure()
        guard sk_op_detect_structure(Int64(rows), Int64(columns), weights.baseAddress, Int64(columns), groupBits, &result) == 0 else {
            throw RuntimeError.memoryLimit("cannot allocate the \(rows)x\(columns) byte map to detect a weight's structure")
        }
        let nonzeros = Int(result.nonzeros)
        // N:M: the smallest n/m ratio below 1; among equal ratios the smaller group
        // (2:4 rather than 4:8: fewer index bits, same work).
        var best: (n: Int, m: Int)?
        let maxima = withUnsafeBytes(of: result.nm_max) { Array($0.bindMemory(to: Int64.self)) }
        for m in groups {
            let n = max(1, Int(maxima[m]))
            guard n < m else { continue }
            if let current = best, Double(n) / Double(m) >= Double(current.n) / Double(current.m) { continue }
            best = (n, m)
        }
        // Blocks: exact shapes (the stored blocks' in-bounds area == nonzeros: every
        // stored block is full), largest block first, then the squarer shape.
        var block: (rows: Int, columns: Int)?
        let areas = withUnsafeBytes(of: result.block_area) { Array($0.bindMemory(to: Int64.self)) }
        let edgeCount = Int(SK_OP_BLOCK_EDGE_COUNT)
        for i in 0..<edgeCount {
            for j in 0..<edgeCount {
                let r = Int(sk_op_block_edge(Int32(i))), c = Int(sk_op_block_edge(Int32(j)))
                guard Int(areas[i * edgeCount + j]) == nonzeros, r * c > 1,
                      KernelCapabilities.bsrBlockEdges.contains(r), KernelCapabilities.bsrBlockEdges.contains(c) else { continue }
                // Compared by the block's extent within the matrix (a 32-row block of a
                // 16-row matrix is a 16-row block), then the smaller (unclipped) shape,
                // then the squarer one.
                if let current = block {
                    let area = min(r, rows) * min(c, columns), currentArea = min(current.rows, rows) * min(current.columns, columns)
                    if area < currentArea { continue }
                    if area == currentArea {
                        let (nominal, currentNominal) = (r * c, current.rows * current.columns)
                        if nominal > currentNominal { continue }
                        if nominal == currentNominal && abs(r - c) >= abs(current.rows - current.columns) { continue }
                    }
                }
                block = (r, c)
            }
        }
        return WeightStructure(rows: rows, columns: columns, nonzeros: nonzeros,
                               nOfM: nonzeros < rows * columns ? best : nil,
                               block: nonzeros < rows * columns ? block : nil)
    }

    /// The block shape BSR uses on a layer with no exact block structure when it is forced
    /// (any matrix can be stored in it, zero-filled): 4x4.
    var fallbackBlock: (rows: Int, columns: Int) { (4, 4) }
}
