import ArgumentParser
import SiftCore

/// `sift`: the command-line face of the toolkit. It parses arguments and calls the
/// libraries; the work itself lives in SparseKernels and SparseIFT.
@main
struct Sift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sift",
        abstract: "Sparse Iso-FLOP Transformations: kernels, transforms and their wall-clock cost.",
        subcommands: [
            KernelsCommand.self, ModelsCommand.self, TransformCommand.self, WeightsCommand.self,
            ReferenceCommand.self, TracesCommand.self, SimulateCommand.self, ReportCommand.self,
            ExportCommand.self, ImportCommand.self, RunCommand.self,
        ]
    )

    /// Before parsing: an interrupted run (SIGINT, SIGTERM, SIGHUP) removes the partial
    /// files of the outputs it was writing (see SiftCore's `SafeFile`).
    static func main() {
        PartialOutputs.removeOnTermination()
        main(nil)
    }
}
