import Foundation

/// What a report runs: the network points of the CPU and accelerator sweeps and the
/// single-product points, each list in canonical order (baselines first in each group).
/// `quick` is sized to finish in about five minutes on 2 cores; `full` is the larger set.
/// To change what the report covers, change these lists.
public struct ReportPlan: Codable, Sendable, Equatable {
    public var name: String
    /// Sentences for the page: what is in the set and why.
    public var about: [String]
    public var cpuNetworks: [NetworkPoint]
    public var acceleratorNetworks: [NetworkPoint]
    /// The single-product points, shared by the CPU and the accelerator sweeps.
    public var products: [ProductPoint]
    /// Seconds of timed inference per CPU network point (after a warm-up).
    public var cpuSecondsPerPoint: Double

    public static let transforms = ["wide", "parallel", "factorized", "doped"]

    public init(name: String, about: [String], cpuNetworks: [NetworkPoint], acceleratorNetworks: [NetworkPoint],
                products: [ProductPoint], cpuSecondsPerPoint: Double) {
        self.name = name
        self.about = about
        self.cpuNetworks = cpuNetworks
        self.acceleratorNetworks = acceleratorNetworks
        self.products = products
        self.cpuSecondsPerPoint = cpuSecondsPerPoint
    }

    /// Dense, then every transform at every sparsity (unstructured), then the extra
    /// (transform, pattern, sparsities) combinations.
    public static func networkGroup(model: String, batch: Int, sequence: Int? = nil, sparsities: [Double],
                             transforms: [String] = transforms,
                             extra: [(transform: String, pattern: String, sparsities: [Double])] = []) -> [NetworkPoint] {
        var points = [NetworkPoint.dense(model: model, batch: batch, sequence: sequence)]
        for transform in transforms {
            for s in sparsities {
                points.append(NetworkPoint(model: model, transform: transform, sparsity: s, pattern: "unstructured", batch: batch, sequence: sequence))
            }
        }
        for combination in extra {
            for s in combination.sparsities {
                points.append(NetworkPoint(model: model, transform: combination.transform, sparsity: s, pattern: combination.pattern,
                                           batch: batch, sequence: sequence))
            }
        }
        return points
    }

    /// Dense, then unstructured and block patterns at `sparsities`, then the N:M patterns.
    public static func productGroup(m: Int, k: Int, n: Int, sparsities: [Double], nm: [(Int, Int)], blocks: [String]) -> [ProductPoint] {
        let shape = "\(m)x\(k)x\(n)"
        var points = [ProductPoint(shape: shape, m: m, k: k, n: n, pattern: "dense", sparsity: 0)]
        for s in sparsities { points.append(ProductPoint(shape: shape, m: m, k: k, n: n, pattern: "unstructured", sparsity: s)) }
        for (keep, group) in nm {
            points.append(ProductPoint(shape: shape, m: m, k: k, n: n, pattern: "\(keep):\(group)", sparsity: 1 - Double(keep) / Double(group)))
        }
        for block in blocks {
            for s in sparsities { points.append(ProductPoint(shape: shape, m: m, k: k, n: n, pattern: block, sparsity: s)) }
        }
        return points
    }

    static let productSparsities = [0.25, 0.5, 0.75, 0.9, 0.95]
    static let productNM = [(3, 4), (2, 4), (1, 4), (1, 8), (1, 16)]

