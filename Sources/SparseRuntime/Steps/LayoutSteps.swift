import SparseKernels

/// The user's tensors are `[batch] + shape` (PyTorch order); inside the plan every value
/// is channel-major (`runtime_ops.h`). These steps convert at the edges of a run, and
/// count in its time: a user pays for them too.
enum UserLayout: Sendable {
    /// `[C, H, W]`: `[B, C, HW]` <-> `[C, B, HW]`.
    case image(channels: Int, positions: Int)
    /// `[T, D]` or `[D]`: `[B·T, D]` <-> `[D, B·T]`, a transpose.
    case features(rows: Int, columns: Int)
    /// Token ids `[T]`: `[B, T]` is already `[1, B·T]`.
    case tokens(count: Int)

    func toPlan(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, isa: ISA, threads: Int) {
        switch self {
        case .image(let channels, let positions):
            Operators.swapAxes(batch, channels, inner: positions, x: x, y: y, isa: isa, threads: threads)
        case .features(let rows, let columns):
            Operators.swapAxes(columns, rows, inner: 1, x: x, y: y, isa: isa, threads: threads)
        case .tokens(let count):
            y.update(from: x, count: count)
        }
    }

    func toUser(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, isa: ISA, threads: Int) {
        switch self {
        case .image(let channels, let positions):
            Operators.swapAxes(channels, batch, inner: positions, x: x, y: y, isa: isa, threads: threads)
        case .features(let rows, let columns):
            Operators.swapAxes(rows, columns, inner: 1, x: x, y: y, isa: isa, threads: threads)
        case .tokens(let count):
            y.update(from: x, count: count)
        }
    }
}

final class ImportStep: Step {
    let output: BufferID, layout: UserLayout, batch: Int
    var node: String { "input" }
    var kind: String { "layout" }
    var reads: [BufferID] { [] }
    var writes: BufferID { output }
    var kernel: String { "to channel-major" }

    init(output: BufferID, layout: UserLayout, batch: Int) {
        self.output = output
        self.layout = layout
        self.batch = batch
    }

    func run(_ context: ExecutionContext) throws {
        layout.toPlan(context.userInput, context.buffer(output), batch: batch, isa: context.isa, threads: context.threads)
    }
}

final class ExportStep: Step {
    let input: BufferID, layout: UserLayout, batch: Int
    var node: String { "output" }
    var kind: String { "layout" }
    var reads: [BufferID] { [input] }
    /// Writes the user's array, not the arena: no buffer of its own.
    var writes: BufferID { -1 }
    var kernel: String { "to [batch] + shape" }

    init(input: BufferID, layout: UserLayout, batch: Int) {
        self.input = input
        self.layout = layout
        self.batch = batch
    }

    func run(_ context: ExecutionContext) throws {
        layout.toUser(context.buffer(input), context.userOutput, batch: batch, isa: context.isa, threads: context.threads)
    }
}
