import Foundation
import Testing
import SparseIFT
import SparseKernels
@testable import SparseRuntime

/// The runtime against `ReferenceExecution` on the same weights and input, within
/// `Tolerance` (see its derivation): every zoo family (at reduced widths, so the plain
/// reference stays fast), dense and every transform at s = 0.5 and 0.9, 1 and 2 threads,
/// with the kernels chosen by timing; then each kernel family forced, and each ISA.
@Suite(.serialized) struct EquivalenceTests {
    enum Family: String, CaseIterable, Sendable {
        case mlp, resnet, mobilenet, gpt

        func network() throws -> Network {
            switch self {
            case .mlp: try Small.mlp()
            case .resnet: try Small.resnet()
            case .mobilenet: try Small.mobilenet()
            case .gpt: try Small.gpt()
            }
        }

        var batch: Int { 2 }
    }

    static let members: [(TransformKind, Double)] = [(.dense, 0)]
        + TransformKind.allCases.flatMap { kind in [0.5, 0.9].map { (kind, $0) } }

    @Test(arguments: Family.allCases)
    func everyTransformMatchesTheReference(family: Family) throws {
        let dense = try family.network()
        for (kind, sparsity) in Self.members {
            // No FLOP search: these networks are too small for Sparse Wide to match the dense FLOPs.
            let network = try SparseIFT.transform(dense, kind: kind, sparsity: sparsity,
                                                  options: TransformOptions(matchDenseFLOPs: false)).network
            let parameters = try Harness.parameters(network)
            let input = try Small.input(for: network, batch: family.batch)
            let expected = try ReferenceExecution.run(network, parameters: parameters, input: input)
            let tolerance = Tolerance(network)
            for threads in [1, 2] {
                let plan = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: family.batch, threads: threads))
                let output = try plan.run(input)
                #expect(output.shape == expected.shape)
                let ratio = tolerance.worstRatio(output.values, expected.values)
                #expect(ratio <= 1, "\(network.name) s=\(sparsity) threads \(threads): error \(ratio)x the tolerance")
            }
        }
    }

    /// Each family on every weight layer its weights allow: CSR and dense on unstructured
    /// masks, N:M on 2:4 masks, BSR on 4x4 block masks (and on the dense layers too).
    @Test(arguments: Family.allCases)
    func everyKernelFamilyMatchesTheReference(family: Family) throws {
        let dense = try family.network()
        let cases: [(KernelFamily, Double, SparsityPattern)] = [
            (.dense, 0.9, .unstructured), (.csr, 0.9, .unstructured), (.nm, 0.5, .nOfM(n: 2, m: 4)), (.bsr, 0.75, .block(rows: 4, columns: 4)),
        ]
        for (forced, sparsity, pattern) in cases {
            for kind in [TransformKind.dense, .wide] {
                guard let transformed = try? SparseIFT.transform(dense, kind: kind, sparsity: sparsity, options: TransformOptions(pattern: pattern, matchDenseFLOPs: false)) else {
                    continue  // a widened layer the pattern does not tile
                }
                let network = transformed.network
                let parameters = try Harness.parameters(network)
                let input = try Small.input(for: network, batch: 2)
                let expected = try ReferenceExecution.run(network, parameters: parameters, input: input)
                for threads in [1, 2] {
                    let plan = try Runtime.compile(network, parameters: parameters,
                                                   options: try Harness.options(batch: 2, threads: threads, forced: forced))
                    let formats = plan.layers.compactMap { $0.choice?.format.family }
                    if kind == .dense, family != .mobilenet || forced != .bsr {
                        #expect(formats.contains(forced), "\(network.name): \(forced) ran on no layer (\(formats))")
                    }
                    let ratio = Tolerance(network).worstRatio(try plan.run(input).values, expected.values)
                    #expect(ratio <= 1, "\(network.name) \(forced) \(pattern) threads \(threads): error \(ratio)x the tolerance")
                }
            }
        }
    }

    /// The whole plan on each ISA path (kernels and operators), im2col in small chunks.
    @Test func everyISAMatchesTheReference() throws {
        for family in Family.allCases {
            let network = try SparseIFT.transform(try family.network(), kind: .wide, sparsity: 0.75,
                                                  options: TransformOptions(matchDenseFLOPs: false)).network
            let parameters = try Harness.parameters(network)
            let input = try Small.input(for: network, batch: 2)
            let expected = try ReferenceExecution.run(network, parameters: parameters, input: input)
            for isa in Machine.supportedISAs {
                for schedule in [ConvolutionSchedule.perThreadColumns, .sharedChunks] {
                    let plan = try Runtime.compile(network, parameters: parameters,
                                                   options: try Harness.options(batch: 2, threads: 2, isa: isa, chunkBytes: 1, schedule: schedule))
                    let ratio = Tolerance(network).worstRatio(try plan.run(input).values, expected.values)
                    #expect(ratio <= 1, "\(network.name) on \(isa), \(schedule): error \(ratio)x the tolerance")
                }
            }
        }
    }

    /// Grouped (not depthwise) convolutions, 3x3 and 1x1 at stride 2, flatten of an image,
    /// average pooling: what the zoo does not have but an imported network may.
    @Test func groupedConvolutionsPoolingAndFlatten() throws {
        var b = NetworkBuilder()
        var x = try b.add("input", .input(shape: [4, 9, 9]))
        x = try b.conv("grouped", x, out: 6, kernel: 3, stride: 1, padding: 1, groups: 2, bias: true)
        x = try b.unary("bn", .batchNorm, x)
        x = try b.unary("relu", .relu6, x)
        x = try b.conv("grouped_pointwise", x, out: 4, kernel: 1, stride: 2, groups: 2)
        x = try b.unary("pool", .avgPool(PoolSpec(kernel: 2, stride: 1)), x)
        x = try b.unary("flatten", .flatten, x)
        _ = try b.linear("fc", x, out: 3)
        let network = try b.build(name: "grouped")
        let parameters = try Harness.parameters(network)
        let input = try Small.input(for: network, batch: 3)
        let expected = try ReferenceExecution.run(network, parameters: parameters, input: input)
        for threads in [1, 2] {
            for schedule in [ConvolutionSchedule.perThreadColumns, .sharedChunks] {
                let plan = try Runtime.compile(network, parameters: parameters,
                                               options: try Harness.options(batch: 3, threads: threads, chunkBytes: 64, schedule: schedule))
                let ratio = Tolerance(network).worstRatio(try plan.run(input).values, expected.values)
                #expect(ratio <= 1, "threads \(threads), \(schedule): error \(ratio)x the tolerance")
            }
        }
    }

    /// Same input, same thread count: bit-identical outputs, run after run and plan after plan.
    @Test func runsAreDeterministic() throws {
        let network = try SparseIFT.transform(try Small.resnet(), kind: .parallel, sparsity: 0.75).network
        let parameters = try Harness.parameters(network)
        let input = try Small.input(for: network, batch: 3)
        for threads in [1, 2] {
            let first = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: 3, threads: threads))
            let second = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: 3, threads: threads))
            let a = try first.run(input), b = try first.run(input), c = try second.run(input)
            #expect(a == b)
            #expect(a.values == c.values || first.layers.map(\.kernel) != second.layers.map(\.kernel))
        }
    }

    /// The tolerance is not vacuous: one classifier weight off by 1% is caught.
    @Test func theToleranceCatchesASmallError() throws {
        let network = try Small.resnet()
        var parameters = try Harness.parameters(network)
        let input = try Small.input(for: network, batch: 2)
        let expected = try ReferenceExecution.run(network, parameters: parameters, input: input)
        var weight = parameters["fc.weight"]!
        weight.values[0] *= 1.01
        parameters["fc.weight"] = weight
        let plan = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: 2))
        #expect(Tolerance(network).worstRatio(try plan.run(input).values, expected.values) > 1)
    }
}
