/// A multi-layer perceptron: `Linear → ReLU` for every hidden layer, then a classifier.
/// There is no stem in an MLP: every layer but the last (the classifier) is sparse.
public enum MLP {
    /// The widest layer the zoo builds (2^24): two such layers already hold 2^48 weights.
    public static let maxWidth = 1 << 24

    /// `widths` lists the input width first, then each layer's output width.
    public static func build(widths: [Int], name: String = "mlp") throws -> Network {
        guard widths.count >= 2 else {
            throw SparseIFTError.invalidArgument("an MLP needs at least two widths (input and output), got \(widths)")
        }
        if let bad = widths.first(where: { $0 < 1 || $0 > maxWidth }) {
            throw SparseIFTError.invalidArgument("MLP width \(bad) is outside 1...\(maxWidth) (2^24, the largest width the toolkit builds)")
        }
        var b = NetworkBuilder()
        var x = try b.add("input", .input(shape: [widths[0]]))
        for layer in 1..<widths.count {
            let isLast = layer == widths.count - 1
            x = try b.linear("fc\(layer)", x, out: widths[layer], bias: true, role: isLast ? .classifier : .body)
            if !isLast {
                x = try b.unary("relu\(layer)", .relu, x)
            }
        }
        return try b.build(name: name, metadata: NetworkMetadata(parallelActivation: .perBranch, family: .mlp))
    }
}
