import Foundation

/// The remarks `sift transform` prints under a transformed network: where it departs from
/// the authors' released code (CerebrasResearch/Sparse-IFT) and why, when a member is not
/// iso-FLOP and why, and when no specialised CPU kernel runs the pattern. A reader of the
/// totals must never be misled by something the notes leave unsaid.
enum TransformNotes {
    /// How far a member's whole-network forward FLOPs may depart from the dense model's
    /// before the notes say so (the rank and non-zero roundings alone stay well below).
    static let isoFLOPThreshold = 0.01

    /// The differences from the authors' code (and the rules used where they have none).
    static func conventions(kind: TransformKind, sparsity: Double, dense: Network, options: TransformOptions) -> [String] {
        guard sparsity > 0, kind != .dense else { return [] }
        let family = dense.metadata.family
        let isResNet = family == .resnetCIFAR || family == .resnetImageNet
        var notes: [String] = []
        switch (kind, family) {
        case (.wide, .mobileNetV2):
            notes.append("the authors' code has no MobileNetV2: every width is floored separately (torchvision's width multiplier would round to multiples of 8)")
        case (.wide, .mlp):
            notes.append("the authors' code has no MLP: every hidden width is floored separately; the input is not widened")
        case (_, .gpt):
            notes.append("the authors' released code has no GPT model: the paper's rules are followed")
        case (_, .mobileNetV2):
            notes.append("the authors' code has no MobileNetV2: every 1x1 conv is transformed, the depthwise convs stay dense")
        case (_, .mlp):
            notes.append("the authors' code has no MLP: every hidden layer is transformed")
        default:
            break
        }
        if kind == .parallel || kind == .factorized || kind == .doped {
            if isResNet && options.transformShortcuts {
                notes.append("--transform-shortcuts: the 1x1 projection shortcuts are transformed too; the authors' ResNets keep each one a single sparse conv + BN")
            }
            if family == .resnetImageNet && kind != .parallel {
                notes.append("the authors' ImageNet code has no Sparse \(kind.rawValue.capitalized) ResNet: their CIFAR blocks are followed")
            }
        }
        if kind == .factorized && (family == .mlp || family == .gpt) {
            notes.append("linear layers become V(ReLU(U x)), the paper's sigma (the authors' code factorizes convs, with BN + ReLU between U and V)")
        }
        if kind == .doped {
            notes.append(options.dopedLowRank == .dense
                ? "U and V dense, as in the paper (iso-FLOP); the authors' released code masks them at s too (--doped-lowrank sparse)"
                : "U and V masked at s, as in the authors' released code; the paper keeps them dense (iso-FLOP)")
        }
        return notes
    }

    /// Says when Parallel, Factorized or Doped is not iso-FLOP, with every cause: the ERK
    /// distribution (matches the parameter count, not the FLOPs), a branch count rounded
    /// from a non-integer `1/(1-s)`, the untransformed shortcuts (sparse at s, so below
    /// their dense FLOPs), Doped's masked U and V, the rank rounding. Sparse Wide's notes
    /// come from its search; `dense` is the sparse baseline, not iso-FLOP by definition.
    static func isoFLOP(kind: TransformKind, sparsity: Double, base: Int, transformed: Network, dense: Network,
                        options: TransformOptions) -> [String] {
        guard sparsity > 0, kind == .parallel || kind == .factorized || kind == .doped else { return [] }
        let ratio = Double(Accounting.effectiveMACs(transformed)) / Double(max(1, Accounting.account(dense).macs))
        guard abs(ratio - 1) > isoFLOPThreshold else { return [] }
        var causes: [String] = []
        if options.distribution == .erk {
            causes.append("the ERK distribution matches the parameter count, not the FLOPs")
        }
        if kind == .parallel, abs(1 / (1 - sparsity) - Double(base)) > 1e-9 {
            causes.append(String(format: "1/(1-s) = %.4g is not an integer; the branch count is round(1/(1-s)) = %d", 1 / (1 - sparsity), base))
        }
        let shortcuts = dense.nodes.filter { $0.op.weight?.role == .shortcut }
        if !shortcuts.isEmpty && !options.transformShortcuts {
            causes.append("the \(shortcuts.count) 1x1 projection shortcuts stay single sparse convs (the authors' structure), at 1-s of their dense FLOPs")
        }
        if kind == .doped && options.dopedLowRank == .sparse {
            causes.append("U and V are masked at s (the released code's Doped)")
        }
        if kind == .factorized || (kind == .doped && options.dopedLowRank == .dense) {
            let replaced = transformedLayersRatio(transformed: transformed, dense: dense, roles: options.transformedRoles)
            if abs(replaced - 1) > SparseIFT.flopMatchTolerance || causes.isEmpty {
                causes.append(String(format: "the rounded %@ ranks (x%.4f on the transformed layers)", kind.rawValue, replaced))
            }
        }
        return ["not iso-FLOP: " + causes.joined(separator: "; ") + String(format: "; forward FLOPs x%.4f vs dense", ratio)]
    }

    /// Effective MACs of everything that replaced the transformed layers, over their dense MACs.
    static func transformedLayersRatio(transformed: Network, dense: Network, roles: Set<WeightRole>) -> Double {
        let origins = Set(dense.nodes.filter { SparseIFT.isTransformable($0, roles: roles) }.map(\.name))
        let denseMACs = Accounting.account(dense).layers.filter { origins.contains($0.name) }.reduce(0) { $0 + $1.macs }
        let replacedMACs = Accounting.account(transformed).layers
            .filter { $0.product?.kind == .weight && origins.contains($0.origin) }.reduce(0) { $0 + $1.effectiveMACs }
        return Double(replacedMACs) / Double(max(1, denseMACs))
    }

    /// Says when no specialised CPU kernel runs the pattern (2:32, 64x64 blocks). Such a
    /// pattern is accepted, since masks, accounting and the simulator handle any pattern,
    /// but a reader comparing CPU figures must know it runs as CSR or dense there.
    static func kernels(pattern: SparsityPattern, sparsity: Double) -> [String] {
        guard sparsity > 0, let limitation = KernelCapabilities.limitation(of: pattern) else { return [] }
        return ["pattern \(pattern): \(limitation); on the CPU it runs as CSR or dense"]
    }
}
