import Testing
@testable import SiftONNX
import SparseIFT
import SiftCore

/// Every operation the exporter writes comes back as the same operation, with the same
/// parameters and the same outputs.
@Suite struct OperatorRoundTripTests {
    /// One small network per operation family; together they use every `Operation` kind.
    static func networks() throws -> [Network] {
        var result: [Network] = []

        var b = NetworkBuilder()
        var x = try b.add("image", .input(shape: [4, 7, 7]))
        x = try b.conv("conv_bias", x, out: 6, kernel: 3, stride: 2, padding: 1, bias: true)
        x = try b.unary("bn", .batchNorm, x)
        x = try b.unary("relu6", .relu6, x)
        x = try b.conv("depthwise", x, out: 6, kernel: 3, stride: 1, padding: 1, groups: 6)
        x = try b.conv("grouped", x, out: 4, kernel: 1, groups: 2)
        let pooled = try b.unary("maxpool", .maxPool(PoolSpec(kernel: 2, stride: 1, padding: 1)), x)
        let averaged = try b.unary("avgpool", .avgPool(PoolSpec(kernel: 3, stride: 1, padding: 1)), pooled)
        x = try b.add("sum3", .add, inputs: [pooled, averaged, pooled])
        x = try b.unary("relu", .relu, x)
        x = try b.unary("flatten", .flatten, x)
        x = try b.linear("fc", x, out: 3)
        result.append(try b.build(name: "convolutional"))

        b = NetworkBuilder()
        x = try b.add("image", .input(shape: [3, 6, 6]))
        // A non-square kernel (the builder's helper only makes square ones).
        var spec = Conv2dSpec(inChannels: 3, outChannels: 5, kernel: 3, padding: 1)
        spec.kernelWidth = 1
        x = try b.add("tall", .conv2d(spec), inputs: [x])
        x = try b.unary("gap", .globalAvgPool, x)
        x = try b.linear("head", x, out: 2, bias: false)
        result.append(try b.build(name: "global-pool"))

        b = NetworkBuilder()
        x = try b.add("tokens", .input(shape: [6]))
        x = try b.add("wte", .embedding(vocabulary: 9, dim: 8), inputs: [x])
        x = try b.add("wpe", .positionEmbedding(length: 6), inputs: [x])
        let normed = try b.unary("ln", .layerNorm, x)
        let q = try b.linear("q", normed, out: 8)
        let k = try b.linear("k", normed, out: 8, bias: false)
        let v = try b.linear("v", normed, out: 8)
        let causal = try b.add("scores", .attentionScores(heads: 2, causal: true), inputs: [q, k])
        let open = try b.add("open_scores", .attentionScores(heads: 2, causal: false), inputs: [q, k])
        let p = try b.unary("softmax", .softmax, causal)
        let p2 = try b.unary("softmax_open", .softmax, open)
        let context = try b.add("context", .attentionContext(heads: 2), inputs: [p, v])
        let context2 = try b.add("context_open", .attentionContext(heads: 2), inputs: [p2, v])
        x = try b.add("merge", .add, inputs: [context, context2])
        x = try b.unary("gelu", .gelu, x)
        _ = try b.linear("lm_head", x, out: 9, bias: false, role: .classifier, tiedTo: "wte")
        result.append(try b.build(name: "transformer"))
        return result
    }

    static let allKinds: Set<String> = [
        "input", "conv2d", "conv2d_dw", "linear", "batchnorm", "layernorm", "relu", "relu6", "gelu", "add", "maxpool",
        "avgpool", "global_avgpool", "flatten", "embedding", "position_embedding", "attention_scores", "softmax",
        "attention_context",
    ]

    @Test func theTestNetworksUseEveryOperationKind() throws {
        let used = Set(try Self.networks().flatMap { $0.nodes.map(\.op.kind) })
        #expect(used == Self.allKinds, "missing: \(Self.allKinds.subtracting(used)), unexpected: \(used.subtracting(Self.allKinds))")
    }

    @Test(arguments: 0..<3) func everyOperationRoundTrips(index: Int) throws {
        let network = try Self.networks()[index]
        try expectSameOutputs(network, parameters: try randomParameters(network), batch: 2)
    }

    @Test func theLayerNormalizationOperatorFormRoundTripsToo() throws {
        let network = try Self.networks()[2]
        let options = ONNXModel.ExportOptions(layerNorm: .operator)
        let bytes = try ONNXModel.serialize(network, parameters: try randomParameters(network), options: options)
        let model = try ModelProto.decode(bytes: bytes)
        #expect(model.graph?.nodes.contains { $0.opType == "LayerNormalization" } == true)
        #expect(model.graph?.nodes.contains { $0.opType == "ReduceMean" } == false)
        try expectSameOutputs(network, parameters: try randomParameters(network), options: options)
    }

    @Test func aShorterSequenceThanThePositionTableStillRunsTheSame() throws {
        // The table keeps 8 rows, the sequence uses 5: exported as a Slice of the table,
        // which imports as a 5-row position embedding with the same outputs.
        var b = NetworkBuilder()
        var x = try b.add("tokens", .input(shape: [5]))
        x = try b.add("wte", .embedding(vocabulary: 7, dim: 4), inputs: [x])
        x = try b.add("wpe", .positionEmbedding(length: 8), inputs: [x])
        _ = try b.linear("out", x, out: 3)
        let network = try b.build(name: "short")
        let parameters = try randomParameters(network)
        let imported = try ONNXModel.load(bytes: try ONNXModel.serialize(network, parameters: parameters))
        #expect(imported.network.nodes[2].op == .positionEmbedding(length: 5))
        let input = try Small.input(for: network)
        #expect(try ReferenceExecution.run(network, parameters: parameters, input: input)
                == ReferenceExecution.run(imported.network, parameters: imported.parameters, input: input))
    }

    @Test func theLMHeadStaysTiedToTheEmbedding() throws {
        let network = try Self.networks()[2]
        let imported = try roundTrip(network, parameters: try randomParameters(network))
        guard case .linear(let head) = try #require(imported.network.node(named: "lm_head")).op else {
            Issue.record("lm_head is not linear")
            return
        }
        #expect(head.tiedTo == "wte")
        #expect(imported.parameters["lm_head.weight"] == nil)
    }

    @Test func sparseLayersComeBackWithTheirMasksAndPatterns() throws {
        let dense = try Small.mlp([32, 64, 64, 8])
        for (pattern, sparsity) in [(SparsityPattern.nOfM(n: 2, m: 4), 0.5), (.nOfM(n: 1, m: 8), 0.875), (.block(rows: 4, columns: 4), 0.75),
                                    (.block(rows: 8, columns: 2), 0.5), (.unstructured, 0.9)] {
            let network = try SparseIFT.transform(dense, kind: .dense, sparsity: sparsity, options: TransformOptions(pattern: pattern)).network
            let parameters = try ParameterStore.initialize(network, options: .init(seed: 5))
            let imported = try roundTrip(network, parameters: parameters)
            for node in imported.network.weightLayers where node.name != "fc3" {
                let weight = try #require(node.op.weight)
                #expect(weight.pattern == pattern, "\(node.name): \(weight.pattern) for \(pattern)")
                // The detected sparsity gives the layer's exact non-zero count.
                let rows = node.shape[0]
                let k = try #require(imported.parameters["\(node.name).weight"]).count / rows
                #expect(pattern.nonzeroCount(rows: rows, reduction: k, sparsity: weight.sparsity)
                        == pattern.nonzeroCount(rows: rows, reduction: k, sparsity: sparsity), "\(node.name): s = \(weight.sparsity)")
            }
        }
    }
}
