/// Sparse Parallel: each body layer becomes `base` parallel sparse copies whose outputs
/// are summed. The unit replaced is the layer with the BatchNorm and activation that
/// directly follow it (`conv → BN → σ`), because in the authors' ResNets each branch has
/// its own BatchNorm; where σ goes is the variant (`ParallelActivation`). A unit without
/// an activation (a block's last conv, a shortcut, a projection) is a plain sum of its
/// branches in both variants.
enum SparseParallel {
    static func apply(_ network: Network, branches: Int, roles: Set<WeightRole>, activation: ParallelActivation) throws -> Network {
        if branches == 1 { return network }
        let consumers = network.consumers
        var rewriter = GraphRewriter(network)
        var absorbed: Set<Int> = []
        for node in network.nodes {
            if absorbed.contains(node.id) { continue }
            guard SparseIFT.isTransformable(node, roles: roles) else {
                try rewriter.copy(node)
                continue
            }
            // The unit: the layer, then a BatchNorm it alone feeds, then an activation.
            var norm: Node?
            var nonlinearity: Node?
            var last = node
            if consumers[last.id].count == 1, case .batchNorm = network.nodes[consumers[last.id][0]].op {
                norm = network.nodes[consumers[last.id][0]]
                last = norm!
            }
            if consumers[last.id].count == 1, network.nodes[consumers[last.id][0]].op.isActivation {
                nonlinearity = network.nodes[consumers[last.id][0]]
                last = nonlinearity!
            }
            let input = rewriter.newInputs(of: node)
            var branchOutputs: [Int] = []
            for j in 0..<branches {
                var y = try rewriter.builder.add("\(node.name).branch\(j)", node.op, inputs: input, origin: node.origin)
                if let norm {
                    y = try rewriter.builder.add("\(norm.name).branch\(j)", .batchNorm, inputs: [y], origin: norm.origin)
                }
                if let nonlinearity, activation == .perBranch {
                    y = try rewriter.builder.add("\(nonlinearity.name).branch\(j)", nonlinearity.op, inputs: [y], origin: nonlinearity.origin)
                }
                branchOutputs.append(y)
            }
            var output = try rewriter.builder.add("\(node.name).sum", .add, inputs: branchOutputs, origin: node.origin)
            if let nonlinearity {
                output = try rewriter.builder.add(nonlinearity.name, nonlinearity.op, inputs: [output], origin: nonlinearity.origin)
            }
            for member in [node, norm, nonlinearity].compactMap({ $0 }) {
                absorbed.insert(member.id)
                rewriter.replacement[member.id] = output
            }
        }
        return try rewriter.finish()
    }
}
