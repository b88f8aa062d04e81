internal import CSparseKernels
import SparseKernels

extension Activation {
    /// The operators' C enum (numbered as the kernels' `sk_activation`).
    var cValue: sk_op_act {
        switch self {
        case .none: SK_OP_ACT_NONE
        case .relu: SK_OP_ACT_RELU
        case .relu6: SK_OP_ACT_RELU6
        case .gelu: SK_OP_ACT_GELU
        }
    }

    /// The kernels' epilogue enum.
    var kernelCValue: sk_activation { sk_activation(rawValue: cValue.rawValue) }
}

extension ISA {
    /// The C enum of this ISA (SparseKernels keeps its own mapping internal).
    var runtimeCValue: sk_isa {
        switch self {
        case .scalar: SK_ISA_SCALAR
        case .avx2: SK_ISA_AVX2
        case .avx512: SK_ISA_AVX512
        }
    }
}

/// The geometry of a convolution or pooling window over one channel-major input.
struct ConvGeometry: Hashable, Sendable {
    var channels: Int
    var height: Int
    var width: Int
    var kernelHeight: Int
    var kernelWidth: Int
    var stride: Int
    var padding: Int
    var outHeight: Int
    var outWidth: Int

    var cValue: sk_op_conv_geometry {
        sk_op_conv_geometry(channels: Int64(channels), height: Int64(height), width: Int64(width),
                            kernel_h: Int64(kernelHeight), kernel_w: Int64(kernelWidth),
                            stride: Int64(stride), padding: Int64(padding),
                            out_h: Int64(outHeight), out_w: Int64(outWidth))
    }

    /// True when the convolution reads its input as the GEMM's X with no copy: a 1x1
    /// window at stride 1 without padding (in the channel-major layout, X is the input).
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }
}

/// Thin Swift entry points to the C operators of `runtime_ops.h`. The executor calls them
/// with pointers into the plan's arena; every size was validated when the plan was built.
enum Operators {
    typealias Input = UnsafePointer<Float>
    typealias Output = UnsafeMutablePointer<Float>

    static func activation(_ act: Activation, rows: Int, columns: Int, x: Input, ldx: Int, y: Output, ldy: Int,
                           isa: ISA, threads: Int) {
        sk_op_activation(act.cValue, Int64(rows), Int64(columns), x, Int64(ldx), y, Int64(ldy),
                         isa.runtimeCValue, Int32(threads))
    }

    static func add(_ inputs: [Input], count: Int, y: Output, act: Activation, isa: ISA, threads: Int) {
        var pointers: [UnsafePointer<Float>?] = inputs.map { $0 }
        pointers.withUnsafeMutableBufferPointer { buffer in
            sk_op_add(Int32(inputs.count), buffer.baseAddress, Int64(count), y, act.cValue, isa.runtimeCValue, Int32(threads))
        }
    }

    static func channelAffine(rows: Int, columns: Int, x: Input, scale: Input?, shift: Input?, act: Activation,
                              y: Output, isa: ISA, threads: Int) {
        sk_op_channel_affine(Int64(rows), Int64(columns), x, Int64(columns), scale, shift, act.cValue, y, Int64(columns),
                             isa.runtimeCValue, Int32(threads))
    }

    static func layerNorm(features: Int, columns: Int, x: Input, gamma: Input, beta: Input, epsilon: Float, y: Output,
                          isa: ISA, threads: Int) {
        sk_op_layernorm(Int64(features), Int64(columns), x, Int64(columns), gamma, beta, epsilon, y, Int64(columns),
                        isa.runtimeCValue, Int32(threads))
    }

    static func im2col(_ g: ConvGeometry, batch: Int, x: Input, ldx: Int, columns: Range<Int>, out: Output, ldo: Int,
                       isa: ISA, threads: Int) {
        var geometry = g.cValue
        sk_op_im2col(&geometry, Int64(batch), x, Int64(ldx), Int64(columns.lowerBound), Int64(columns.upperBound),
                     out, Int64(ldo), isa.runtimeCValue, Int32(threads))
    }

    static func depthwise(_ g: ConvGeometry, batch: Int, x: Input, weights: Input, bias: Input?, act: Activation,
                          y: Output, scratch: Output, isa: ISA, threads: Int) {
        var geometry = g.cValue
        sk_op_depthwise_conv(&geometry, Int64(batch), x, weights, bias, act.cValue, y, scratch, isa.runtimeCValue,
                             Int32(threads))
    }

    /// Scratch of the depthwise operator for `threads` threads.
    static func depthwiseScratchFloats(_ g: ConvGeometry, threads: Int) -> Int {
        var geometry = g.cValue
        return Int(sk_op_depthwise_scratch_floats(&geometry)) * max(1, threads)
    }

    static func pool(max isMax: Bool, _ g: ConvGeometry, batch: Int, x: Input, y: Output, threads: Int) {
        var geometry = g.cValue
        sk_op_pool(isMax ? 1 : 0, &geometry, Int64(batch), x, y, Int32(threads))
    }

    static func globalAveragePool(channels: Int, batch: Int, positions: Int, x: Input, y: Output, threads: Int) {
        sk_op_global_avgpool(Int64(channels), Int64(batch), Int64(positions), x, y, Int32(threads))
    }

    static func attention(width: Int, heads: Int, tokens: Int, batch: Int, causal: Bool, scale: Float,
                          q: Input, k: Input, v: Input, out: Output, scratch: Output, isa: ISA, threads: Int) {
        sk_op_attention(Int64(width), Int64(heads), Int64(tokens), Int64(batch), causal ? 1 : 0, scale, q, k, v,
                        Int64(batch * tokens), out, scratch, isa.runtimeCValue, Int32(threads))
    }

    static func attentionScratchFloats(tokens: Int, threads: Int) -> Int {
        Int(sk_op_attention_scratch_floats(Int64(tokens), Int32(threads)))
    }

    static func embedding(dim: Int, count: Int, ids: Input, table: Input, y: Output, threads: Int) {
        sk_op_embedding(Int64(dim), Int64(count), ids, table, y, Int32(threads))
    }

    static func addPositions(dim: Int, tokens: Int, batch: Int, x: Input, table: Input, y: Output, threads: Int) {
        sk_op_add_positions(Int64(dim), Int64(tokens), Int64(batch), x, table, y, Int32(threads))
    }

    static func swapAxes(_ a: Int, _ b: Int, inner: Int, x: Input, y: Output, isa: ISA, threads: Int) {
        sk_op_swap_axes(Int64(a), Int64(b), Int64(inner), x, y, isa.runtimeCValue, Int32(threads))
    }
}
