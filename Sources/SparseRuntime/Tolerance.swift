import Foundation
import SparseIFT

/// How close the runtime's outputs must be to `ReferenceExecution`'s on the same weights
/// and input, and why.
///
/// Both compute the same function; they differ only in rounding. The reference
/// accumulates every dot product in double and rounds each node's output to float; the
/// runtime accumulates in float, in another order, with BatchNorm folded into the
/// weights and exp / tanh from polynomials. A float sum of K products carries an error
/// of at most γ_K·Σ|w||x| (γ_K = K·u/(1 - K·u), u = 2^-24), and, since rounding errors
/// have random signs, about λ·sqrt(K)·u·Σ|w||x| with overwhelming probability for
/// λ = 4 (Higham & Mary, SIAM J. Sci. Comput. 2019). To first order the relative errors
/// of the layers a signal crosses add up. So the bound, relative to the output's largest
/// magnitude, is
///
///     max |runtime - reference| <= 4 · u · Σ_path sqrt(K_l) · max |reference|
///
/// where the sum runs over the longest chain of reductions from input to output (each
/// weight layer's K; an attention's head width and sequence; a LayerNorm's or a pooling's
/// length). Measured errors on the test networks are 10-100x below it; a wrong index, a
/// missing bias or a dropped term gives errors of order 1, far above it.
public struct Tolerance: Sendable {
    /// The allowed max |difference| / max |reference|.
    public let relative: Double

    public static let lambda = 4.0
    public static let unitRoundoff = 0x1p-24

    public init(_ network: Network) {
        var path = [Double](repeating: 0, count: network.nodes.count)
        for node in network.nodes {
            let incoming = node.inputs.map { path[$0] }.max() ?? 0
            path[node.id] = incoming + (Self.reduction(node, network).map { Double($0).squareRoot() } ?? 0)
        }
        relative = Self.lambda * Self.unitRoundoff * max(1, path[network.nodes.count - 1])
    }

    /// The length of the sums a node computes, if any.
    static func reduction(_ node: Node, _ network: Network) -> Int? {
        switch node.op {
        case .conv2d(let c): return c.reduction
        case .linear(let l): return l.inFeatures
        case .layerNorm, .softmax: return node.shape.last
        case .attentionScores(let heads, _): return node.shape.count == 3 ? network.nodes[node.inputs[0]].shape[1] / heads : nil
        case .attentionContext: return node.shape.first
        case .globalAvgPool: return network.nodes[node.inputs[0]].shape.dropFirst().reduce(1, *)
        case .avgPool(let p): return p.kernel * p.kernel
        case .add: return node.inputs.count
        default: return nil
        }
    }

    /// The largest |actual - expected| as a fraction of the allowed error (<= 1 passes);
    /// infinity for different sizes or a non-finite value.
    public func worstRatio(_ actual: [Float], _ expected: [Float]) -> Double {
        guard actual.count == expected.count else { return .infinity }
        let scale = expected.reduce(0) { max($0, abs(Double($1))) }
        let allowed = relative * max(scale, Double.leastNormalMagnitude)
        var worst = 0.0
        for index in actual.indices {
            let error = abs(Double(actual[index]) - Double(expected[index]))
            guard error.isFinite else { return .infinity }
            worst = max(worst, error / allowed)
        }
        return worst
    }
}
