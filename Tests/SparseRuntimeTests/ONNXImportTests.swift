import Foundation
import Testing
import SiftONNX
import SparseIFT
import SparseKernels
@testable import SparseRuntime

/// Issue 9: a network exported with SiftONNX and imported back runs in the runtime to the
/// outputs of the original network in the runtime. The import detects each weight's
/// sparsity and pattern from its zeros, so the imported plan must find the same structure
/// (the same formats run); the kernel family is forced on both plans so they sum alike.
@Suite(.serialized) struct ONNXImportTests {
    /// Exports `network`, imports it, and runs both plans on the same input.
    func expectSameOutputs(_ network: Network, forced: KernelFamily, batch: Int = 2,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        let parameters = try Harness.parameters(network)
        let bytes = try ONNXModel.serialize(network, parameters: parameters)
        let (imported, importedParameters) = try ONNXModel.load(bytes: bytes)
        let input = try Small.input(for: network, batch: batch)
        for threads in [1, 2] {
            let options = try Harness.options(batch: batch, threads: threads, forced: forced)
            let original = try Runtime.compile(network, parameters: parameters, options: options)
            let reloaded = try Runtime.compile(imported, parameters: importedParameters, options: options)
            #expect(reloaded.outputShape == original.outputShape, sourceLocation: sourceLocation)
            // The same weight layers on the same formats: the structure survived the trip.
            let formats = { (plan: Plan) in plan.layers.compactMap { $0.choice?.format.description } }
            #expect(formats(reloaded) == formats(original), "\(network.name): formats differ", sourceLocation: sourceLocation)
            let ratio = Tolerance(network).worstRatio(try reloaded.run(input).values, try original.run(input).values)
            #expect(ratio <= 1, "\(network.name) \(forced), threads \(threads): error \(ratio)x the tolerance",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func mlpDenseAndSparseWide() throws {
        let dense = try MLP.build(widths: [24, 48, 48, 10])
        try expectSameOutputs(dense, forced: .dense)
        let wide = try SparseIFT.transform(dense, kind: .wide, sparsity: 0.9, options: TransformOptions(matchDenseFLOPs: false)).network
        try expectSameOutputs(wide, forced: .csr)
        let blocks = try SparseIFT.transform(dense, kind: .wide, sparsity: 0.75,
                                             options: TransformOptions(pattern: .block(rows: 4, columns: 4), matchDenseFLOPs: false)).network
        try expectSameOutputs(blocks, forced: .bsr)
    }

    /// resnet18-cifar's graph (BatchNorms folded, residual adds and ReLUs fused) at reduced
    /// widths, dense and Sparse Wide at s = 0.9.
    @Test func resnet18CIFARDenseAndSparseWide() throws {
        let dense = try Small.resnet(widths: [8, 16, 16, 32])
        try expectSameOutputs(dense, forced: .dense)
        let wide = try SparseIFT.transform(dense, kind: .wide, sparsity: 0.9, options: TransformOptions(matchDenseFLOPs: false)).network
        try expectSameOutputs(wide, forced: .csr)
    }

    /// The imported attention (Reshape/Transpose/MatMul/Softmax) is fused like the zoo's.
    @Test func gptTwoBlocks() throws {
        let network = try SparseIFT.transform(try Small.gpt(dModel: 48, sequence: 16), kind: .wide, sparsity: 0.5,
                                              options: TransformOptions(matchDenseFLOPs: false)).network
        try expectSameOutputs(network, forced: .csr)
    }
}
