import Foundation

/// Sparse Wide: every layer's width is scaled by `sqrt(base)`, the dense stem and head
/// included, and the body layers made sparse. ResNets follow the authors' rule: the first
/// stage's width is computed once, `int(64·sqrt(base))`, and doubled per stage (90/180/
/// 360/720 at s = 0.5); other families floor each width separately (MobileNetV2, MLP: the
/// authors' code has neither). Because the dense layers widen too, the
/// nominal `s` overshoots the dense FLOP budget; the authors then search the uniform `s`
/// (binary search) until the whole network's forward FLOPs match the dense model's within
/// 0.1%. Transformers follow their own rule instead: `d_model` scaled by `sqrt(base)`
/// rounded up to a multiple of the head count, `d_ff = 4·d_model`, and no search (their
/// dense attention products and LM head grow with `d_model`, so at high `s` no uniform
/// sparsity of the projections could pay for them).
enum SparseWide {
    /// The width of a channel count after widening.
    struct WidthRule {
        let map: (Int) -> Int
        let summary: String
    }

    static func rule(for network: Network, base: Int) throws -> WidthRule {
        let factor = Double(base).squareRoot()
        if let transformer = network.metadata.transformer {
            // The metadata is public and settable: refuse values the rule would divide by
            // or could not widen (the zoo's GPTs always pass).
            guard transformer.heads > 0, transformer.dModel > 0, transformer.dModel % transformer.heads == 0,
                  transformer.dModel <= SizeLimits.perNode else {
                throw SparseIFTError.invalidArgument(
                    "transformer metadata d_model \(transformer.dModel), \(transformer.heads) heads: needs positive values, d_model divisible by the heads")
            }
            let heads = transformer.heads
            let target = Double(transformer.dModel) * factor / Double(heads)
            let newModel = Int((target * (1 - SparseIFT.roundingSlack)).rounded(.up)) * heads
            // Every transformer width is a multiple of d_model (d_ff = 4·d_model), so this
            // keeps d_ff = 4·d_model exactly.
            return WidthRule(
                map: { width in
                    // Exact in integers when the product fits (always, for the zoo); else in
                    // Double, which is exact enough for widths bounded by SizeLimits.
                    let (scaled, overflow) = width.multipliedReportingOverflow(by: newModel)
                    if !overflow && scaled % transformer.dModel == 0 { return scaled / transformer.dModel }
                    return Int((Double(width) * Double(newModel) / Double(transformer.dModel)).rounded())
                },
                summary: "d_model \(transformer.dModel) -> \(newModel) (sqrt(\(base)) rounded up to a multiple of \(heads) heads)")
        }
        if let first = network.metadata.firstStageWidth {
            guard first > 0, first <= SizeLimits.perNode else {
                throw SparseIFTError.invalidArgument("first stage width \(first) must be in 1...\(SizeLimits.perNode)")
            }
            // Python's int(64 * math.sqrt(base)): the same product, truncated.
            let scaledFirst = max(1, Int((Double(first) * factor).rounded(.down)))
            return WidthRule(
                map: { width in
                    // Every ResNet width is a multiple of the first stage's (x1, x2, x4, x8):
                    // scale the multiple exactly; any other width scales in proportion.
                    let (scaled, overflow) = width.multipliedReportingOverflow(by: scaledFirst)
                    if !overflow && width % first == 0 { return scaled / first }
                    return max(1, Int((Double(width) * Double(scaledFirst) / Double(first)).rounded(.down)))
                },
                summary: "widths: first stage int(\(first)·sqrt(\(base))) = \(scaledFirst), doubled per stage (the authors' ResNet rule; stem and classifier input included)")
        }
        return WidthRule(
            map: { width in max(1, Int((Double(width) * factor * (1 + SparseIFT.roundingSlack)).rounded(.down))) },
            summary: "widths x sqrt(\(base)) = x\(String(format: "%.4f", factor)), each rounded down")
    }

