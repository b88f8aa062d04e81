import ArgumentParser
import Foundation
import SparseKernels

struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Run one kernel on your data, benchmark every format against the dense kernel, or list the kernels.",
        subcommands: [KernelsMultiplyCommand.self, KernelsBenchCommand.self, KernelsListCommand.self, KernelsTuneCommand.self]
    )
}

/// ISA and thread options shared by the kernel commands.
struct ExecutionArguments: ParsableArguments {
    @Option(help: "ISA path: scalar, avx2 or avx512 (default: $SIFT_ISA, else the best this CPU has).")
    var isa: String?

    @Option(parsing: .unconditional, help: "OpenMP threads (default: $SIFT_THREADS, else one per core).")
    var threads: Int?

    @Option(help: "Kernel tuning file (default: $XDG_CACHE_HOME/sift/kernel-tuning.json, else ~/.cache/...). Searched on first use; SIFT_TUNING=defaults skips it.")
    var tuning: String?

    func resolve() throws(KernelError) -> ExecutionOptions {
        let parsedISA: ISA? = try isa.map { text throws(KernelError) in try ISA(parsing: text) }
        return try ExecutionOptions.fromEnvironment(isa: parsedISA, threads: threads)
    }

    /// The options with this machine's kernel tuning: read from the tuning file, or searched
    /// now (announced on stderr, bounded) when there is none yet.
    func resolveTuned() throws(KernelError) -> (ExecutionOptions, TuningSession.Source) {
        try TuningSession.resolve(try resolve(), path: tuning, searchIfMissing: true) { message in
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }
    }
}

struct KernelsMultiplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multiply",
        abstract: "Y = W·X with W in the chosen format; W's zeros define the sparsity pattern."
    )

    @Option(help: "Weights W (M×K) as a float32 .npy file.")
    var weights: String

    @Option(help: "Input X (K×N, or a length-K vector) as a .npy file.")
    var input: String

    @Option(help: "Storage format: dense, csr, nm or bsr.")
    var format: String

    @Option(help: "N:M pattern for --format nm, e.g. 2:4.")
    var nm: String?

    @Option(help: "Block shape for --format bsr, e.g. 4x4.")
    var block: String?

    @Option(help: "Optional bias (length M) .npy file.")
    var bias: String?

    @Option(help: "Optional residual (M×N) .npy file added before the activation.")
    var residual: String?

    @Option(help: "Activation fused after bias and residual: none, relu, relu6 or gelu (tanh form).")
    var activation: String?

    @Flag(help: "Apply ReLU to the output (the same as --activation relu).")
    var relu = false

    @Option(help: "Run this kernel of `sift kernels list` instead of the default choice.")
    var kernel: String?

    @OptionGroup var execution: ExecutionArguments

    @Option(help: "Where to write Y as a float32 .npy file.")
    var out: String

    func weightFormat() throws(KernelError) -> WeightFormat {
        switch format.lowercased() {
        case "dense": return .dense
        case "csr": return .csr
        case "nm":
            guard let nm else { throw .invalidArgument("--format nm needs --nm N:M (e.g. --nm 2:4)") }
            return try WeightFormat.nm(parsing: nm)
        case "bsr":
            guard let block else { throw .invalidArgument("--format bsr needs --block RxC (e.g. --block 4x4)") }
            return try WeightFormat.bsr(parsing: block)
        default:
            throw .invalidArgument("unknown format '\(format)': expected dense, csr, nm or bsr")
        }
    }

    func chosenActivation() throws(KernelError) -> Activation {
        guard let activation else { return relu ? .relu : .none }
        let parsed = try Activation(parsing: activation)
        if relu && parsed != .relu {
            throw .invalidArgument("--relu and --activation \(activation) disagree: give one of them")
        }
        return parsed
    }

    func run() throws {
        try reportingErrors {
            // Everything is read and validated before the output file is touched, so a
            // refused run leaves no file behind.
            _ = try execution.resolve() // refuse bad ISA or threads before anything else
            let weightFormat = try weightFormat()
            let w = try Matrix(NPY.read(contentsOf: weights))
            let inputTensor = try NPY.read(contentsOf: input)
            let x = try Matrix(inputTensor)
            var epilogue = Epilogue(activation: try chosenActivation())
            if let bias {
                let tensor = try NPY.read(contentsOf: bias)
                guard tensor.shape.count == 1 else {
                    throw KernelError.shapeMismatch("bias must be a 1-D array, got shape \(tensor.shape)")
                }
                epilogue.bias = tensor.values
            }
            if let residual { epilogue.residual = try Matrix(NPY.read(contentsOf: residual)) }
            let (options, _) = try execution.resolveTuned()
            let prepared = try prepareWeights(w, as: weightFormat, options: options)
            var chosenKernel: KernelInfo?
            if let kernel {
                guard let found = KernelRegistry.named(kernel) else {
                    throw KernelError.invalidArgument("no kernel named '\(kernel)': see sift kernels list")
                }
                chosenKernel = found
            }
            let y = try prepared.multiply(x, epilogue: epilogue, kernel: chosenKernel, options: options)
            // Finite inputs can still overflow to infinity: refuse rather than write it.
            if let index = y.values.firstIndex(where: { !$0.isFinite }) {
                throw KernelError.nonFiniteValue("the product overflows float32 at row \(index / y.columns), column \(index % y.columns) (\(y.values[index])); nothing written")
            }
            // A vector in gives a vector out, as NumPy's W @ x would.
            let output = inputTensor.shape.count == 1 ? try Tensor(shape: [y.rows], values: y.values) : y.tensor
            try NPY.write(output, to: out)
        }
    }
}
