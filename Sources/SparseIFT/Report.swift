import Foundation

/// The machine-readable summary of a transformed network (what `sift transform --json`
/// prints). Keys are snake_case; MACs and FLOPs are per sample (one image, or one
/// sequence of `sequence_length` tokens for GPT).
public struct TransformReport: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public let name: String
        public let kind: String
        public let origin: String
        public let role: String?
        public let weight_shape: [Int]?
        public let in_channels: Int?
        public let out_channels: Int?
        public let output_shape: [Int]
        public let sparsity: Double
        public let pattern: String?
        public let params: Int
        public let nonzero_params: Int
        /// Effective multiply-adds (zero weights skipped).
        public let macs: Int
        /// Multiply-adds with every weight present.
        public let dense_macs: Int
        /// `macs` / dense MACs of the dense-network layer this node derives from.
        public let ratio: Double?
    }

    public struct Totals: Codable, Sendable {
        public let params: Int
        public let nonzero_params: Int
        /// Effective forward multiply-adds of the transformed network.
        public let macs: Int
        /// Forward multiply-adds of the dense (untransformed) model: the budget.
        public let dense_macs: Int
        /// Forward multiply-adds of the transformed structure with every weight present.
        public let structure_macs: Int
        public let flop_ratio_vs_dense: Double
        public let forward_flops: Int
        public let training_flops: Int
        public let rigl_training_flops: Double
        public let rigl_update_interval: Int
        public let search_space: Int
        public let dense_search_space: Int
        public let search_space_ratio_vs_dense: Double
        public let dense_params: Int
        public let params_ratio_vs_dense: Double
    }

    public let format_version: Int
    public let model: String
    public let network: String
    public let transform: String
    public let requested_sparsity: Double
    public let sparsity: Double
    public let base: Int
    public let pattern: String
    public let distribution: String
    public let notes: [String]
    public let layers: [Layer]
    public let totals: Totals

    /// Builds the report. `includeAll` lists every node; by default only the nodes with
    /// parameters or multiply-adds (weightless nodes add nothing to the totals).
    public init(model: String, transformed: TransformedNetwork, rigLUpdateInterval: Int = 100, includeAll: Bool = false) {
        let account = Accounting.account(transformed.network)
        let denseAccount = Accounting.account(transformed.dense)
        var denseMACsByName: [String: Int] = [:]
        for layer in denseAccount.layers { denseMACsByName[layer.name] = layer.macs }
        self.format_version = 1
        self.model = model
        self.network = transformed.network.name
        self.transform = transformed.kind.rawValue
        self.requested_sparsity = transformed.requestedSparsity
        self.sparsity = transformed.sparsity
        self.base = transformed.base
        self.pattern = transformed.options.pattern.description
        self.distribution = transformed.options.distribution.rawValue
        self.notes = transformed.notes
        self.layers = account.layers.compactMap { layer in
            guard includeAll || layer.params > 0 || layer.macs > 0 else { return nil }
            let originMACs = denseMACsByName[layer.origin] ?? 0
            return Layer(
                name: layer.name, kind: layer.kind, origin: layer.origin, role: layer.role?.rawValue,
                weight_shape: layer.weightShape, in_channels: layer.inChannels, out_channels: layer.outChannels,
                output_shape: layer.outputShape, sparsity: layer.sparsity, pattern: layer.pattern?.description,
                params: layer.params, nonzero_params: layer.nonzeroParams, macs: layer.effectiveMACs, dense_macs: layer.macs,
                ratio: originMACs > 0 ? Double(layer.effectiveMACs) / Double(originMACs) : nil)
        }
        self.totals = Totals(
            params: account.params, nonzero_params: account.nonzeroParams, macs: account.effectiveMACs,
            dense_macs: denseAccount.macs, structure_macs: account.macs,
            flop_ratio_vs_dense: Double(account.effectiveMACs) / Double(max(1, denseAccount.macs)),
            forward_flops: account.forwardFLOPs, training_flops: account.trainingFLOPs,
            rigl_training_flops: account.rigLTrainingFLOPs(updateInterval: rigLUpdateInterval),
            rigl_update_interval: rigLUpdateInterval,
            search_space: account.searchSpace, dense_search_space: denseAccount.searchSpace,
            search_space_ratio_vs_dense: Double(account.searchSpace) / Double(max(1, denseAccount.searchSpace)),
            dense_params: denseAccount.params,
            params_ratio_vs_dense: Double(account.params) / Double(max(1, denseAccount.params)))
    }

    /// The report as JSON. Throws rather than printing nothing when a value cannot be
    /// encoded (JSON has no NaN or infinity; no finite input should produce one).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            throw SparseIFTError.invalidArgument("the report of \(model) cannot be written as JSON: \(error)")
        }
    }

    /// A table for people: one row per layer, then the totals.
    public func table() -> String {
        var lines: [String] = []
        lines.append("\(model) · \(transform) · s = \(Self.number(requested_sparsity))" +
                     (sparsity != requested_sparsity ? " (body s = \(String(format: "%.6f", sparsity)))" : "") +
                     " · pattern \(pattern) · base \(base)")
        for note in notes { lines.append("  note: \(note)") }
        let header = ["layer", "kind", "shape / widths", "sparsity", "nonzero params", "MACs", "ratio"]
        var rows: [[String]] = [header]
        for layer in layers {
            let shape: String
            if let weight = layer.weight_shape {
                shape = weight.map(String.init).joined(separator: "x")
            } else if let input = layer.in_channels, let output = layer.out_channels {
                shape = "\(input)->\(output)"
            } else {
                shape = layer.output_shape.map(String.init).joined(separator: "x")
            }
            rows.append([layer.name, layer.kind, shape, Self.number(layer.sparsity), Self.grouped(layer.nonzero_params),
                         Self.grouped(layer.macs), layer.ratio.map { String(format: "%.4f", $0) } ?? ""])
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            let cells = row.enumerated().map { column, cell in
                column < 3 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }
            lines.append(cells.joined(separator: "  "))
            if index == 0 { lines.append(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))) }
        }
        let t = totals
        lines.append("")
        lines.append("params          \(Self.grouped(t.params)) (dense model \(Self.grouped(t.dense_params)), x\(String(format: "%.3f", t.params_ratio_vs_dense)))")
        lines.append("nonzero params  \(Self.grouped(t.nonzero_params))")
        lines.append("forward MACs    \(Self.grouped(t.macs)) (dense model \(Self.grouped(t.dense_macs)); ratio \(String(format: "%.5f", t.flop_ratio_vs_dense)))")
        lines.append("structure MACs  \(Self.grouped(t.structure_macs)) (every weight present)")
        lines.append("training FLOPs  \(Self.grouped(t.training_flops)) static sparse (3x forward); RigL dT=\(t.rigl_update_interval): \(String(format: "%.4e", t.rigl_training_flops))")
        lines.append("search space    \(Self.grouped(t.search_space)) (dense \(Self.grouped(t.dense_search_space)), x\(String(format: "%.3f", t.search_space_ratio_vs_dense)))")
        return lines.joined(separator: "\n")
    }

    static func number(_ value: Double) -> String {
        value == 0 ? "0" : String(format: "%.4g", value)
    }

    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }
}
