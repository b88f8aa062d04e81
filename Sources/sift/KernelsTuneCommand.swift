import ArgumentParser
import Foundation
import SparseKernels

/// `sift kernels tune`: search this machine's kernel blocking and variants now (the search
/// other commands run on first use), and store the result in the tuning file.
struct KernelsTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Measure this machine's best kernel blocking and variants and store them in the tuning file."
    )

    @OptionGroup var execution: ExecutionArguments

    @Option(parsing: .unconditional, help: "Longest the search may take, in seconds (it stops with what it has).")
    var budget: Double = TuningSession.firstUseBudgetSeconds

    @Flag(help: "Print the stored record as JSON.")
    var json = false

    func run() throws {
        try reportingErrors {
            let options = try execution.resolve()
            guard budget.isFinite, budget >= 0, budget <= 3600 else {
                throw KernelError.invalidArgument("budget \(budget) s must be between 0 and 3600")
            }
            let path = execution.tuning ?? TuningFile.defaultPath()
            // Refuse a tuning path that is a link, device or directory before measuring.
            let existing: FileKind?
            do throws(SiftCoreError) { existing = try SafeFile.kindOfExisting(path) } catch { throw KernelError(error) }
            if let existing, existing != .regular {
                throw KernelError.io("refusing to write \(path): it is \(existing.phrase); sift only replaces regular files")
            }
            Machine.bindThreads(options.threads)
            let key = KernelTuning.Key(options)
            FileHandle.standardError.write(Data("sift: tuning the kernels for \(key) (at most \(Int(budget)) s)\n".utf8))
            let record = try KernelTuner(options: options, budgetSeconds: budget, log: { line in
                FileHandle.standardError.write(Data("sift: tuning: \(line)\n".utf8))
            }).tune()
            try TuningFile.store(record, at: path)
            if json {
                print(String(decoding: try TuningFile(records: [record]).encoded(), as: UTF8.self), terminator: "")
            } else {
                print(String(format: "tuned %@ in %.0f s; stored in %@", key.description, record.searchSeconds, path))
                for kernel in record.kernels {
                    let blocking = kernel.blocking
                    let fields = [("kc", blocking.kBlock), ("mc", blocking.mBlock), ("nc", blocking.nBlock), ("aux", blocking.auxiliary), ("pf", blocking.prefetch)]
                        .compactMap { name, value in value.map { "\(name)=\($0)" } }.joined(separator: " ")
                    print("  \(kernel.name)\(kernel.rank > 0 ? " (chosen)" : "") \(fields)")
                }
                if let csr = record.csr {
                    print("  csr K block: \(csr.dense) at density >= \(csr.threshold), \(csr.sparse) below")
                }
            }
        }
    }
}
