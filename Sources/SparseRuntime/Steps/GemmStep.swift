internal import CSparseKernels
import SparseKernels

/// A weight layer as matrix products `Y (M×N) = W (M×K) · X (K×N)`, one per group.
///
/// How X is formed (the convolution lowering), measured on resnet18-cifar (see
/// `Lowering.convolutionChunkBytes` for the figures):
/// - Channel-major activations make X the layer's input itself for linear layers and
///   1x1 stride-1 convolutions: no copy at all.
/// - Other convolutions build X by im2col, but never for the whole batch at once: the
///   N columns are cut in chunks whose K x chunk im2col block fits the cache, each chunk
///   is copied and multiplied while it is still there, and Y is written in place (the
///   kernels take Y's leading dimension). The copy then costs a pass over cached data
///   instead of a round trip of a K×N matrix (151 MB for conv2_x at batch 64) to DRAM.
/// - With enough columns, each thread takes its own columns and chunks (`perThread`,
///   `sk_op_conv_gemm_run`): it copies a chunk into its own L2 and multiplies it there
///   with a one-thread kernel call, no barrier in between. With few columns (small
///   batches, late layers) one multi-threaded kernel call per chunk splits the rows of W
///   instead, so each thread reads only its part of the weights.
final class GemmStep: Step {
    let node: String
    let fused: [String]
    let kind: String
    let input: BufferID
    let output: BufferID
    let residual: BufferID?
    /// M of each group (output channels / features per group) and K (reduction).
    let rowsPerGroup: Int
    let reduction: Int
    let groups: Int
    /// N: output positions times the batch; and the input's columns (its row stride).
    let columns: Int
    let inputColumns: Int
    let activation: Activation
    /// Present when X comes from im2col: the geometry of one group's input channels.
    let convolution: ConvGeometry?
    let batch: Int
    let chunkColumns: Int
    let im2colBuffer: BufferID?
    /// Columns split between threads, each with its own im2col chunks (see above).
    let perThread: Bool
    /// Folded bias (BatchNorm shift included), owned by the step.
    private let bias: UnsafeMutablePointer<Float>?
    var work: StepWork

    /// Set when the kernels are chosen: one prepared matrix per group and why.
    var kernels: [PreparedWeights] = []
    var choices: [KernelChoice] = []

    init(node: String, fused: [String], kind: String, input: BufferID, output: BufferID, residual: BufferID?,
         rowsPerGroup: Int, reduction: Int, groups: Int, columns: Int, inputColumns: Int, activation: Activation,
         convolution: ConvGeometry?, batch: Int, chunkColumns: Int, im2colBuffer: BufferID?, perThread: Bool, bias: [Float]?,
         work: StepWork) {
        self.node = node
        self.fused = fused
        self.kind = kind
        self.input = input
        self.output = output
        self.residual = residual
        self.rowsPerGroup = rowsPerGroup
        self.reduction = reduction
        self.groups = groups
        self.columns = columns
        self.inputColumns = inputColumns
        self.activation = activation
        self.convolution = convolution
        self.batch = batch
        self.chunkColumns = chunkColumns
        self.im2colBuffer = im2colBuffer
        self.perThread = perThread
        self.work = work
        if let bias {
            let storage = UnsafeMutablePointer<Float>.allocate(capacity: bias.count)
            storage.initialize(from: bias, count: bias.count)
            self.bias = storage
        } else {
            self.bias = nil
        }
    }

    deinit { bias?.deallocate() }

    var reads: [BufferID] { [input] + (residual.map { [$0] } ?? []) }
    var writes: BufferID { output }
    var scratch: [BufferID] { im2colBuffer.map { [$0] } ?? [] }

    var kernel: String {
        let format = kernels.first.map { $0.format.description } ?? "?"
        return (im2colBuffer != nil ? "im2col+" : "") + format
    }

    /// The N and the threads of each kernel call (what the kernels are timed on).
    var callColumns: Int { im2colBuffer != nil ? min(chunkColumns, columns) : columns }
    func callThreads(_ threads: Int) -> Int { perThread ? 1 : threads }

    /// Options of each kernel call, set with the kernels.
    var callOptions: ExecutionOptions?

    func run(_ context: ExecutionContext) throws {
        let x = UnsafePointer(context.buffer(input))
        let y = context.buffer(output)
        let r = residual.map { UnsafePointer(context.buffer($0)) }
        guard let options = callOptions else { throw RuntimeError.unsupported("\(node): no kernel was chosen (a compiler bug)") }
        guard let convolution, let im2colBuffer else {
            for g in 0..<groups {
                try kernels[g].multiply(n: columns, x: x + g * reduction * inputColumns, ldx: inputColumns,
                                        y: y + g * rowsPerGroup * columns, ldy: columns,
                                        bias: bias.map { UnsafePointer($0 + g * rowsPerGroup) },
                                        residual: r.map { $0 + g * rowsPerGroup * columns }, ldResidual: columns,
                                        activation: activation, options: options)
            }
            return
        }
        let patches = context.buffer(im2colBuffer)
        if perThread {
            try runPerThread(context, convolution: convolution, x: x, y: y, residual: r, patches: patches)
            return
        }
        var start = 0
        while start < columns {
            let width = min(chunkColumns, columns - start)
            for g in 0..<groups {
                Operators.im2col(convolution, batch: batch, x: x + g * convolution.channels * inputColumns, ldx: inputColumns,
                                 columns: start..<(start + width), out: patches, ldo: width, isa: context.isa,
                                 threads: context.threads)
                try kernels[g].multiply(n: width, x: patches, ldx: width, y: y + g * rowsPerGroup * columns + start, ldy: columns,
                                        bias: bias.map { UnsafePointer($0 + g * rowsPerGroup) },
                                        residual: r.map { $0 + g * rowsPerGroup * columns + start }, ldResidual: columns,
                                        activation: activation, options: options)
            }
            start += width
        }
    }

    /// One OpenMP team over the columns: each thread copies its chunks and multiplies them
    /// with the chosen kernel on one thread (`sk_op_conv_gemm_run`). The call shapes were
    /// validated through SparseKernels' multiply when the kernel was timed.
    private func runPerThread(_ context: ExecutionContext, convolution: ConvGeometry, x: UnsafePointer<Float>,
                              y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                              patches: UnsafeMutablePointer<Float>) throws {
        let handles = kernels.map { Optional($0.matrix.preparedHandle) }
        let status = handles.withUnsafeBufferPointer { weights in
            var call = sk_op_conv_gemm(
                geometry: convolution.cValue, batch: Int64(batch), x: x, ldx: Int64(inputColumns), groups: Int64(groups),
                rows_per_group: Int64(rowsPerGroup), reduction: Int64(reduction), weights: weights.baseAddress,
                kernel: Int32(kernels[0].kernel.index), params: kernels[0].blockingCValue, bias: bias.map { UnsafePointer($0) }, residual: residual,
                activation: activation.kernelCValue, y: y, columns: Int64(columns), chunk: Int64(chunkColumns),
                scratch: patches)
            return sk_op_conv_gemm_run(&call, context.isa.runtimeCValue, Int32(context.threads))
        }
        guard status == 0 else { throw RuntimeError.unsupported("\(node): kernel \(kernels[0].kernel.name) refused a call") }
    }
}
