import Foundation
import SiftCore

/// Checking a parameter store against a network, and reading and writing it as a
/// directory of `.npy` files with a manifest (what `sift weights` writes and `sift
/// reference` and `sift run --weights` read).
extension ParameterStore {
    /// Checks that every tensor the network needs is present with the right shape and
    /// finite values, and that masks hold only 0 and 1. (What `ReferenceExecution` needs
    /// to run; `validateMasks(for:)` checks the masks against the layers' sparsity too.)
    public func validate(for network: Network) throws {
        for (key, shape) in Self.expectedShapes(network).sorted(by: { $0.key < $1.key }) {
            guard let tensor = tensors[key] else { throw SparseIFTError.parameterMismatch("missing tensor \(key)") }
            guard tensor.shape == shape else {
                throw SparseIFTError.parameterMismatch("\(key) has shape \(tensor.shape), the network needs \(shape)")
            }
            // Weights from outside (`sift reference --weights`) must be usable numbers, and
            // a mask must really be a mask: the reference pass multiplies by it.
            if let bad = tensor.values.firstIndex(where: { !$0.isFinite }) {
                throw SparseIFTError.parameterMismatch("\(key) has a non-finite value \(tensor.values[bad]) at index \(bad)")
            }
            if key.hasSuffix(".mask"), let bad = tensor.values.firstIndex(where: { $0 != 0 && $0 != 1 }) {
                throw SparseIFTError.parameterMismatch("\(key) has the value \(tensor.values[bad]) at index \(bad); a mask holds only 0 and 1")
            }
        }
    }

    /// Checks that every mask is a mask of its layer's pattern keeping exactly the
    /// non-zero count of the layer's sparsity (`SparsityPattern.nonzeroCount`): weights
    /// made for another sparsity or pattern are refused, naming the layer.
    public func validateMasks(for network: Network) throws {
        for node in network.nodes {
            guard let weight = node.op.weight, weight.isSparse, let matrix = node.op.weightMatrix,
                  let mask = tensors["\(node.name).mask"] else { continue }
            if let problem = MaskSampler.violation(of: mask.values, rows: matrix.rows, reduction: matrix.reduction, pattern: weight.pattern) {
                throw SparseIFTError.parameterMismatch("\(node.name).mask is not a \(weight.pattern) mask: \(problem)")
            }
            let kept = mask.values.reduce(0) { $0 + ($1 == 1 ? 1 : 0) }
            let expected = weight.pattern.nonzeroCount(rows: matrix.rows, reduction: matrix.reduction, sparsity: weight.sparsity)
            guard kept == expected else {
                throw SparseIFTError.parameterMismatch(String(
                    format: "%@.mask keeps %d of %d weights (sparsity %.6f), but %@ at sparsity %.6f with pattern %@ keeps %d: the weights were made for another sparsity or pattern",
                    node.name, kept, mask.count, 1 - Double(kept) / Double(max(1, mask.count)), node.name, weight.sparsity,
                    weight.pattern.description, expected))
            }
        }
    }

    /// Writes every tensor as `<directory>/<key>.npy` and a `manifest.json` (the network,
    /// what it was made for, the seed, every tensor's shape and checksum), all or nothing
    /// (`SafeDirectory`): an interrupted run leaves the previous directory or none, never
    /// a mix of two runs.
    public func save(to directory: String, network: String = "", identity: WeightsManifest.Identity? = nil,
                     seed: UInt64? = nil) throws {
        var files: [String: [UInt8]] = [:]
        var entries: [WeightsManifest.TensorEntry] = []
        for (key, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            let bytes = NPY.encode(tensor)
            let file = "\(key).npy"
            files[file] = bytes
            entries.append(WeightsManifest.TensorEntry(name: key, file: file, shape: tensor.shape, checksum: Checksum.fnv1a64(bytes)))
        }
        let manifest = WeightsManifest(network: network, identity: identity, seed: seed, tensors: entries)
        try fromCore { () throws(SiftCoreError) in
            try SafeDirectory.write(files, manifest: try manifest.encoded(), to: directory)
        }
    }

    /// Reads the tensors a network needs from `<directory>/<key>.npy` and validates them
    /// (`validate(for:)`, `validateMasks(for:)`), without looking at a manifest.
    public static func load(from directory: String, for network: Network) throws -> ParameterStore {
        var store = ParameterStore()
        for key in expectedShapes(network).keys.sorted() {
            store[key] = try fromCore { () throws(SiftCoreError) in try NPY.read(contentsOf: "\(directory)/\(key).npy") }
        }
        try store.validate(for: network)
        try store.validateMasks(for: network)
        return store
    }

    /// Reads a `sift weights` directory for the network a command names, and refuses
    /// weights made for anything else: the manifest must name the same model, transform,
    /// sparsity, pattern and options (`identity`); its tensors must be exactly the ones
    /// the network needs; every tensor must pass `validate(for:)` and
    /// `validateMasks(for:)` (masks of the right pattern and count); and every file must be the one the manifest lists (checksum),
    /// so a directory mixing two runs is refused. `sift reference` and `sift run
    /// --weights` use this.
    public static func load(from directory: String, for network: Network,
                            identity: WeightsManifest.Identity) throws -> ParameterStore {
        let manifest = try WeightsManifest.read(from: directory)
        guard let theirs = manifest.identity else {
            throw SparseIFTError.parameterMismatch("\(directory)/\(SafeDirectory.manifestName) does not say what the weights were made for; write them with `sift weights`")
        }
        let differences = theirs.differences(from: identity)
        guard differences.isEmpty else {
            throw SparseIFTError.parameterMismatch(
                "the weights in \(directory) were made for another network: \(differences.joined(separator: "; ")) (write new ones with `sift weights` and the same options)")
        }
        let expected = expectedShapes(network)
        let listed = Dictionary(manifest.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        if let missing = expected.keys.sorted().first(where: { listed[$0] == nil }) {
            throw SparseIFTError.parameterMismatch("\(directory) has no tensor \(missing) in its manifest; the network needs it")
        }
        if let extra = listed.keys.sorted().first(where: { expected[$0] == nil }) {
            throw SparseIFTError.parameterMismatch("\(directory) holds \(extra), which this network does not have")
        }
        var store = ParameterStore()
        var checksums: [String: String] = [:]
        for key in expected.keys.sorted() {
            let entry = listed[key]!
            let path = "\(directory)/\(entry.file)"
            let bytes = try fromCore { () throws(SiftCoreError) in try SafeFile.read(path) }
            store[key] = try fromCore { () throws(SiftCoreError) in
                do throws(SiftCoreError) {
                    return try NPY.decode(bytes)
                } catch {
                    throw .malformedFile("\(path): \(error.message)")
                }
            }
            checksums[key] = Checksum.fnv1a64(bytes)
        }
        // Content first (so an edited value is named), then provenance.
        try store.validate(for: network)
        try store.validateMasks(for: network)
        for key in expected.keys.sorted() where checksums[key] != listed[key]!.checksum {
            throw SparseIFTError.parameterMismatch(
                "\(directory)/\(listed[key]!.file) is not the file its manifest lists (checksum differs): the directory mixes the output of different runs, or was edited")
        }
        return store
    }
}
