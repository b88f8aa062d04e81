/// Epilogue fusion: what a kernel can do while its results are still in registers.
/// - A sum of weight layers (residual connections, Sparse Parallel's branches, Sparse
///   Doped's two paths) becomes a chain: each layer adds the previous partial sum as its
///   epilogue's residual, so the sum costs no pass of its own.
/// - An activation that reads a single-use kernel or operator output is applied in that
///   kernel's store.
/// - scores → softmax → context becomes one attention operator.
extension Graph {
    /// Merges a sum into the sum that alone reads it (`(a + b) + c` → `a + b + c`), so the
    /// residual chain below sees every term: Sparse Parallel's branch sum and Sparse
    /// Doped's two paths then join the block's shortcut in one chain.
    mutating func flattenSums() {
        var changed = true
        while changed {
            changed = false
            for id in nodes.indices where !nodes[id].removed {
                guard case .add(.none) = nodes[id].op else { continue }
                let consumers = consumers()
                for (position, input) in nodes[id].inputs.enumerated() {
                    guard case .add(.none) = nodes[input].op, consumers[input] == [id] else { continue }
                    nodes[id].inputs.replaceSubrange(position...position, with: nodes[input].inputs)
                    nodes[id].fused.append(nodes[input].name)
                    nodes[id].fused += nodes[input].fused
                    nodes[input].removed = true
                    changed = true
                    break
                }
            }
        }
    }

    mutating func fuseResidualAdds() {
        for id in nodes.indices where !nodes[id].removed {
            guard case .add(.none) = nodes[id].op else { continue }
            let consumers = consumers()
            let inputs = nodes[id].inputs
            // Terms that can carry the sum: weight layers read by this add alone, with an
            // empty epilogue. In graph order, so each one's residual is computed before it.
            let chain = inputs.filter { input in
                guard consumers[input] == [id], case .gemm(let g) = nodes[input].op else { return false }
                return g.activation == .none && !g.hasResidual
            }.sorted()
            guard let last = chain.last else { continue }
            let others = inputs.filter { !chain.contains($0) }
            replaceUses(of: id, with: last)
            var residual: Int?
            switch others.count {
            case 0:
                residual = nil
            case 1:
                residual = others[0]
            default:  // the add stays, summing the other terms, and starts the chain
                nodes[id].inputs = others
                residual = id
            }
            if others.count < 2 {
                nodes[last].fused += [nodes[id].name] + nodes[id].fused
                nodes[id].removed = true
            }
            for (position, term) in chain.enumerated() {
                guard let source = position == 0 ? residual : chain[position - 1] else { continue }
                guard case .gemm(var g) = nodes[term].op else { continue }
                g.hasResidual = true
                nodes[term].op = .gemm(g)
                nodes[term].inputs.append(source)
            }
        }
    }

    mutating func fuseActivations() {
        for id in nodes.indices where !nodes[id].removed {
            guard case .activation(let act) = nodes[id].op, let producer = nodes[id].inputs.first,
                  consumers()[producer] == [id] else { continue }
            switch nodes[producer].op {
            case .gemm(var g) where g.activation == .none:
                g.activation = act
                nodes[producer].op = .gemm(g)
            case .depthwise(var d) where d.activation == .none:
                d.activation = act
                nodes[producer].op = .depthwise(d)
            case .affine(let scale, let shift, .none):
                nodes[producer].op = .affine(scale: scale, shift: shift, activation: act)
            case .add(.none):
                nodes[producer].op = .add(act)
            default:
                continue
            }
            fuse(id, into: producer)
        }
    }

    mutating func fuseAttention() {
        for id in nodes.indices where !nodes[id].removed {
            guard case .attentionContext(let heads) = nodes[id].op, nodes[id].inputs.count == 2 else { continue }
            let consumers = consumers()
            let (probabilities, v) = (nodes[id].inputs[0], nodes[id].inputs[1])
            guard case .softmax = nodes[probabilities].op, consumers[probabilities] == [id],
                  let scores = nodes[probabilities].inputs.first,
                  case .attentionScores(let scoreHeads, let causal) = nodes[scores].op, scoreHeads == heads,
                  consumers[scores] == [probabilities] else { continue }
            nodes[id].op = .attention(heads: heads, causal: causal)
            nodes[id].inputs = nodes[scores].inputs + [v]
            nodes[id].fused += [nodes[scores].name, nodes[probabilities].name]
            nodes[scores].removed = true
            nodes[probabilities].removed = true
        }
    }

    /// The live nodes in an order that computes every input first: the graph's own order
    /// where it allows (fusion adds dependencies, e.g. a residual computed later in the
    /// original order), found by always taking the lowest ready id.
    func schedule() throws -> [Int] {
        let live = nodes.filter { !$0.removed }.map(\.id)
        var remaining = Set(live)
        var done = Set<Int>()
        var order: [Int] = []
        while !remaining.isEmpty {
            guard let next = remaining.filter({ id in nodes[id].inputs.allSatisfy { done.contains($0) } }).min() else {
                throw RuntimeError.unsupported("the fused graph has a dependency cycle (a compiler bug)")
            }
            order.append(next)
            done.insert(next)
            remaining.remove(next)
        }
        // Only what the output needs.
        var needed = Set([output])
        for id in order.reversed() where needed.contains(id) { needed.formUnion(nodes[id].inputs) }
        return order.filter { needed.contains($0) }
    }
}
