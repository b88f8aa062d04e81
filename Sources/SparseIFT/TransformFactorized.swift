/// Sparse Factorized: a body layer `W` (k×k conv C_in→C_out, or linear D_in→D_out)
/// becomes `V(σ(U(x)))` with U a k×k conv C_in→d (same stride and padding) and V a 1x1
/// conv d→C_out, BatchNorm + ReLU between them for convolutions (the authors' code) and a
/// ReLU for linear layers (the paper's `V^T σ(U^T x)`); both factors are sparse at `s`,
/// `d = ceil(k²·C_in·C_out / ((1-s)(k²·C_in + C_out)))`. V keeps the layer's bias.
///
/// At `s = 0` the transform returns the dense layer itself: the formula's rank there,
/// `k²C_inC_out / (k²C_in + C_out)`, is below `min(k²C_in, C_out)`, so `V·U` could not even
/// represent `W`; "at s = 0 each member recovers the dense layer" can only mean the
/// identity transformation. `SparseIFT.transform` handles that case before calling here.
enum SparseFactorized {
    static func apply(_ network: Network, sparsity: Double, roles: Set<WeightRole>) throws -> Network {
        var rewriter = GraphRewriter(network)
        for node in network.nodes {
            guard SparseIFT.isTransformable(node, roles: roles) else {
                try rewriter.copy(node)
                continue
            }
            let input = rewriter.newInputs(of: node)
            var y: Int
            switch node.op {
            case .conv2d(let c):
                let rank = try SparseIFT.factorizedRank(reduction: c.reduction, outputs: c.outChannels, sparsity: sparsity)
                var u = c
                u.outChannels = rank
                u.bias = false
                y = try rewriter.builder.add("\(node.name).U", .conv2d(u), inputs: input, origin: node.origin)
                y = try rewriter.builder.add("\(node.name).U.bn", .batchNorm, inputs: [y], origin: node.origin)
                y = try rewriter.builder.add("\(node.name).U.relu", .relu, inputs: [y], origin: node.origin)
                var v = Conv2dSpec(inChannels: rank, outChannels: c.outChannels, kernel: 1, bias: c.bias)
                v.weight = c.weight
                y = try rewriter.builder.add("\(node.name).V", .conv2d(v), inputs: [y], origin: node.origin)
            case .linear(let l):
                let rank = try SparseIFT.factorizedRank(reduction: l.inFeatures, outputs: l.outFeatures, sparsity: sparsity)
                var u = l
                u.outFeatures = rank
                u.bias = false
                y = try rewriter.builder.add("\(node.name).U", .linear(u), inputs: input, origin: node.origin)
                y = try rewriter.builder.add("\(node.name).U.relu", .relu, inputs: [y], origin: node.origin)
                var v = l
                v.inFeatures = rank
                y = try rewriter.builder.add("\(node.name).V", .linear(v), inputs: [y], origin: node.origin)
            default:
                try rewriter.copy(node)
                continue
            }
            rewriter.replacement[node.id] = y
        }
        return try rewriter.finish()
    }
}
