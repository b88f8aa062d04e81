import Foundation

/// Workload traces: one CSV per model × transform × sparsity, one row per node in
/// topological order, consumed by the CPU runtime and the dataflow simulator. The format
/// is documented in `traces/README.md`; bump `formatVersion` on any change of columns or
/// meaning.
public enum WorkloadTrace {
    public static let formatVersion = 2

    public static let columns = [
        "layer", "op", "inputs", "origin", "role",
        "M", "K", "N", "groups",
        "in_channels", "out_channels", "in_h", "in_w", "out_h", "out_w",
        "kernel_h", "kernel_w", "stride", "padding",
        "sparsity", "pattern", "weights", "nonzeros", "macs", "effective_macs", "output_elements",
        "bias", "fused_batchnorm", "fused_add", "residual", "fused_activation",
    ]

    /// The CSV text of a network's trace (per sample: batch 1). Every shape and count of a
    /// product row comes from the network's `GEMMLowering`.
    public static func csv(_ network: Network) -> String {
        let account = Accounting.account(network)
        var lines = [columns.joined(separator: ",")]
        for (node, layer) in zip(network.nodes, account.layers) {
            var row: [String: String] = [
                "layer": node.name,
                "op": node.op.kind,
                "inputs": node.inputs.map { network.nodes[$0].name }.joined(separator: ";"),
                "origin": node.origin,
                "role": layer.role?.rawValue ?? "",
                "output_elements": String(layer.outputElements),
            ]
            if let product = layer.product {
                row["M"] = String(product.M)
                row["K"] = String(product.K)
                row["N"] = String(product.N)
                row["groups"] = String(product.groups)
                row["macs"] = String(product.macs)
                row["effective_macs"] = String(product.effectiveMACs)
                if let weight = product.weight {
                    row["sparsity"] = String(format: "%.6f", weight.sparsity)
                    row["pattern"] = weight.isSparse ? weight.pattern.description : "dense"
                    // A tied weight is still read: count the matrix it multiplies by.
                    row["weights"] = String(weight.count)
                    row["nonzeros"] = String(weight.nonzeros)
                    let epilogue = product.epilogue
                    row["bias"] = epilogue.bias ? "1" : "0"
                    row["fused_batchnorm"] = epilogue.batchNorm?.name ?? ""
                    row["fused_add"] = epilogue.residualAdd?.name ?? ""
                    row["residual"] = epilogue.residual?.name ?? ""
                    row["fused_activation"] = epilogue.activationNode?.name ?? ""
                }
                if let conv = product.convolution {
                    row["in_h"] = String(conv.inHeight)
                    row["in_w"] = String(conv.inWidth)
                    row["out_h"] = String(conv.outHeight)
                    row["out_w"] = String(conv.outWidth)
                    row["kernel_h"] = String(conv.kernelHeight)
                    row["kernel_w"] = String(conv.kernelWidth)
                    row["stride"] = String(conv.stride)
                    row["padding"] = String(conv.padding)
                }
            }
            switch node.op {
            case .conv2d(let c):
                row["in_channels"] = String(c.inChannels)
                row["out_channels"] = String(c.outChannels)
            case .linear(let l):
                row["in_channels"] = String(l.inFeatures)
                row["out_channels"] = String(l.outFeatures)
            case .maxPool(let pool), .avgPool(let pool):
                row["kernel_h"] = String(pool.kernel)
                row["kernel_w"] = String(pool.kernel)
                row["stride"] = String(pool.stride)
                row["padding"] = String(pool.padding)
            default:
                break
            }
            lines.append(columns.map { row[$0] ?? "" }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One trace to generate.
    public struct Job: Hashable, Sendable {
        public let model: String
        public let kind: TransformKind
        public let sparsity: Double
        public init(model: String, kind: TransformKind, sparsity: Double) {
            self.model = model
            self.kind = kind
            self.sparsity = sparsity
        }

        public var fileName: String {
            get throws { try WorkloadTrace.fileName(model: model, kind: kind, sparsity: sparsity, pattern: .unstructured) }
        }
    }

    /// The trace file name of a model × transform × sparsity (× pattern, when not
    /// unstructured): `<model>__dense.csv`, or `<model>__<kind>__s<label>[__<pattern>].csv`.
    public static func fileName(model: String, kind: TransformKind, sparsity: Double, pattern: SparsityPattern) throws -> String {
        if kind == .dense && sparsity == 0 && pattern == .unstructured { return "\(model)__dense.csv" }
        let suffix = pattern == .unstructured ? "" : "__\(pattern)"
        return "\(model)__\(kind.rawValue)__s\(try sparsityLabel(sparsity))\(suffix).csv"
    }

    /// The sparsity as written in file names: two decimals when they are exact (0.50,
    /// 0.75, 0.90, the committed names), else the fewest decimals that give back the
    /// exact value (0.501, 0.9999), so two sparsities never share a file name.
    public static func sparsityLabel(_ sparsity: Double) throws -> String {
        try validateSparsity(sparsity)
        for digits in 2...17 {
            let text = String(format: "%.\(digits)f", sparsity)
            if Double(text) == sparsity { return text }
        }
        throw SparseIFTError.invalidArgument(
            "sparsity \(sparsity) has no exact decimal form of at most 17 digits for a trace file name; round it")
    }

    /// The committed set: ResNet-18 (both variants) and GPT-3 Small (sequence 2048),
    /// dense and the four transforms at s ∈ {0.5, 0.75, 0.9}, unstructured, uniform.
    public static var committedJobs: [Job] {
        var jobs: [Job] = []
        for model in ["resnet18-cifar", "resnet18-imagenet", "gpt3-small"] {
            jobs.append(Job(model: model, kind: .dense, sparsity: 0))
            for kind in [TransformKind.wide, .parallel, .factorized, .doped] {
                for sparsity in [0.5, 0.75, 0.9] { jobs.append(Job(model: model, kind: kind, sparsity: sparsity)) }
            }
        }
        return jobs
    }

    public static let indexFileName = "index.csv"

    /// Every file of a trace set, name → content, including `index.csv` (one row per
    /// trace with its totals and the format version).
    public static func generate(_ jobs: [Job], options: ModelZoo.Options = ModelZoo.Options()) throws -> [String: String] {
        var files: [String: String] = [:]
        var index = ["file,format_version,model,transform,requested_sparsity,sparsity,pattern,base,batch,sequence_length,params,nonzero_params,dense_macs,effective_macs,flop_ratio_vs_dense"]
        for job in jobs {
            let dense = try ModelZoo.build(job.model, options: options)
            let transformed = try SparseIFT.transform(dense, kind: job.kind, sparsity: job.sparsity)
            let fileName = try job.fileName
            files[fileName] = csv(transformed.network)
            let account = Accounting.account(transformed.network)
            let denseMACs = Accounting.account(dense).macs
            let sequence = dense.metadata.transformer != nil ? String(dense.input.shape[0]) : ""
            index.append([
                fileName, String(formatVersion), job.model, job.kind.rawValue,
                try sparsityLabel(job.sparsity), String(format: "%.6f", transformed.sparsity),
                transformed.options.pattern.description, String(transformed.base), "1", sequence,
                String(account.params), String(account.nonzeroParams), String(denseMACs), String(account.effectiveMACs),
                String(format: "%.6f", Double(account.effectiveMACs) / Double(denseMACs)),
            ].joined(separator: ","))
        }
        files[indexFileName] = index.joined(separator: "\n") + "\n"
        return files
    }

    /// The `manifest.json` of a trace set: sift as its writer, the format version, and
    /// every file with its checksum (deterministic, so the committed set can be checked).
    public static func manifest(for files: [String: String]) -> String {
        var lines = ["{", "  \"format_version\" : \(formatVersion),", "  \"files\" : ["]
        let sorted = files.keys.sorted()
        for (index, name) in sorted.enumerated() {
            let comma = index == sorted.count - 1 ? "" : ","
            lines.append("    { \"checksum\" : \"\(Checksum.fnv1a64(Array(files[name]!.utf8)))\", \"name\" : \"\(name)\" }\(comma)")
        }
        lines += ["  ],", "  \"kind\" : \"traces\",", "  \"tool\" : \"\(SafeDirectory.tool)\"", "}"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes a trace set as the directory `directory`, all or nothing (`SafeDirectory`):
    /// an earlier sift trace set there is replaced whole, anything else is refused.
    public static func write(_ files: [String: String], to directory: String) throws {
        try fromCore { () throws(SiftCoreError) in
            try SafeDirectory.write(files.mapValues { Array($0.utf8) }, manifest: Array(manifest(for: files).utf8), to: directory)
        }
    }

    /// Writes one trace file into `directory` (created if needed), whole or not at all;
    /// other files there are kept.
    public static func writeSingle(name: String, content: String, into directory: String) throws {
        try fromCore { () throws(SiftCoreError) in
            try SafeFile.makeDirectories(directory)
            try SafeFile.write(content, to: "\(directory)/\(name)")
        }
    }
}