    /// The widened structure (sparsities not yet assigned). `base == 1` returns it unchanged.
    static func widen(_ network: Network, base: Int) throws -> Network {
        if base == 1 { return network }
        let rule = try rule(for: network, base: base)
        var rewriter = GraphRewriter(network)
        for node in network.nodes {
            let inputs = rewriter.newInputs(of: node)
            let inputShapes = inputs.map { rewriter.builder.shape(of: $0) }
            var op = node.op
            switch node.op {
            case .conv2d(var c):
                let newIn = inputShapes[0][0]
                if c.isDepthwise {
                    c.groups = newIn
                    c.outChannels = newIn
                } else if c.weight.role != .classifier {
                    c.outChannels = rule.map(c.outChannels)
                }
                c.inChannels = newIn
                op = .conv2d(c)
            case .linear(var l):
                l.inFeatures = inputShapes[0].last ?? l.inFeatures
                if l.weight.role != .classifier {
                    l.outFeatures = rule.map(l.outFeatures)
                }
                op = .linear(l)
            case .embedding(let vocabulary, let dim):
                op = .embedding(vocabulary: vocabulary, dim: rule.map(dim))
            default:
                break
            }
            rewriter.replacement[node.id] = try rewriter.builder.add(node.name, op, inputs: inputs, origin: node.origin)
        }
        var widened = try rewriter.finish()
        if let transformer = network.metadata.transformer {
            widened.metadata.transformer = TransformerShape(dModel: rule.map(transformer.dModel), heads: transformer.heads)
        }
        return widened
    }

    /// Finds the body sparsity of the widened network: the searched `s` (non-transformers),
    /// or the requested `s` when the search does not apply. Returns the notes to show.
    static func searchSparsity(widened: Network, dense: Network, requested: Double,
                               options: TransformOptions) throws -> (Double, [String]) {
        let base = try SparseIFT.base(sparsity: requested)
        var notes = [try rule(for: dense, base: base).summary]
        if dense.metadata.transformer != nil {
            // Say what is and what is not iso-FLOP, since the totals alone would mislead.
            let sparse = try SparseIFT.assignSparsity(widened, sparsity: requested, pattern: options.pattern,
                                                      distribution: options.distribution)
            func bodyMACs(_ network: Network) -> Double {
                Double(Accounting.account(network).layers.filter { $0.role?.takesNetworkSparsity == true }.reduce(0) { $0 + $1.effectiveMACs })
            }
            notes.append("transformer width rule: no search on s")
            notes.append(String(format: "sparse projections vs dense: x%.4f; the dense attention products, embeddings and LM head widen with d_model",
                                bodyMACs(sparse) / max(1, bodyMACs(dense))))
            return (requested, notes)
        }
        if !options.matchDenseFLOPs {
            notes.append("FLOP-matching search disabled")
            return (requested, notes)
        }
        if options.pattern.fixedSparsity != nil {
            notes.append("no search on s: pattern \(options.pattern) fixes the sparsity")
            return (requested, notes)
        }
        let budget = Double(Accounting.effectiveMACs(dense))
        func macs(_ s: Double) throws -> Double {
            Double(Accounting.effectiveMACs(try SparseIFT.assignSparsity(widened, sparsity: s, pattern: options.pattern,
                                                                        distribution: options.distribution)))
        }
        if try macs(requested) == budget { return (requested, notes) }
        var low = 0.0
        var high = 1 - 1e-9
        guard try macs(low) >= budget else {
            // Only possible when nothing widened (base 1): the dense network itself.
            notes.append("search: s = 0 already matches the dense FLOPs")
            return (0, notes)
        }
        guard try macs(high) <= budget else {
            throw SparseIFTError.flopMatchFailed(
                "\(dense.name) widened by base \(base): its dense layers alone exceed the dense model's FLOPs; pass --no-flop-search (TransformOptions.matchDenseFLOPs = false) to keep s as given")
        }
        // The MACs fall monotonically with s (each layer's non-zero count does).
        for _ in 0..<100 where high - low > 1e-13 {
            let middle = (low + high) / 2
            if try macs(middle) > budget { low = middle } else { high = middle }
        }
        let found = try abs(macs(low) - budget) <= abs(macs(high) - budget) ? low : high
        let gap = try macs(found) / budget - 1
        guard abs(gap) <= SparseIFT.flopMatchTolerance else {
            throw SparseIFTError.flopMatchFailed("search ended \(String(format: "%.3f", gap * 100))% away from the dense FLOPs; pass --no-flop-search (TransformOptions.matchDenseFLOPs = false) to keep s as given")
        }
        notes.append(String(format: "search: s %.4f -> %.6f matches the dense forward FLOPs (gap %+.4f%%; the closest s, where the authors' search stops at the first within 0.1%%)", requested, found, gap * 100))
        return (found, notes)
    }
}
