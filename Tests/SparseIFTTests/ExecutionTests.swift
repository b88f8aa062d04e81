import Foundation
import Testing
@testable import SparseIFT

@Suite struct ExecutionTests {
    // (That every member at s = 0 is the dense network, graph and hence output, is
    // TransformTests.atZeroSparsityEveryMemberIsTheDenseNetwork; not repeated here.)

    @Test func convolutionAgainstAHandComputedCase() throws {
        var builder = NetworkBuilder()
        let x = try builder.add("input", .input(shape: [1, 3, 3]))
        _ = try builder.conv("conv", x, out: 1, kernel: 2, stride: 1, padding: 0, bias: true)
        let network = try builder.build(name: "one-conv")
        var store = ParameterStore()
        store["conv.weight"] = try Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        store["conv.bias"] = try Tensor(shape: [1], values: [0.5])
        let input = try Tensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let y = try ReferenceExecution.run(network, parameters: store, input: input)
        // [1 2; 4 5]·[1 2; 3 4] = 1+4+12+20 = 37, etc.
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.values == [37.5, 47.5, 67.5, 77.5])
    }

    @Test func depthwiseStridedPaddedConvolution() throws {
        var builder = NetworkBuilder()
        let x = try builder.add("input", .input(shape: [2, 4, 4]))
        _ = try builder.conv("dw", x, out: 2, kernel: 3, stride: 2, padding: 1, groups: 2)
        let network = try builder.build(name: "dw")
        var store = ParameterStore()
        // Channel 0 sums its window, channel 1 picks the centre.
        store["dw.weight"] = try Tensor(shape: [2, 1, 3, 3], values: [Float](repeating: 1, count: 9) + [0, 0, 0, 0, 1, 0, 0, 0, 0])
        let input = try Tensor(shape: [1, 2, 4, 4], values: (0..<32).map(Float.init))
        let y = try ReferenceExecution.run(network, parameters: store, input: input)
        #expect(y.shape == [1, 2, 2, 2])
        // Channel 0, output (0,0): window rows -1..1, cols -1..1 → 0+1+4+5 = 10.
        #expect(y.values[0] == 10)
        // Channel 1, output (1,1): centre (2,2) of channel 1 = 16 + 10 = 26.
        #expect(y.values[7] == 26)
    }

    @Test func causalAttentionIgnoresTheFuture() throws {
        let network = try Small.gpt()
        let parameters = try ParameterStore.initialize(network, options: .init(seed: 2, randomizeAffine: true))
        var first = try Small.input(for: network, batch: 1)
        let a = try ReferenceExecution.run(network, parameters: parameters, input: first)
        first.values[4] = first.values[4] == 0 ? 1 : 0  // change the last token only
        let b = try ReferenceExecution.run(network, parameters: parameters, input: first)
        let vocabulary = 11
        // Logits of positions 0..3 are unchanged; position 4 changes.
        #expect(Array(a.values[0..<(4 * vocabulary)]) == Array(b.values[0..<(4 * vocabulary)]))
        #expect(Array(a.values[(4 * vocabulary)...]) != Array(b.values[(4 * vocabulary)...]))
    }

    /// Sparse Parallel with every branch but one zeroed (and BN as identity) is the layer
    /// itself: checks the branch wiring numerically.
    @Test func parallelBranchesSum() throws {
        let dense = try MLP.build(widths: [6, 8, 3])
        let parallel = try SparseIFT.transform(dense, kind: .parallel, sparsity: 0.5).network
        let denseParameters = try ParameterStore.initialize(dense, options: .init(seed: 8, randomizeAffine: true))
        var parameters = ParameterStore()
        parameters["fc1.branch0.weight"] = denseParameters["fc1.weight"]
        parameters["fc1.branch0.bias"] = denseParameters["fc1.bias"]
        parameters["fc1.branch1.weight"] = Tensor(zeros: [8, 6])
        parameters["fc1.branch1.bias"] = Tensor(zeros: [8])
        for branch in 0..<2 { parameters["fc1.branch\(branch).mask"] = try Tensor(shape: [8, 6], values: [Float](repeating: 1, count: 48)) }
        parameters["fc2.weight"] = denseParameters["fc2.weight"]
        parameters["fc2.bias"] = denseParameters["fc2.bias"]
        let input = try Small.input(for: dense)
        let expected = try ReferenceExecution.run(dense, parameters: denseParameters, input: input)
        let actual = try ReferenceExecution.run(parallel, parameters: parameters, input: input)
        #expect(actual == expected)
    }

    /// Sparse Doped with its low-rank factors zeroed is the sparse layer alone: checks the
    /// wiring of `W_sparse(x) + V(U(x))` numerically on a ResNet with BatchNorm.
    @Test func dopedWithZeroFactorsIsTheSparseNetwork() throws {
        let dense = try Small.resnet(.cifar)
        let sparse = try SparseIFT.transform(dense, kind: .dense, sparsity: 0.5).network
        let doped = try SparseIFT.transform(dense, kind: .doped, sparsity: 0.5).network
        #expect(doped.nodes.count > sparse.nodes.count)
        let sparseParameters = try ParameterStore.initialize(sparse, options: .init(seed: 6, randomizeAffine: true))
        var dopedParameters = sparseParameters
        for node in doped.nodes where node.op.weight?.role == .lowRank {
            guard case .conv2d(let c) = node.op else { continue }
            dopedParameters["\(node.name).weight"] = Tensor(zeros: c.weightShape)
        }
        let input = try Small.input(for: dense)
        let expected = try ReferenceExecution.run(sparse, parameters: sparseParameters, input: input)
        let actual = try ReferenceExecution.run(doped, parameters: dopedParameters, input: input)
        #expect(actual == expected)
    }

    @Test func transformedNetworksRun() throws {
        for dense in try Small.all {
            for kind in TransformKind.allCases {
                let network = try SparseIFT.transform(dense, kind: kind, sparsity: 0.75,
                                                      options: TransformOptions(matchDenseFLOPs: false)).network
                let parameters = try ParameterStore.initialize(network, options: .init(seed: 1))
                let y = try ReferenceExecution.run(network, parameters: parameters, input: try Small.input(for: dense))
                #expect(y.shape == [2] + network.output.shape)
                #expect(y.values.allSatisfy { $0.isFinite }, "\(dense.name) \(kind)")
            }
        }
    }

    @Test func badInputsAreRefused() throws {
        let network = try Small.gpt()
        let parameters = try ParameterStore.initialize(network)
        #expect(throws: SparseIFTError.self) {
            try ReferenceExecution.run(network, parameters: parameters, input: try Tensor(shape: [1, 5], values: [0, 1, 2, 3, 11]))
        }
        #expect(throws: SparseIFTError.self) {
            try ReferenceExecution.run(network, parameters: parameters, input: try Tensor(shape: [1, 4], values: [0, 1, 2, 3]))
        }
        #expect(throws: SparseIFTError.self) {
            try ReferenceExecution.run(network, parameters: ParameterStore(), input: try Small.input(for: network))
        }
    }
}
