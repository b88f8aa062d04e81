import Foundation
import Testing
import SparseIFT
import SparseKernels
@testable import SparseRuntime

/// Bad input gets a clear error naming the problem, before any kernel runs.
@Suite(.serialized) struct BadInputTests {
    func refusal(_ body: () throws -> Void) -> RuntimeError? {
        do {
            try body()
            return nil
        } catch let error as RuntimeError {
            return error
        } catch {
            return .invalidArgument("unexpected error type: \(error)")
        }
    }

    @Test func batchSizesOutsideTheRange() throws {
        let network = try Small.mlp()
        let parameters = try Harness.parameters(network)
        for batch in [0, -1, RuntimeOptions.maxBatchSize + 1] {
            let error = refusal { _ = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: batch)) }
            #expect(error?.description.contains("batch size") == true, "\(batch): \(String(describing: error))")
        }
    }

    @Test func weightsOfAnotherNetwork() throws {
        let network = try Small.mlp()
        let other = try MLP.build(widths: [24, 48, 32, 10])
        let error = refusal { _ = try Runtime.compile(network, parameters: try Harness.parameters(other), options: try Harness.options(batch: 1)) }
        #expect(error?.description.contains("fc1.") == true && error?.description.contains("shape") == true, "\(String(describing: error))")
        let sparse = try SparseIFT.transform(network, kind: .dense, sparsity: 0.5).network
        let missing = refusal { _ = try Runtime.compile(sparse, parameters: try Harness.parameters(network), options: try Harness.options(batch: 1)) }
        #expect(missing?.description.contains("mask") == true, "\(String(describing: missing))")
    }

    @Test func nonFiniteWeightsAndInputs() throws {
        let network = try Small.mlp()
        var parameters = try Harness.parameters(network)
        var weight = parameters["fc2.weight"]!
        weight.values[5] = .nan
        parameters["fc2.weight"] = weight
        let error = refusal { _ = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: 1)) }
        #expect(error?.description.contains("fc2.weight") == true && error?.description.contains("nan") == true, "\(String(describing: error))")

        let plan = try Runtime.compile(network, parameters: try Harness.parameters(network), options: try Harness.options(batch: 2))
        var input = try Small.input(for: network, batch: 2)
        input.values[3] = .infinity
        #expect(refusal { _ = try plan.run(input) }?.description.contains("non-finite") == true)
        let wrongShape = try Small.input(for: network, batch: 3)
        #expect(refusal { _ = try plan.run(wrongShape) }?.description.contains("batch 2") == true)
    }

    /// Finite weights so large that fc1 overflows: inf - inf gives NaN, and the ReLU fused
    /// after fc1 must pass it on (a silent 0 would let `sift run --input` write a plausible
    /// output), so the output is non-finite and the CLI refuses to write it.
    @Test func anOverflowInsideTheNetworkReachesTheOutput() throws {
        let network = try Small.mlp()
        var parameters = try Harness.parameters(network)
        var weight = parameters["fc1.weight"]!
        weight.values = weight.values.indices.map { $0 % 2 == 0 ? 3e38 : -3e38 }
        parameters["fc1.weight"] = weight
        for isa in Machine.supportedISAs {
            for family in [KernelFamily.dense, .csr] {
                let plan = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: 2, isa: isa, forced: family))
                let output = try plan.run(try Small.input(for: network, batch: 2))
                #expect(output.values.contains { !$0.isFinite }, "\(isa) \(family): the overflow vanished")
            }
        }
    }

    @Test func tokenIdsOutsideTheVocabulary() throws {
        let network = try Small.gpt()
        let plan = try Runtime.compile(network, parameters: try Harness.parameters(network), options: try Harness.options(batch: 1))
        for bad: Float in [50, -1, 2.5] {
            var input = try Small.input(for: network, batch: 1)
            input.values[0] = bad
            #expect(refusal { _ = try plan.run(input) }?.description.contains("token id") == true, "\(bad)")
        }
    }

    @Test func negativeRunningVariance() throws {
        let network = try Small.resnet()
        var parameters = try Harness.parameters(network)
        var variance = parameters["bn1.running_var"]!
        variance.values[1] = -2
        parameters["bn1.running_var"] = variance
        let error = refusal { _ = try Runtime.compile(network, parameters: parameters, options: try Harness.options(batch: 1)) }
        #expect(error?.description.contains("bn1.running_var") == true, "\(String(describing: error))")
    }
}
