import SparseKernels

/// A buffer of the plan's arena, by index into `Plan.buffers`.
typealias BufferID = Int

/// What one buffer holds and how big it is; the memory planner gives it an offset.
struct BufferSpec: Sendable {
    var floats: Int
    var label: String
}

/// Where a step finds its buffers while it runs: the arena's base and each buffer's
/// offset (in floats), plus the user's input and output arrays for the layout steps.
struct ExecutionContext {
    let arena: UnsafeMutablePointer<Float>
    let offsets: [Int]
    let isa: ISA
    let threads: Int
    let userInput: UnsafePointer<Float>
    let userOutput: UnsafeMutablePointer<Float>

    func buffer(_ id: BufferID) -> UnsafeMutablePointer<Float> { arena + offsets[id] }
}

/// The floating-point work of a step, for GFLOP/s in the profile.
struct StepWork: Sendable {
    /// FLOPs actually needed: 2 per multiply-add with a nonzero weight (zeros skipped).
    var nonzeroFLOPs: Double = 0
    /// FLOPs of the same product with every weight present.
    var denseFLOPs: Double = 0
}

/// One step of an execution plan: a kernel or operator call on arena buffers.
protocol Step: AnyObject {
    /// The IR node this step computes (profile row) and the IR nodes fused into it.
    var node: String { get }
    var fused: [String] { get }
    /// Short kind: conv2d, linear, attention, layernorm...
    var kind: String { get }
    var reads: [BufferID] { get }
    var writes: BufferID { get }
    /// Buffers live only while this step runs (im2col chunks, attention scores).
    var scratch: [BufferID] { get }
    var work: StepWork { get }
    /// What runs it, for `--explain` and the profile ("csr", "im2col+dense", "avx512"...).
    var kernel: String { get }
    func run(_ context: ExecutionContext) throws
}

extension Step {
    var fused: [String] { [] }
    var scratch: [BufferID] { [] }
    var work: StepWork { StepWork() }
}
