/// Sparse Doped: a body layer `W` becomes `W_sparse(x) + V(U(x))`: the layer itself at
/// sparsity `s` (same name, so its weights carry over) plus a dense low-rank path with no
/// nonlinearity, U a k×k conv C_in→d (same stride and padding) and V a 1x1 conv d→C_out
/// (linear D_in→d→D_out for linear layers), `d = floor(s·k²·C_in·C_out / (k²·C_in + C_out))`.
/// At `s = 0`, `d = 0` and the layer is exactly the dense one.
enum SparseDoped {
    static func apply(_ network: Network, sparsity: Double, roles: Set<WeightRole>) throws -> Network {
        var rewriter = GraphRewriter(network)
        for node in network.nodes {
            guard SparseIFT.isTransformable(node, roles: roles) else {
                try rewriter.copy(node)
                continue
            }
            let input = rewriter.newInputs(of: node)
            let sparsePath = try rewriter.builder.add(node.name, node.op, inputs: input, origin: node.origin)
            var lowRank: Int
            switch node.op {
            case .conv2d(let c):
                let rank = try SparseIFT.dopedRank(reduction: c.reduction, outputs: c.outChannels, sparsity: sparsity)
                guard rank > 0 else {
                    rewriter.replacement[node.id] = sparsePath
                    continue
                }
                let u = Conv2dSpec(inChannels: c.inChannels, outChannels: rank, kernel: c.kernelHeight, stride: c.stride,
                                   padding: c.padding, role: .lowRank)
                lowRank = try rewriter.builder.add("\(node.name).U", .conv2d(u), inputs: input, origin: node.origin)
                let v = Conv2dSpec(inChannels: rank, outChannels: c.outChannels, kernel: 1, role: .lowRank)
                lowRank = try rewriter.builder.add("\(node.name).V", .conv2d(v), inputs: [lowRank], origin: node.origin)
            case .linear(let l):
                let rank = try SparseIFT.dopedRank(reduction: l.inFeatures, outputs: l.outFeatures, sparsity: sparsity)
                guard rank > 0 else {
                    rewriter.replacement[node.id] = sparsePath
                    continue
                }
                let u = LinearSpec(inFeatures: l.inFeatures, outFeatures: rank, bias: false, role: .lowRank)
                lowRank = try rewriter.builder.add("\(node.name).U", .linear(u), inputs: input, origin: node.origin)
                let v = LinearSpec(inFeatures: rank, outFeatures: l.outFeatures, bias: false, role: .lowRank)
                lowRank = try rewriter.builder.add("\(node.name).V", .linear(v), inputs: [lowRank], origin: node.origin)
            default:
                rewriter.replacement[node.id] = sparsePath
                continue
            }
            rewriter.replacement[node.id] = try rewriter.builder.add("\(node.name).sum", .add, inputs: [sparsePath, lowRank], origin: node.origin)
        }
        return try rewriter.finish()
    }
}
