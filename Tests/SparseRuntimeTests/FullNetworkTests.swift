import Foundation
import Testing
import SparseIFT
import SparseKernels
@testable import SparseRuntime

/// Real widths, once each: the plain reference takes tens of seconds on these in a debug
/// build, so one batch-1 run per network.
@Suite(.serialized) struct FullNetworkTests {
    /// resnet18-cifar at its real widths, sparse at 90% (kernels chosen by timing).
    @Test func resnet18CIFARMatchesTheReference() throws {
        let dense = try ModelZoo.build("resnet18-cifar")
        let network = try SparseIFT.transform(dense, kind: .dense, sparsity: 0.9).network
        try check(network)
    }

    /// Two GPT-3 Small blocks (d_model 768, 12 heads, d_ff 3072) at sequence 64, sparse at
    /// 90%; the vocabulary is cut to 1000 to keep the reference's LM head affordable.
    @Test func gpt3SmallShapedMatchesTheReference() throws {
        var config = GPT.Config.small(sequenceLength: 64)
        config.layers = 2
        config.vocabulary = 1000
        let network = try SparseIFT.transform(try GPT.build(config), kind: .dense, sparsity: 0.9).network
        try check(network)
    }

    private func check(_ network: Network) throws {
        let parameters = try Harness.parameters(network)
        let input = try Small.input(for: network, batch: 1)
        let expected = try ReferenceExecution.run(network, parameters: parameters, input: input)
        let plan = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: 1, threads: 2))
        let ratio = Tolerance(network).worstRatio(try plan.run(input).values, expected.values)
        #expect(ratio <= 1, "\(network.name): error \(ratio)x the tolerance \(Tolerance(network).relative)")
        #expect(plan.layers.contains { $0.choice?.format.family == .csr || $0.choice?.format.family == .nm },
                "a 90%-sparse network runs some layer on a sparse kernel")
    }
}
