import SiftCore

/// How a mapper cuts a product among cores: in weight streaming, its output rows into
/// panels and its reduction into core-row slices; in pipelined execution, its reduction
/// into core rows and its outputs into core columns.
public enum SlicingPolicy: String, Sendable, Hashable, CaseIterable {
    /// Equal slices, whatever the mask.
    case uniform
    /// Equal slices whose reduction edges fall on the mask's structure grid (block edges,
    /// N:M groups), so no block or group is cut between two cores.
    case aligned
    /// Slices that equalise the non-zeros each core gets (the masks are static, so a
    /// compiler knows them): contiguous, of any width the SRAM allows.
    case balanced
}

/// The grid a mask's structure is laid on, in a product's orientation (output rows ×
/// reduction): blocks' edges, N:M groups along the reduction of W; 1 × 1 when unstructured.
struct StructureGrid: Hashable, Sendable {
    let outRows: Int
    let reduction: Int

    static let none = StructureGrid(outRows: 1, reduction: 1)

    /// The grid of `pattern` on W (`transposed` false) or on Wᵀ (the input gradient).
    static func of(_ pattern: SparsityPattern, transposed: Bool) -> StructureGrid {
        let grid: StructureGrid
        switch pattern {
        case .unstructured: grid = .none
        case .nOfM(_, let m): grid = StructureGrid(outRows: 1, reduction: m)
        case .block(let rows, let columns): grid = StructureGrid(outRows: rows, reduction: columns)
        }
        return transposed ? StructureGrid(outRows: grid.reduction, reduction: grid.outRows) : grid
    }
}

/// Where each panel's output rows and each core row's reduction slice begin and end, in
/// weight streaming. Panel p holds output rows `groupStarts[p]..<groupStarts[p + 1]`; its
/// core row r holds the reduction slice `bounds[p·(rows + 1) + r]..<bounds[p·(rows + 1) + r + 1]`
/// (possibly empty when balancing leaves a core row nothing to do).
struct SliceLayout: Sendable {
    let rows: Int
    let groupStarts: [Int]
    let bounds: [Int]

    var panels: Int { groupStarts.count - 1 }

    func groups(panel: Int) -> Range<Int> { groupStarts[panel]..<groupStarts[panel + 1] }

    func slice(panel: Int, row: Int) -> Range<Int> {
        let base = panel * (rows + 1) + row
        return bounds[base]..<bounds[base + 1]
    }

    var largestPanel: Int { (0..<panels).map { groups(panel: $0).count }.max() ?? 0 }

    var widestSlice: Int {
        var widest = 0
        for panel in 0..<panels { for row in 0..<rows { widest = max(widest, slice(panel: panel, row: row).count) } }
        return widest
    }

    /// Equal panels of `groupsPerPanel` output rows and equal slices of `reductionPerRow`.
    static func uniform(outRows: Int, reduction: Int, groupsPerPanel: Int, rows: Int, reductionPerRow: Int) -> SliceLayout {
        let panels = (outRows + groupsPerPanel - 1) / groupsPerPanel
        let groupStarts = (0...panels).map { min(outRows, $0 * groupsPerPanel) }
        let row = (0...rows).map { min(reduction, $0 * reductionPerRow) }
        return SliceLayout(rows: rows, groupStarts: groupStarts, bounds: Array([[Int]](repeating: row, count: panels).joined()))
    }

    /// Panels and slices that equalise the work: output rows are cut into at most `panels`
    /// contiguous panels of about equal `groupLoad` (each at most `maxGroups` rows), then
    /// each panel's reduction into `rows` contiguous slices of about equal non-zeros (each
    /// at most `maxWidth(groups)` wide, what the SRAM holds for a panel of that many rows).
    static func balanced(mask: MaskBits, panels: Int, rows: Int, maxGroups: Int, groupLoad: (Int) -> Double,
                         maxWidth: (Int) -> Int) -> SliceLayout {
        let outRows = mask.rows
        let reduction = mask.columns
        let loads = (0..<outRows).map(groupLoad)
        let groupStarts = Partition.contiguous(loads, parts: panels, maxLength: maxGroups)
            .reduce(into: [Int]()) { starts, start in if starts.last != start { starts.append(start) } }
        var bounds: [Int] = []
        var columnLoads = [Double](repeating: 0, count: reduction)
        for panel in 0..<(groupStarts.count - 1) {
            for index in columnLoads.indices { columnLoads[index] = 0 }
            mask.addColumnCounts(rows: groupStarts[panel]..<groupStarts[panel + 1], to: &columnLoads)
            let width = maxWidth(groupStarts[panel + 1] - groupStarts[panel])
            var cuts = Partition.contiguous(columnLoads, parts: rows, maxLength: width)
            while cuts.count < rows + 1 { cuts.append(reduction) }
            bounds += cuts
        }
        return SliceLayout(rows: rows, groupStarts: groupStarts, bounds: bounds)
    }
}

/// Contiguous partitions of a sequence of loads.
enum Partition {
    /// Cuts `loads` into at most `parts` contiguous pieces, each at most `maxLength` long,
    /// minimising the largest piece's sum (to 1e-6 relative: a bisection on the largest sum,
    /// each step a greedy pass); returns the cut points, from 0 to `loads.count`. The caller
    /// guarantees `parts · maxLength >= loads.count`.
    static func contiguous(_ loads: [Double], parts: Int, maxLength: Int) -> [Int] {
        let count = loads.count
        guard count > 0, parts > 1 else { return [0, count] }
        let length = max(1, maxLength)
        var prefix = [Double](repeating: 0, count: count + 1)
        for index in 0..<count { prefix[index + 1] = prefix[index] + loads[index] }
        /// Greedy cuts under a capacity: each piece takes loads while they fit (at least one,
        /// at most `length`); each cut found by bisection on the prefix sums. Stops early
        /// (returning more than `parts + 1` cuts) once the pieces outnumber `parts`.
        func cuts(capacity: Double) -> [Int] {
            var result = [0]
            var start = 0
            while start < count, result.count <= parts + 1 {
                // The last end (start + 1 ... start + length) whose piece fits the capacity.
                var good = start + 1
                var bad = min(count, start + length) + 1
                while bad - good > 1 {
                    let middle = (good + bad) / 2
                    if prefix[middle] - prefix[start] <= capacity { good = middle } else { bad = middle }
                }
                result.append(good)
                start = good
            }
            if start < count { result.append(count) }
            return result
        }
        let total = prefix[count]
        var low = max(loads.max() ?? 0, total / Double(parts))
        var high = max(low, total)
        if cuts(capacity: low).count - 1 <= parts { return cuts(capacity: low) }
        for _ in 0..<64 where high - low > 1e-6 * max(1, high) {
            let middle = (low + high) / 2
            if cuts(capacity: middle).count - 1 <= parts { high = middle } else { low = middle }
        }
        return cuts(capacity: high)
    }
}
