/// Result types: what a product, a layer and a training step cost, and why.

/// Cycles split by cause. The causes add up to the total: the parts of the average core's
/// work (compute, task overhead, SRAM conflicts, partial-sum reduction), then what the
/// critical core lost beyond it (imbalance), and what it waited for (weight I/O, fabric).
public struct Breakdown: Sendable, Hashable, Codable {
    /// Multiply-adds at full lane rate on an average core: what no machine avoids.
    public var compute: Double = 0
    /// Task activation, control wavelets, lanes left idle by short vectors.
    public var taskOverhead: Double = 0
    /// Cycles lost to SRAM bank and port conflicts.
    public var sramConflict: Double = 0
    /// The datapath share of sending and storing partial sums.
    public var reduction: Double = 0
    /// The most loaded core's extra work over the average, and its waits on late neighbours.
    public var imbalanceIdle: Double = 0
    /// Waits for wavelets in flight, back-pressure, pipeline fill and drain.
    public var fabricStall: Double = 0
    /// Waits for the weight store's bandwidth.
    public var weightIOBound: Double = 0
    /// Norms, softmax, elementwise work, pooling, embeddings.
    public var nonMatmul: Double = 0
    /// Fixed costs per product and per step.
    public var fixedOverhead: Double = 0

    public init() {}

    public var total: Double {
        compute + taskOverhead + sramConflict + reduction + imbalanceIdle + fabricStall + weightIOBound + nonMatmul + fixedOverhead
    }

    public static func + (lhs: Breakdown, rhs: Breakdown) -> Breakdown {
        var sum = lhs
        sum.compute += rhs.compute
        sum.taskOverhead += rhs.taskOverhead
        sum.sramConflict += rhs.sramConflict
        sum.reduction += rhs.reduction
        sum.imbalanceIdle += rhs.imbalanceIdle
        sum.fabricStall += rhs.fabricStall
        sum.weightIOBound += rhs.weightIOBound
        sum.nonMatmul += rhs.nonMatmul
        sum.fixedOverhead += rhs.fixedOverhead
        return sum
    }

    public func scaled(by factor: Double) -> Breakdown {
        var result = self
        result.compute *= factor
        result.taskOverhead *= factor
        result.sramConflict *= factor
        result.reduction *= factor
        result.imbalanceIdle *= factor
        result.fabricStall *= factor
        result.weightIOBound *= factor
        result.nonMatmul *= factor
        result.fixedOverhead *= factor
        return result
    }

    /// The causes by their output names, in a fixed order (CSV columns, tables).
    public var named: [(String, Double)] {
        [("compute", compute), ("task_overhead", taskOverhead), ("sram_conflict", sramConflict), ("partial_sums", reduction),
         ("imbalance_idle", imbalanceIdle), ("fabric_stall", fabricStall), ("weight_io_bound", weightIOBound),
         ("non_matmul", nonMatmul), ("fixed_overhead", fixedOverhead)]
    }

    enum CodingKeys: String, CodingKey {
        case compute, taskOverhead = "task_overhead", sramConflict = "sram_conflict", reduction = "partial_sums"
        case imbalanceIdle = "imbalance_idle", fabricStall = "fabric_stall", weightIOBound = "weight_io_bound"
        case nonMatmul = "non_matmul", fixedOverhead = "fixed_overhead"
    }
}

/// How a figure was obtained.
public enum Fidelity: String, Sendable, Hashable, Codable {
    /// Simulated cycle by cycle (possibly on a window of groups, extrapolated: see `sampledGroups`).
    case cycle
    /// The closed-form model of the same mapping and counts.
    case analytical
    /// Costed per element (non-matmul work, fixed overheads).
    case composed
}

/// One matrix product of a training step.
public struct ProductResult: Sendable, Codable {
    public let layer: String
    public let pass: Pass
    /// The product's role when a pass has several (e.g. `dq`, `dk` of attention).
    public let label: String
    public let fidelity: Fidelity
    public let outRows: Int
    public let reduction: Int
    public let positions: Int
    public let copies: Int
    public let sparsity: Double
    public let pattern: String
    public let mapping: ProductMapping
    public let cycles: Double
    public let breakdown: Breakdown
    public let effectiveMACs: Double
    public let denseMACs: Double
    /// Effective multiply-adds over the peak of every core of the region for `cycles`.
    public let utilisation: Double
    /// The analytical model's cycles for the same product (beside the cycle-level ones).
    public let analyticalCycles: Double
    /// Output rows simulated cycle by cycle per panel, of `groupsPerPanel` (extrapolated when fewer).
    public let sampledGroups: Int
    public let simulatedPanels: Int
    /// Cycles and events the engine simulated for this product.
    public let simulatedCycles: Double
    public let events: Int

    enum CodingKeys: String, CodingKey {
        case layer, pass, label, fidelity, outRows = "out_rows", reduction, positions, copies, sparsity, pattern, mapping, cycles
        case breakdown, effectiveMACs = "effective_macs", denseMACs = "dense_macs", utilisation
        case analyticalCycles = "analytical_cycles", sampledGroups = "sampled_groups", simulatedPanels = "simulated_panels"
        case simulatedCycles = "simulated_cycles", events
    }
}

/// Non-matmul work of one node in one pass.
public struct OperationResult: Sendable, Codable {
    public let node: String
    public let kind: String
    public let pass: Pass
    public let cycles: Double

    enum CodingKeys: String, CodingKey { case node, kind, pass, cycles }
}
