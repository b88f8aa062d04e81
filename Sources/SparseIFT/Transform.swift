import Foundation

/// The four Sparse Iso-FLOP Transformations, plus `dense` (the network as it is; with
/// `s > 0` its body layers are simply sparse: the paper's "sparse" baseline).
public enum TransformKind: String, CaseIterable, Hashable, Sendable {
    case dense, wide, parallel, factorized, doped

    public init(parsing text: String) throws {
        guard let kind = TransformKind(rawValue: text.lowercased()) else {
            throw SparseIFTError.unknownTransform("'\(text)'; expected one of \(TransformKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = kind
    }
}

/// How the network's sparsity is spread over its sparse (body) layers.
public enum SparsityDistribution: String, CaseIterable, Hashable, Sendable {
    /// Every body layer at the same sparsity `s` (the paper's default).
    case uniform
    /// Erdős–Rényi-Kernel (Evci et al., RigL): density ∝ (sum of the weight's dimensions)
    /// / (their product), scaled so the body keeps `(1 - s)` of its weights overall.
    case erk
}

/// Sparse Doped's low-rank factors U and V.
public enum DopedLowRank: String, CaseIterable, Hashable, Sendable {
    /// Dense, as in the paper: the member is iso-FLOP.
    case dense
    /// Masked at the network's sparsity, as in the authors' released code (their sparsifier
    /// masks every conv weight but the stem and head): fewer FLOPs than the dense layer.
    case sparse
}

public struct TransformOptions: Hashable, Sendable {
    public var pattern: SparsityPattern
    public var distribution: SparsityDistribution
    /// Sparse Parallel's activation placement; nil takes the model family's default
    /// (after-sum for CIFAR ResNets and GPT, per-branch for the others).
    public var parallelActivation: ParallelActivation?
    /// Sparse Wide on a non-transformer searches `s` so the whole network's forward
    /// FLOPs match the dense model's within 0.1% (the authors' procedure).
    public var matchDenseFLOPs: Bool
    /// Sparse Parallel, Factorized and Doped also transform the ResNets' 1x1 projection
    /// shortcuts. Off by default: the authors' ResNets keep each shortcut one sparse conv.
    public var transformShortcuts: Bool
    /// Sparse Doped's U and V: dense (the paper, default) or masked at s (the released code).
    public var dopedLowRank: DopedLowRank

    public init(pattern: SparsityPattern = .unstructured, distribution: SparsityDistribution = .uniform,
                parallelActivation: ParallelActivation? = nil, matchDenseFLOPs: Bool = true,
                transformShortcuts: Bool = false, dopedLowRank: DopedLowRank = .dense) {
        self.pattern = pattern
        self.distribution = distribution
        self.parallelActivation = parallelActivation
        self.matchDenseFLOPs = matchDenseFLOPs
        self.transformShortcuts = transformShortcuts
        self.dopedLowRank = dopedLowRank
    }

    /// The roles that take the network's sparsity under these options.
    var sparseRoles: Set<WeightRole> {
        dopedLowRank == .sparse ? [.body, .shortcut, .lowRank] : [.body, .shortcut]
    }

    /// The roles the Parallel, Factorized and Doped transforms replace.
    var transformedRoles: Set<WeightRole> {
        transformShortcuts ? [.body, .shortcut] : [.body]
    }
}

/// A transformed network and how it was obtained.
public struct TransformedNetwork: Sendable {
    /// The network after the transformation, sparsities assigned.
    public let network: Network
    /// The dense network it came from (the FLOP budget).
    public let dense: Network
    public let kind: TransformKind
    /// The `s` asked for.
    public let requestedSparsity: Double
    /// The `s` of the body layers: the requested one, or the one Sparse Wide's search found.
    public let sparsity: Double
    /// `round(1/(1-s))`: widening factor², branch count.
    public let base: Int
    public let options: TransformOptions
    /// Human-readable remarks (search result, skipped search and why).
    public let notes: [String]
}

public enum SparseIFT {
    /// The relative gap to the dense forward FLOPs Sparse Wide's search must close (0.1%).
    public static let flopMatchTolerance = 0.001

    /// The largest `base` the toolkit builds: 1000 parallel branches, or a sqrt(1000) ≈ 31.6x
    /// widening (s ≤ 0.999). Beyond it the networks stop being meaningful and their size
    /// (and the time to build them) grows without bound as s → 1.
    public static let maxBase = 1000

    /// `round(1/(1-s))`: 2, 4, 10 at 50/75/90%; 1 below 1/3. Refuses `s` outside [0, 1) and
    /// any `s` whose base exceeds `maxBase`.
    public static func base(sparsity: Double) throws -> Int {
        try validateSparsity(sparsity)
        let exact = 1 / (1 - sparsity)
        guard exact.rounded() <= Double(maxBase) else {
            throw SparseIFTError.invalidArgument(String(
                format: "sparsity %@ needs %.0f parallel branches / a %.1fx widening; this toolkit supports base <= %d (s <= 0.999)",
                "\(sparsity)", exact.rounded(), exact.rounded().squareRoot(), maxBase))
        }
        return max(1, Int(exact.rounded()))
    }

    /// Floating-point slack for the ceil/floor of the rank formulas: `1 - 0.9` is
    /// 0.0999…98 in binary, which would push an exact integer rank over the edge.
    static let roundingSlack = 1e-9

    /// Checks the inputs of the rank formulas: positive dimensions and a sparsity whose
    /// base the toolkit supports (which bounds `1/(1-s)`, so the rank stays finite).
    private static func validateRankInputs(reduction: Int, outputs: Int, sparsity: Double) throws {
        guard reduction > 0, outputs > 0, reduction <= SizeLimits.perNode, outputs <= SizeLimits.perNode else {
            throw SparseIFTError.invalidArgument("rank formulas need dimensions in 1...\(SizeLimits.perNode), got K = \(reduction), C_out = \(outputs)")
        }
        _ = try base(sparsity: sparsity)
    }

    /// Sparse Factorized rank `d = ceil(K·C_out / ((1-s)(K + C_out)))`, `K = k²·C_in`
    /// (or `D_in` for a linear layer).
    public static func factorizedRank(reduction: Int, outputs: Int, sparsity: Double) throws -> Int {
        try validateRankInputs(reduction: reduction, outputs: outputs, sparsity: sparsity)
        // At most min(K, C_out)·1000.5 < 2^61: the conversion below cannot trap.
        let exact = Double(reduction) * Double(outputs) / ((1 - sparsity) * (Double(reduction) + Double(outputs)))
        return max(1, Int((exact * (1 - roundingSlack)).rounded(.up)))
    }

    /// Sparse Doped rank `d = floor(s·K·C_out / (K + C_out))`.
    public static func dopedRank(reduction: Int, outputs: Int, sparsity: Double) throws -> Int {
        try validateRankInputs(reduction: reduction, outputs: outputs, sparsity: sparsity)
        let exact = sparsity * Double(reduction) * Double(outputs) / (Double(reduction) + Double(outputs))
        return max(0, Int((exact * (1 + roundingSlack)).rounded(.down)))
    }

    /// Applies a transformation to a dense network at sparsity `s`.
    public static func transform(_ dense: Network, kind: TransformKind, sparsity: Double,
                                 options: TransformOptions = TransformOptions()) throws -> TransformedNetwork {
        try validateSparsity(sparsity)
        let sparsity = sparsity + 0  // -0 is 0 (it would print as "-0")
        try fromCore { () throws(SiftCoreError) in try options.pattern.validateParameters() }
        if let fixed = options.pattern.fixedSparsity, sparsity != 0, abs(fixed - sparsity) > 1e-9 {
            throw SparseIFTError.invalidArgument(
                "pattern \(options.pattern) fixes the sparsity at \(fixed), but s = \(sparsity) was asked for")
        }
        if case .nOfM = options.pattern, options.distribution == .erk, sparsity > 0 {
            throw SparseIFTError.invalidArgument("N:M patterns fix every layer's sparsity; they cannot follow the ERK distribution")
        }
        // Capped for every kind, `dense` included, so the reported base is always one the
        // toolkit can build and every count below stays bounded.
        let base = try base(sparsity: sparsity)
        var notes: [String] = []
        var structure: Network
        let transformed = options.transformedRoles
        switch kind {
        case .dense:
            structure = dense
        case .wide:
            structure = try SparseWide.widen(dense, base: base)
        case .parallel:
            structure = try SparseParallel.apply(dense, branches: base, roles: transformed,
                                                 activation: options.parallelActivation ?? dense.metadata.parallelActivation)
        case .factorized:
            // At s = 0 the member is the dense layer (see SparseFactorized for why the
            // rank formula is not applied there).
            structure = sparsity == 0 ? dense : try SparseFactorized.apply(dense, sparsity: sparsity, roles: transformed)
        case .doped:
            structure = try SparseDoped.apply(dense, sparsity: sparsity, roles: transformed)
        }
        var bodySparsity = sparsity
        if kind == .wide {
            (bodySparsity, notes) = try SparseWide.searchSparsity(widened: structure, dense: dense, requested: sparsity, options: options)
        }
        structure = try assignSparsity(structure, sparsity: bodySparsity, pattern: options.pattern, distribution: options.distribution,
                                       roles: options.sparseRoles)
        structure.name = kind == .dense ? dense.name : "\(dense.name)-\(kind.rawValue)"
        notes += TransformNotes.conventions(kind: kind, sparsity: sparsity, dense: dense, options: options)
        notes += TransformNotes.isoFLOP(kind: kind, sparsity: sparsity, base: base, transformed: structure, dense: dense, options: options)
        notes += TransformNotes.kernels(pattern: options.pattern, sparsity: bodySparsity)
        return TransformedNetwork(network: structure, dense: dense, kind: kind, requestedSparsity: sparsity,
                                  sparsity: bodySparsity, base: base, options: options, notes: notes)
    }

    /// Sets the sparsity and pattern of every layer whose role is in `roles` (body and
    /// shortcut layers by default), uniformly or by ERK. Layers of other roles stay dense.
    public static func assignSparsity(_ network: Network, sparsity: Double, pattern: SparsityPattern,
                                      distribution: SparsityDistribution = .uniform,
                                      roles: Set<WeightRole> = [.body, .shortcut]) throws -> Network {
        try validateSparsity(sparsity)
        var result = network
        let perLayer = distribution == .erk && sparsity > 0
            ? erkSparsities(network, sparsity: sparsity, roles: roles)
            : [:]
        for index in result.nodes.indices {
            let node = result.nodes[index]
            guard var weight = node.op.weight, roles.contains(weight.role) else { continue }
            weight.sparsity = perLayer[node.id] ?? sparsity
            weight.pattern = pattern
            if weight.sparsity > 0, let matrix = node.op.weightMatrix {
                try pattern.validate(layer: node.name, rows: matrix.rows, reduction: matrix.reduction)
            }
            result.nodes[index].op = node.op.withWeight(weight)
        }
        return result
    }

    /// Per-layer sparsities of the Erdős–Rényi-Kernel distribution, by node id. Layers
    /// whose ERK density would exceed 1 are made dense and the rest rescaled (RigL's rule).
    static func erkSparsities(_ network: Network, sparsity: Double, roles: Set<WeightRole>) -> [Int: Double] {
        struct Layer { let id: Int; let count: Double; let raw: Double }
        var layers: [Layer] = []
        for node in network.nodes {
            guard let weight = node.op.weight, roles.contains(weight.role) else { continue }
            let dims: [Int]
            switch node.op {
            case .conv2d(let c): dims = c.weightShape
            case .linear(let l): dims = l.weightShape
            default: continue
            }
            let count = Double(dims.reduce(1, *))
            layers.append(Layer(id: node.id, count: count, raw: Double(dims.reduce(0, +)) / count))
        }
        let total = layers.reduce(0) { $0 + $1.count }
        var denseIDs: Set<Int> = []
        var epsilon = 0.0
        while true {
            let denseCount = layers.filter { denseIDs.contains($0.id) }.reduce(0) { $0 + $1.count }
            let weighted = layers.filter { !denseIDs.contains($0.id) }.reduce(0) { $0 + $1.raw * $1.count }
            epsilon = weighted > 0 ? ((1 - sparsity) * total - denseCount) / weighted : 0
            let overflowing = layers.filter { !denseIDs.contains($0.id) && epsilon * $0.raw > 1 }
            if overflowing.isEmpty { break }
            for layer in overflowing { denseIDs.insert(layer.id) }
        }
        var result: [Int: Double] = [:]
        for layer in layers {
            result[layer.id] = denseIDs.contains(layer.id) ? 0 : min(max(1 - epsilon * layer.raw, 0), 0.999_999)
        }
        return result
    }

    /// True for the layers a transformation replaces: those whose role is in `roles` (body
    /// convs, ungrouped, and body linear layers; shortcuts too when asked).
    static func isTransformable(_ node: Node, roles: Set<WeightRole>) -> Bool {
        node.op.weight.map { roles.contains($0.role) } ?? false
    }
}

/// Rebuilds a network node by node: untouched nodes are copied with their inputs
/// remapped, transformed ones replaced by the subgraph a transform emits.
struct GraphRewriter {
    let old: Network
    var builder = NetworkBuilder()
    /// Old node id → id of the new node that now produces its value.
    var replacement: [Int: Int] = [:]

    init(_ old: Network) { self.old = old }

    func newInputs(of node: Node) -> [Int] { node.inputs.map { replacement[$0]! } }

    mutating func copy(_ node: Node) throws {
        replacement[node.id] = try builder.add(node.name, node.op, inputs: newInputs(of: node), origin: node.origin)
    }

    func finish() throws -> Network {
        try builder.build(name: old.name, metadata: old.metadata)
    }
}