    /// About two to three minutes on 2 cores, so `make report` (release build included)
    /// stays near five minutes on a fresh clone. Most of a CPU point's time is the
    /// runtime timing each layer's kernel candidates; the plan cache spares a second run.
    public static func quick(productShape: (m: Int, k: Int, n: Int) = (1024, 1024, 256)) -> ReportPlan {
        let s = [0.5, 0.75, 0.9]
        return ReportPlan(
            name: "quick",
            about: [
                "CPU: mlp (784-1024-1024-1024-10) at batch 64, dense and the four transforms at s = 0.5, 0.75, 0.9 (unstructured), plus Sparse Wide with 16x16 blocks at 0.9; resnet18-cifar at batch 8, dense and Sparse Wide at the same sparsities.",
                "Accelerator (analytical mode unless --accelerator-mode cycle): mlp and resnet18-cifar at batch 64, dense and the four transforms at s = 0.5, 0.75, 0.9; GPT-3 Small at sequence 256, batch 1, at s = 0.5 and 0.9.",
                "Single product: \(productShape.m)x\(productShape.k)x\(productShape.n) (M x K x N), unstructured and block sparsity at s = 0.25 to 0.95 and N:M from 3:4 to 1:16.",
                "`sift report --full` runs more models, larger batches, more sparsities and block patterns for every transform.",
            ],
            cpuNetworks: networkGroup(model: "mlp", batch: 64, sparsities: s, extra: [("wide", "16x16", [0.9])])
                + networkGroup(model: "resnet18-cifar", batch: 8, sparsities: s, transforms: ["wide"]),
            acceleratorNetworks: networkGroup(model: "mlp", batch: 64, sparsities: s)
                + networkGroup(model: "resnet18-cifar", batch: 64, sparsities: s)
                + networkGroup(model: "gpt3-small", batch: 1, sequence: 256, sparsities: [0.5, 0.9]),
            products: productGroup(m: productShape.m, k: productShape.k, n: productShape.n, sparsities: productSparsities,
                                   nm: productNM, blocks: ["16x16", "4x4"]),
            cpuSecondsPerPoint: 0.5)
    }

    /// The larger set: tens of minutes on 2 cores.
    public static func full(productShape: (m: Int, k: Int, n: Int) = (1024, 1024, 256)) -> ReportPlan {
        let s = [0.5, 0.75, 0.9, 0.95]
        let blocks: [(transform: String, pattern: String, sparsities: [Double])] = ReportPlan.transforms.map { ($0, "16x16", [0.75, 0.9]) }
        let plain: [(transform: String, pattern: String, sparsities: [Double])] = [("dense", "unstructured", s)]
        return ReportPlan(
            name: "full",
            about: [
                "CPU: mlp at batch 64, resnet18-cifar at batch 64, resnet18-imagenet at batch 16, mobilenetv2 at batch 16 and GPT-3 Small at sequence 256, batch 1; dense, the four transforms at s = 0.5, 0.75, 0.9, 0.95 (unstructured), each with 16x16 blocks at 0.75 and 0.9, and the plain sparse network (fewer FLOPs) for reference.",
                "Accelerator (analytical mode unless --accelerator-mode cycle): mlp at batch 64, resnet18-cifar and resnet18-imagenet at batch 64, GPT-3 Small at sequence 2048 and GPT-3 Medium at sequence 128; the same points.",
                "Single product: \(productShape.m)x\(productShape.k)x\(productShape.n) and the GPT-3 Small FFN 3072x768x512.",
            ],
            cpuNetworks: networkGroup(model: "mlp", batch: 64, sparsities: s, extra: blocks + plain)
                + networkGroup(model: "resnet18-cifar", batch: 64, sparsities: s, extra: blocks + plain)
                + networkGroup(model: "resnet18-imagenet", batch: 16, sparsities: s, extra: blocks)
                + networkGroup(model: "mobilenetv2", batch: 16, sparsities: s)
                + networkGroup(model: "gpt3-small", batch: 1, sequence: 256, sparsities: s, extra: blocks),
            acceleratorNetworks: networkGroup(model: "mlp", batch: 64, sparsities: s, extra: blocks + plain)
                + networkGroup(model: "resnet18-cifar", batch: 64, sparsities: s, extra: blocks + plain)
                + networkGroup(model: "resnet18-imagenet", batch: 64, sparsities: s, extra: blocks)
                + networkGroup(model: "gpt3-small", batch: 1, sequence: 2048, sparsities: s, extra: blocks + plain)
                + networkGroup(model: "gpt3-medium", batch: 1, sequence: 128, sparsities: s),
            products: productGroup(m: productShape.m, k: productShape.k, n: productShape.n, sparsities: productSparsities,
                                   nm: productNM, blocks: ["16x16", "4x4"])
                + productGroup(m: 3072, k: 768, n: 512, sparsities: productSparsities, nm: productNM, blocks: ["16x16"]),
            cpuSecondsPerPoint: 2.0)
    }
}
