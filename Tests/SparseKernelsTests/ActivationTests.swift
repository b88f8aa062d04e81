import Foundation
import Testing
@testable import SparseKernels

/// The epilogue activations the kernels fuse, measured against their double-precision
/// definitions, and the vector ISAs against the scalar code bit for bit.
@Suite("Epilogue activations")
struct ActivationTests {
    /// Inputs covering the interesting range densely, the tails, tiny values and zeros.
    static let inputs: [Float] = {
        var values: [Float] = [0, -0.0, 1e-30, -1e-30, 1e-6, -1e-6, 5.9999995, 6, 6.0000005, 87, -87, 88, -88, 1e6, -1e6, 3e38, -3e38]
        var v: Float = -20
        while v <= 20 { values.append(v); v += 0.001953125 } // 2^-9 steps
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<20_000 { values.append(16 * generator.nextSignedUnit()) }
        for exponent in -40...40 { values.append(powf(2, Float(exponent)) * 1.37); values.append(-powf(2, Float(exponent)) * 1.37) }
        return values
    }()

    static func geluDouble(_ v: Float) -> Double {
        let x = Double(v)
        return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    /// Worst error of `out` against the double-precision GELU over the inputs in `range`,
    /// in float ulps of `|gelu(v)|` (relative) or of `|v|` (the scale the fused epilogue's
    /// tolerance uses).
    static func worstError(_ out: [Float], in range: ClosedRange<Float>, relativeToInput: Bool) -> (input: Float, ulps: Double) {
        var worst: (input: Float, ulps: Double) = (0, 0)
        for (v, got) in zip(inputs, out) where range.contains(v) {
            let exact = geluDouble(v)
            let scale = relativeToInput ? Double(abs(v)) : abs(exact)
            guard scale > Double(Float.leastNormalMagnitude) else { continue }
            let ulps = abs(Double(got) - exact) / (scale * Double(Float.ulpOfOne))
            if ulps > worst.ulps { worst = (v, ulps) }
        }
        return worst
    }

    /// In the negative tail GELU is tiny against v (gelu(-4) = -1e-4·|v|·0.8...): the float
    /// rounding of its argument -2u, about 2 ulps of |u|, becomes a relative error of
    /// ~|u|·2 ulps in e^(-2u) and thus in the result. The fused epilogue's tolerance is
    /// in ulps of |v|, where the error stays small everywhere.
    @Test("GELU against the double-precision tanh form: within 2 ulps of |v| everywhere; relative: 3 ulps on [-1, ∞), 12 on [-4, -1]",
          arguments: Machine.supportedISAs)
    func geluAccuracy(isa: ISA) {
        let out = Activation.gelu.apply(to: Self.inputs, isa: isa)
        let ofInput = Self.worstError(out, in: -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude, relativeToInput: true)
        let positive = Self.worstError(out, in: -1...Float.greatestFiniteMagnitude, relativeToInput: false)
        let tail = Self.worstError(out, in: -4 ... -1, relativeToInput: false)
        #expect(ofInput.ulps <= 2, "\(isa): \(ofInput.ulps) ulps of |v| at v = \(ofInput.input)")
        #expect(positive.ulps <= 3, "\(isa): \(positive.ulps) ulps of gelu(v) at v = \(positive.input)")
        #expect(tail.ulps <= 12, "\(isa): \(tail.ulps) ulps of gelu(v) at v = \(tail.input)")
        #expect(out.allSatisfy { $0.isFinite }, "\(isa): GELU of finite inputs is finite")
    }

    @Test("Every ISA computes every activation with the same bits as the scalar code")
    func bitwiseAcrossISAs() {
        for activation in Activation.allCases {
            let scalar = activation.apply(to: Self.inputs, isa: .scalar)
            for isa in Machine.supportedISAs where isa != .scalar {
                let vector = activation.apply(to: Self.inputs, isa: isa)
                let first = scalar.indices.first { scalar[$0].bitPattern != vector[$0].bitPattern }
                #expect(first == nil, "\(activation) \(isa): differs at v = \(first.map { Self.inputs[$0] } ?? 0)")
            }
        }
    }

    @Test("ReLU and ReLU6 are exact, NaN passes through (no silent zero after an overflow), -0 stays -0")
    func clamps() {
        let negativeZero = Float(-0.0).bitPattern
        for isa in Machine.supportedISAs {
            let relu = Activation.relu.apply(to: [-2, -0.0, 0, 3.5, 7, .nan, .infinity], isa: isa)
            #expect(Array(relu.map(\.bitPattern).prefix(5)) == [0, negativeZero, 0, Float(3.5).bitPattern, Float(7).bitPattern], "\(isa)")
            #expect(relu[5].isNaN && relu[6] == .infinity, "\(isa)")
            let relu6 = Activation.relu6.apply(to: [-2, -0.0, 3.5, 6, 6.5, 1e30, .nan], isa: isa)
            #expect(Array(relu6.map(\.bitPattern).prefix(6)) == [0, negativeZero, Float(3.5).bitPattern, Float(6).bitPattern,
                                                                 Float(6).bitPattern, Float(6).bitPattern], "\(isa)")
            #expect(relu6[6].isNaN, "\(isa)")
            #expect(Activation.none.apply(to: [-2, 5], isa: isa) == [-2, 5])
        }
    }

    @Test("Activation names parse, unknown ones are refused")
    func parsing() throws {
        #expect(try Activation(parsing: "GELU") == .gelu)
        #expect(try Activation(parsing: "relu6") == .relu6)
        #expect(throws: KernelError.self) { try Activation(parsing: "swish") }
    }
}
