import SparseIFT
import SiftCore

/// The zeros of the activations each product streams in pipelined execution: its input
/// (when it comes straight from a ReLU) and its output gradient (when its output goes
/// straight into a ReLU, whose backward zeroes the same positions).
public enum ActivationZeros {
    public struct Product: Sendable, Hashable {
        /// Fraction of the input activations that are zero.
        public let input: Double
        /// Fraction of the output gradient that is zero.
        public let gradient: Double
    }

    /// One entry per product of `lowered`.
    static func perProduct(_ lowered: LoweredNetwork, network: Network, setting: ActivationSparsitySetting,
                           seed: UInt64) throws -> (values: [Product], note: String) {
        switch setting {
        case .fixed(let fraction):
            let values = lowered.products.map {
                Product(input: $0.inputFromReLU ? fraction : 0, gradient: $0.outputToReLU ? fraction : 0)
            }
            return (values, String(format: "fixed: %.4f of every ReLU output (--activation-sparsity)", fraction))
        case .measured:
            let measured = try measure(network, seed: seed)
            let byName = Dictionary(uniqueKeysWithValues: network.nodes.map { ($0.name, $0) })
            let consumers = network.consumers
            let values = lowered.products.map { product -> Product in
                guard let node = byName[product.node] else { return Product(input: 0, gradient: 0) }
                let input = node.inputs.first.flatMap { measured[$0] } ?? 0
                let output = consumers[node.id].count == 1 ? measured[consumers[node.id][0]] ?? 0 : 0
                return Product(input: product.inputFromReLU ? input : 0, gradient: product.outputToReLU ? output : 0)
            }
            let mean = measured.isEmpty ? 0 : measured.values.reduce(0, +) / Double(measured.count)
            return (values, String(format: "measured: reference forward pass, seed %llu, one seeded random sample; %d ReLU outputs, mean zero fraction %.4f",
                                   seed, measured.count, mean))
        }
    }

    /// The zero fraction of every ReLU node that feeds or follows a product, by node id, from
    /// `ReferenceExecution` on the network cut after that node.
    static func measure(_ network: Network, seed: UInt64) throws -> [Int: Double] {
        let relus = network.nodes.filter {
            switch $0.op {
            case .relu, .relu6: true
            default: false
            }
        }
        guard !relus.isEmpty else { return [:] }
        let parameters = try ParameterStore.initialize(network, options: .init(seed: seed))
        let sample = network.input.shape
        let count = sample.reduce(1, *)
        var values = MaskSource.values(count: count, seed: seed, stream: "activation-measurement.input")
        if network.input.shape.count == 1, case .embedding(let vocabulary, _) = network.nodes.count > 1 ? network.nodes[1].op : .flatten {
            values = values.map { Float(Int((Double($0) + 1) / 2 * Double(vocabulary)) % vocabulary) }
        }
        let input = try Tensor(shape: [1] + sample, values: values)
        var result: [Int: Double] = [:]
        for relu in relus {
            var builder = NetworkBuilder()
            for node in network.nodes[0...relu.id] {
                try builder.add(node.name, node.op, inputs: node.inputs, origin: node.origin)
            }
            let prefix = try builder.build(name: network.name, metadata: network.metadata)
            let output = try ReferenceExecution.run(prefix, parameters: parameters, input: input)
            let zeros = output.values.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            result[relu.id] = Double(zeros) / Double(max(1, output.values.count))
        }
        return result
    }
}
