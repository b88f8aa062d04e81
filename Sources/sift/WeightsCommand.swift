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

    @Option(help: "Seed of the weights and masks.")
    var seed: UInt64 = 0

    @Option(help: "Directory to write into.")
    var out: String

    func run() throws {
        let count = try reportingErrors {
            let dense = try ModelZoo.build(modelOptions.model, options: try modelOptions.zooOptions())
            let transformed = try transformOptions.run(on: dense)
            let parameters = try ParameterStore.initialize(transformed.network, options: .init(seed: seed))
            try parameters.save(to: out)
            return parameters.tensors.count
        }
        print("wrote \(count) tensors to \(out)")
    }
}
