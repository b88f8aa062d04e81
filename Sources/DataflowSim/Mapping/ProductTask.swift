/// One matrix product of a training step, for the whole batch, in the form the dataflow
/// runs it: a stream of `outRows` groups (output rows), each bringing one wavelet per
/// non-zero weight of that row, reduced over `reduction` (split across core rows), applied
/// to `positions` resident columns (split across core columns).
public enum Pass: String, Sendable, Hashable, Codable, CaseIterable {
    case forward
    case inputGradient = "input_gradient"
    case weightGradient = "weight_gradient"
}

struct ProductTask: Sendable {
    enum Weights: Sendable {
        case dense
        /// Oriented `outRows × reduction` (transposed already for the input gradient).
        case sparse(MaskBits)
    }

    let layer: String
    let pass: Pass
    /// A short label for the product's role when a pass has several (attention backward).
    let label: String
    /// `axpy` (forward, input gradient) or `dot` (weight gradient).
    let op: VectorOp
    let outRows: Int
    let reduction: Int
    let positions: Int
    /// Independent copies (attention heads × samples, convolution groups), each on its own
    /// part of the region.
    let copies: Int
    let weights: Weights
    /// The stream comes from MemoryX (weights); otherwise from the wafer (attention operands).
    let fromWeightStore: Bool
    /// The weight gradient: partial dot products are summed along a row of identical cores
    /// and the gradients stream out to MemoryX.
    let isWeightGradient: Bool
    /// Sparsity label and pattern, for reports.
    let sparsity: Double
    let pattern: String

    /// Non-zero weights of one copy.
    var nonzeros: Int {
        switch weights {
        case .dense: outRows * reduction
        case .sparse(let mask): mask.nonzeros
        }
    }

    var isSparse: Bool {
        if case .sparse = weights { return true }
        return false
    }

    /// Multiply-adds that remain when zero weights are skipped, all copies.
    var effectiveMACs: Double { Double(nonzeros) * Double(positions) * Double(copies) }
    /// Multiply-adds with every weight present.
    var denseMACs: Double { Double(outRows) * Double(reduction) * Double(positions) * Double(copies) }
}
