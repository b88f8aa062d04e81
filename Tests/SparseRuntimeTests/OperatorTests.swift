import Foundation
import Testing
import SparseKernels
@testable import SparseRuntime

/// The C operators of `kernels/ops`: every vector variant against the scalar one on every
/// ISA this CPU has, and the scalar one against a plain double-precision definition.
@Suite(.serialized) struct OperatorTests {
    static let isas = Machine.supportedISAs

    static func values(_ count: Int, seed: UInt64, range: Double = 4) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float((generator.nextUnit() * 2 - 1) * range) }
    }

    static func geluReference(_ x: Float) -> Double {
        let v = Double(x)
        return 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
    }

    @Test(arguments: [1, 7, 16, 33, 1000, 40_000])
    func activationsMatchTheirDefinitions(count: Int) throws {
        var x = Self.values(count, seed: UInt64(count), range: 9)
        x[0] = 0
        if count > 3 { x[1] = 6; x[2] = -0.0; x[3] = 6.5 }
        for act in [Activation.relu, .relu6, .gelu, .none] {
            var scalar = [Float](repeating: .nan, count: count)
            Operators.activation(act, rows: 1, columns: count, x: x, ldx: count, y: &scalar, ldy: count, isa: .scalar, threads: 1)
            for (index, value) in x.enumerated() {
                let expected: Double = switch act {
                case .relu: Double(max(value, 0))
                case .relu6: Double(min(max(value, 0), 6))
                case .gelu: Self.geluReference(value)
                case .none: Double(value)
                }
                #expect(abs(Double(scalar[index]) - expected) <= 4e-7 * max(1, abs(expected)), "\(act) at \(value)")
            }
            for isa in Self.isas {
                for threads in [1, 2] {
                    var vector = [Float](repeating: .nan, count: count)
                    Operators.activation(act, rows: 1, columns: count, x: x, ldx: count, y: &vector, ldy: count, isa: isa, threads: threads)
                    if act == .gelu {  // polynomial exp: a few ulp from libm's
                        for index in x.indices {
                            #expect(abs(vector[index] - scalar[index]) <= 4e-7 * max(1, abs(scalar[index])), "\(isa) gelu at \(x[index])")
                        }
                    } else {
                        #expect(vector == scalar, "\(isa) \(act)")
                    }
                }
            }
        }
    }

    @Test func stridedActivationTouchesOnlyItsColumns() throws {
        let (rows, columns, ld) = (5, 19, 24)
        let x = Self.values(rows * ld, seed: 3)
        for isa in Self.isas {
            var y = [Float](repeating: 42, count: rows * ld)
            Operators.activation(.relu, rows: rows, columns: columns, x: x, ldx: ld, y: &y, ldy: ld, isa: isa, threads: 2)
            for r in 0..<rows {
                for c in 0..<ld {
                    #expect(y[r * ld + c] == (c < columns ? max(x[r * ld + c], 0) : 42))
                }
            }
        }
    }

    @Test func addAndAffineEqualTheScalarVariant() throws {
        let count = 1237
        let inputs = (0..<3).map { Self.values(count, seed: UInt64(10 + $0)) }
        let (rows, columns) = (7, 181)
        let x = Self.values(rows * columns, seed: 20)
        let scale = Self.values(rows, seed: 21), shift = Self.values(rows, seed: 22)
        for act in Activation.allCases where act != .gelu {
            var expectedSum = [Float](repeating: 0, count: count)
            Operators.add(inputs.map { UnsafePointer($0) }, count: count, y: &expectedSum, act: act, isa: .scalar, threads: 1)
            for index in 0..<count {
                let sum = inputs[0][index] + inputs[1][index] + inputs[2][index]
                #expect(expectedSum[index] == (act == .none ? sum : act == .relu ? max(sum, 0) : min(max(sum, 0), 6)))
            }
            var expectedAffine = [Float](repeating: 0, count: rows * columns)
            Operators.channelAffine(rows: rows, columns: columns, x: x, scale: scale, shift: shift, act: act, y: &expectedAffine,
                                    isa: .scalar, threads: 1)
            for isa in Self.isas {
                for threads in [1, 2] {
                    var sum = [Float](repeating: 0, count: count)
                    Operators.add(inputs.map { UnsafePointer($0) }, count: count, y: &sum, act: act, isa: isa, threads: threads)
                    #expect(sum == expectedSum)
                    var affine = [Float](repeating: 0, count: rows * columns)
                    Operators.channelAffine(rows: rows, columns: columns, x: x, scale: scale, shift: shift, act: act, y: &affine,
                                            isa: isa, threads: threads)
                    #expect(affine == expectedAffine)
                }
            }
        }
    }

    @Test(arguments: [(1, 1), (16, 7), (96, 33), (768, 64)])
    func layerNormMatchesItsDefinition(features: Int, columns: Int) throws {
        let x = Self.values(features * columns, seed: UInt64(features), range: 3).map { $0 + 5 }  // mean far from 0
        let gamma = Self.values(features, seed: 1), beta = Self.values(features, seed: 2)
        var scalar = [Float](repeating: 0, count: x.count)
        Operators.layerNorm(features: features, columns: columns, x: x, gamma: gamma, beta: beta, epsilon: 1e-5, y: &scalar,
                            isa: .scalar, threads: 1)
        for c in 0..<columns {
            let column = (0..<features).map { Double(x[$0 * columns + c]) }
            let mean = column.reduce(0, +) / Double(features)
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(features)
            for f in 0..<features {
                let sigma = (variance + 1e-5).squareRoot()
                let expected = (column[f] - mean) / sigma * Double(gamma[f]) + Double(beta[f])
                // Float sums of `features` terms: the mean's rounding error (about
                // sqrt(n)·u·|mean|) scaled by gamma / sigma dominates.
                let bound = 8 * Double(features).squareRoot() * 0x1p-24 * (1 + abs(mean) / sigma) * max(1, abs(Double(gamma[f])))
                #expect(abs(Double(scalar[f * columns + c]) - expected) <= bound + 1e-6 * abs(expected))
            }
        }
        for isa in Self.isas {
            var vector = [Float](repeating: 0, count: x.count)
            Operators.layerNorm(features: features, columns: columns, x: x, gamma: gamma, beta: beta, epsilon: 1e-5, y: &vector,
                                isa: isa, threads: 2)
            #expect(vector == scalar, "\(isa): same operations in the same order")
        }
    }

    /// Naive im2col of the channel-major layout.
    static func im2col(_ g: ConvGeometry, batch: Int, _ x: [Float], ldx: Int, columns: Range<Int>) -> [Float] {
        let taps = g.kernelHeight * g.kernelWidth
        var out: [Float] = []
        for c in 0..<g.channels {
            for t in 0..<taps {
                let (ky, kx) = (t / g.kernelWidth, t % g.kernelWidth)
                for n in columns {
                    let b = n / (g.outHeight * g.outWidth), q = n % (g.outHeight * g.outWidth)
                    let iy = q / g.outWidth * g.stride - g.padding + ky, ix = q % g.outWidth * g.stride - g.padding + kx
                    let inside = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
                    out.append(inside ? x[c * ldx + b * g.height * g.width + iy * g.width + ix] : 0)
                }
            }
        }
        return out
    }

    static func geometry(channels: Int, size: Int, kernel: Int, stride: Int, padding: Int) -> ConvGeometry {
        let out = (size + 2 * padding - kernel) / stride + 1
        return ConvGeometry(channels: channels, height: size, width: size + 1, kernelHeight: kernel, kernelWidth: kernel,
                            stride: stride, padding: padding, outHeight: out, outWidth: (size + 1 + 2 * padding - kernel) / stride + 1)
    }

    @Test(arguments: [(3, 1, 1), (3, 2, 1), (1, 2, 0), (5, 1, 2), (7, 2, 3), (3, 3, 0), (1, 1, 0), (3, 2, 0)])
    func im2colCopiesTheRightPixels(kernel: Int, stride: Int, padding: Int) throws {
        let batch = 3
        // Width 10 and 40: runs shorter and longer than a vector (16, 8 lanes).
        for size in [9, 39] {
        let g = Self.geometry(channels: 4, size: size, kernel: kernel, stride: stride, padding: padding)
        let ldx = batch * g.height * g.width
        let x = Self.values(g.channels * ldx, seed: 5)
        let total = batch * g.outHeight * g.outWidth
        for range in [0..<total, 5..<(total - 3), 0..<1, (total - 1)..<total] {
            let width = range.count
            let expected = Self.im2col(g, batch: batch, x, ldx: ldx, columns: range)
            for isa in Self.isas {
                for threads in [1, 2] {
                    var out = [Float](repeating: .nan, count: g.channels * kernel * kernel * width)
                    Operators.im2col(g, batch: batch, x: x, ldx: ldx, columns: range, out: &out, ldo: width, isa: isa, threads: threads)
                    #expect(out == expected, "\(isa), \(threads) threads, columns \(range)")
                }
            }
        }
        }
    }

    @Test(arguments: [(3, 1, 1), (3, 2, 1), (5, 2, 2), (1, 1, 0), (3, 1, 0)])
    func depthwiseConvolutionMatchesItsDefinition(kernel: Int, stride: Int, padding: Int) throws {
        let batch = 2
        for size in [5, 17, 40] {
            let g = Self.geometry(channels: 3, size: size, kernel: kernel, stride: stride, padding: padding)
            let x = Self.values(g.channels * batch * g.height * g.width, seed: UInt64(size))
            let w = Self.values(g.channels * kernel * kernel, seed: 9), bias = Self.values(g.channels, seed: 10)
            let outCount = g.channels * batch * g.outHeight * g.outWidth
            func run(_ isa: ISA, threads: Int) -> [Float] {
                var y = [Float](repeating: .nan, count: outCount)
                var scratch = [Float](repeating: .nan, count: Operators.depthwiseScratchFloats(g, threads: threads))
                Operators.depthwise(g, batch: batch, x: x, weights: w, bias: bias, act: .relu6, y: &y, scratch: &scratch,
                                    isa: isa, threads: threads)
                return y
            }
            let scalar = run(.scalar, threads: 1)
            for c in 0..<g.channels {
                for b in 0..<batch {
                    for oy in 0..<g.outHeight {
                        for ox in 0..<g.outWidth {
                            var sum = Double(bias[c])
                            for ky in 0..<kernel {
                                for kx in 0..<kernel {
                                    let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                                    guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                                    sum += Double(w[c * kernel * kernel + ky * kernel + kx])
                                        * Double(x[(c * batch + b) * g.height * g.width + iy * g.width + ix])
                                }
                            }
                            let expected = min(max(sum, 0), 6)
                            let actual = scalar[(c * batch + b) * g.outHeight * g.outWidth + oy * g.outWidth + ox]
                            #expect(abs(Double(actual) - expected) <= 1e-5)
                        }
                    }
                }
            }
            for isa in Self.isas {
                for threads in [1, 2] { #expect(run(isa, threads: threads) == scalar, "\(isa), same taps in the same order") }
            }
        }
    }

    /// Attention of channel-major q, k, v in double precision.
    static func attention(width: Int, heads: Int, tokens: Int, batch: Int, causal: Bool, q: [Float], k: [Float], v: [Float]) -> [Double] {
        let ld = batch * tokens, dh = width / heads
        var out = [Double](repeating: 0, count: width * ld)
        for b in 0..<batch {
            for h in 0..<heads {
                for i in 0..<tokens {
                    var scores = [Double](repeating: -.infinity, count: tokens)
                    for j in 0..<tokens where !causal || j <= i {
                        var s = 0.0
                        for d in 0..<dh { s += Double(q[(h * dh + d) * ld + b * tokens + i]) * Double(k[(h * dh + d) * ld + b * tokens + j]) }
                        scores[j] = s / Double(dh).squareRoot()
                    }
                    let top = scores.max()!
                    let e = scores.map { exp($0 - top) }
                    let total = e.reduce(0, +)
                    for d in 0..<dh {
                        var sum = 0.0
                        for j in 0..<tokens { sum += e[j] / total * Double(v[(h * dh + d) * ld + b * tokens + j]) }
                        out[(h * dh + d) * ld + b * tokens + i] = sum
                    }
                }
            }
        }
        return out
    }

    /// Query blocks are 128 wide: 259 tokens is two full blocks and a short one.
    @Test(arguments: [1, 5, 17, 64, 70, 259])
    func attentionMatchesItsDefinition(tokens: Int) throws {
        let (width, heads, batch) = (24, 2, 2)
        let count = width * batch * tokens
        let q = Self.values(count, seed: 1, range: 2), k = Self.values(count, seed: 2, range: 2), v = Self.values(count, seed: 3)
        for causal in [true, false] {
            let expected = Self.attention(width: width, heads: heads, tokens: tokens, batch: batch, causal: causal, q: q, k: k, v: v)
            var scalar: [Float]?
            for isa in Self.isas {
                for threads in [1, 2] {
                    var out = [Float](repeating: .nan, count: count)
                    var scratch = [Float](repeating: .nan, count: Operators.attentionScratchFloats(tokens: tokens, threads: threads))
                    Operators.attention(width: width, heads: heads, tokens: tokens, batch: batch, causal: causal,
                                        scale: Float(1 / Double(width / heads).squareRoot()), q: q, k: k, v: v, out: &out,
                                        scratch: &scratch, isa: isa, threads: threads)
                    let worst = zip(out, expected).map { abs(Double($0) - $1) }.max() ?? 0
                    #expect(worst <= 2e-6 * Double(tokens).squareRoot() * 4, "\(isa) causal \(causal): \(worst)")
                    // Same operations in the same order, the kernels' exp on every ISA.
                    if let scalar { #expect(out == scalar, "\(isa) \(threads) threads vs scalar") } else { scalar = out }
                }
            }
        }
    }

    @Test func poolingAndGlobalAverage() throws {
        let batch = 2
        for (kernel, stride, padding) in [(3, 2, 1), (2, 2, 0), (3, 1, 1)] {
            let g = Self.geometry(channels: 3, size: 8, kernel: kernel, stride: stride, padding: padding)
            let x = Self.values(g.channels * batch * g.height * g.width, seed: 4)
            for isMax in [true, false] {
                var y = [Float](repeating: .nan, count: g.channels * batch * g.outHeight * g.outWidth)
                Operators.pool(max: isMax, g, batch: batch, x: x, y: &y, threads: 2)
                for plane in 0..<(g.channels * batch) {
                    for oy in 0..<g.outHeight {
                        for ox in 0..<g.outWidth {
                            var best = -Double.infinity, sum = 0.0
                            for ky in 0..<kernel {
                                for kx in 0..<kernel {
                                    let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                                    guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                                    let value = Double(x[plane * g.height * g.width + iy * g.width + ix])
                                    best = max(best, value)
                                    sum += value
                                }
                            }
                            let expected = isMax ? best : sum / Double(kernel * kernel)
                            #expect(abs(Double(y[plane * g.outHeight * g.outWidth + oy * g.outWidth + ox]) - expected) <= 1e-6)
                        }
                    }
                }
            }
        }
        let (channels, positions) = (5, 49)
        let x = Self.values(channels * batch * positions, seed: 6)
        var y = [Float](repeating: .nan, count: channels * batch)
        Operators.globalAveragePool(channels: channels, batch: batch, positions: positions, x: x, y: &y, threads: 2)
        for row in 0..<(channels * batch) {
            let mean = x[(row * positions)..<((row + 1) * positions)].reduce(0.0) { $0 + Double($1) } / Double(positions)
            #expect(abs(Double(y[row]) - mean) <= 1e-7)
        }
    }

    @Test func embeddingPositionsAndLayouts() throws {
        let (dim, vocabulary, tokens, batch) = (10, 7, 70, 3)
        let table = Self.values(vocabulary * dim, seed: 1), positions = Self.values(tokens * dim, seed: 2)
        var generator = SeededGenerator(seed: 3)
        let ids = (0..<(tokens * batch)).map { _ in Float(generator.nextIndex(below: vocabulary)) }
        var embedded = [Float](repeating: .nan, count: dim * tokens * batch)
        Operators.embedding(dim: dim, count: tokens * batch, ids: ids, table: table, y: &embedded, threads: 2)
        var summed = [Float](repeating: .nan, count: embedded.count)
        Operators.addPositions(dim: dim, tokens: tokens, batch: batch, x: embedded, table: positions, y: &summed, threads: 2)
        for n in 0..<(tokens * batch) {
            for d in 0..<dim {
                let e = table[Int(ids[n]) * dim + d]
                #expect(embedded[d * tokens * batch + n] == e)
                #expect(summed[d * tokens * batch + n] == e + positions[(n % tokens) * dim + d])
            }
        }
        for (a, b, inner) in [(3, 5, 1), (67, 45, 1), (200, 131, 1), (4, 3, 49), (1, 9, 2)] {
            let x = Self.values(a * b * inner, seed: UInt64(a))
            for isa in Self.isas {
                var y = [Float](repeating: .nan, count: x.count)
                Operators.swapAxes(a, b, inner: inner, x: x, y: &y, isa: isa, threads: 2)
                var same = true
                for i in 0..<a {
                    for j in 0..<b {
                        for p in 0..<inner where y[(j * a + i) * inner + p] != x[(i * b + j) * inner + p] { same = false }
                    }
                }
                #expect(same, "\(isa) \(a)x\(b)x\(inner)")
            }
        }
    }

    @Test func weightStructureIsDetectedFromTheZeros() throws {
        var generator = SeededGenerator(seed: 11)
        func matrix(_ rows: Int, _ columns: Int, keep: (Int, Int) -> Bool) -> [Float] {
            (0..<(rows * columns)).map { keep($0 / columns, $0 % columns) ? Float(generator.nextUnit() + 0.5) : 0 }
        }
        // 2:4 along K.
        let nm = matrix(16, 32) { _, c in c % 4 == 1 || c % 4 == 2 }
        var s = try nm.withUnsafeBufferPointer { try WeightStructure.detect($0, rows: 16, columns: 32) }
        #expect(s.nonzeros == 256)
        // Columns 1 and 2 of every 4 are kept: 2:4, and also 1:2 (pairs (0,1), (2,3)):
        // the same ratio with the smaller group wins.
        #expect(s.nOfM?.n == 1 && s.nOfM?.m == 2)
        // Whole columns are kept: 16x1 blocks are exact, no wider block is.
        #expect(s.block?.rows == 16 && s.block?.columns == 1)
        // 8x4 blocks kept on a checkerboard.
        let blocks = matrix(32, 64) { r, c in (r / 8 + c / 4) % 2 == 0 }
        s = try blocks.withUnsafeBufferPointer { try WeightStructure.detect($0, rows: 32, columns: 64) }
        #expect(s.block?.rows == 8 && s.block?.columns == 4)
        #expect(s.nonzeros == 32 * 64 / 2)
        // Ragged: 8x4 blocks on a 30x22 matrix (edge blocks 6 rows, 2 columns) are exact.
        let ragged = matrix(30, 22) { r, c in (r / 8 + c / 4) % 2 == 0 }
        s = try ragged.withUnsafeBufferPointer { try WeightStructure.detect($0, rows: 30, columns: 22) }
        #expect(s.block?.rows == 8 && s.block?.columns == 4, "\(String(describing: s.block))")
        // Dense: nothing to offer but dense.
        let dense = matrix(8, 8) { _, _ in true }
        s = try dense.withUnsafeBufferPointer { try WeightStructure.detect($0, rows: 8, columns: 8) }
        #expect(s.nOfM == nil && s.block == nil && s.nonzeros == 64)
        #expect(KernelSelector.candidates(s) == [.dense])
        // Unstructured at 90%: CSR, and the N:M its densest group allows.
        let sparse = matrix(64, 96) { _, _ in generator.nextUnit() < 0.1 }
        s = try sparse.withUnsafeBufferPointer { try WeightStructure.detect($0, rows: 64, columns: 96) }
        let brute = (2...16).compactMap { m -> (Int, Int)? in
            var most = 0  // groups of m along K, the last one short when m does not divide 96
            for r in 0..<64 {
                for g in stride(from: 0, to: 96, by: m) { most = max(most, (g..<min(96, g + m)).filter { sparse[r * 96 + $0] != 0 }.count) }
            }
            return most < m ? (max(1, most), m) : nil
        }.min { Double($0.0) / Double($0.1) < Double($1.0) / Double($1.1) || (Double($0.0) / Double($0.1) == Double($1.0) / Double($1.1) && $0.1 < $1.1) }
        #expect(s.nOfM?.n == brute?.0 && s.nOfM?.m == brute?.1)
        #expect(KernelSelector.candidates(s).contains(.csr))
    }
}
