import ArgumentParser
import Foundation
import SparseIFT

/// `sift weights`: deterministic weights and masks of a (transformed) zoo model as .npy,
/// the inputs the runtime and the simulator check themselves against.
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Write seeded Kaiming weights and masks of a transformed model as <out>/<layer>.<tensor>.npy.")

    @OptionGroup var modelOptions: ZooModelArguments
    @OptionGroup var transformOptions: TransformArguments

    @Option(parsing: .unconditional, help: "Seed of the weights and masks (0 to 18446744073709551615).",
            transform: { text in
                guard let seed = UInt64(text) else {
                    throw ValidationError("--seed must be an integer from 0 to \(UInt64.max), got '\(text)'")
                }
                return seed
            })
    var seed: UInt64 = 0

    @Option(help: "Directory to write: created, or replaced whole if it is empty or an earlier `sift weights` output (it gets a manifest.json).")
    var out: String

    func run() throws {
        let count = try reportingErrors {
            // Refused before any work when --out cannot be replaced.
            try SafeDirectory.checkOutput(out)
            let zooOptions = try modelOptions.zooOptions()
            let dense = try ModelZoo.build(modelOptions.model, options: zooOptions)
            let transformed = try transformOptions.run(on: dense)
            let parameters = try ParameterStore.initialize(transformed.network, options: .init(seed: seed))
            let identity = WeightsManifest.Identity(model: modelOptions.model, zooOptions: zooOptions, transformed: transformed)
            try parameters.save(to: out, network: transformed.network.name, identity: identity, seed: seed)
            return parameters.tensors.count
        }
        print("wrote \(count) tensors and a manifest to \(out)")
    }
}
