import Foundation
import SparseIFT

/// Recognises activations written out as element-wise arithmetic, whatever the order of
/// the operations: GELU's tanh expansion (PyTorch's `x * 0.5 * (1 + tanh(...))`, with Pow
/// or Mul for the cube, Div or Mul for the halving, ...), or ReLU6 as Min(Max(x, 0), 6).
///
/// A region is a set of element-wise nodes whose constants are scalars, computing one
/// value y from one computed value x, with nothing inside read from outside. It is
/// evaluated on probe values of x and compared with each activation the IR has; a match
/// becomes that activation. This checks what the subgraph computes rather than how it is spelled, so
/// an exact (erf) GELU or a sigmoid approximation is never mistaken for the tanh one.
extension ONNXImporter {
    static let elementwiseOperators: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Tanh", "Erf", "Sqrt", "Neg", "Max", "Min", "Relu", "Sigmoid", "Exp", "Abs",
    ]
    /// A region must contain one of these to be a candidate (a lone scaling is not an activation).
    static let nonlinearOperators: Set<String> = ["Tanh", "Erf", "Max", "Min", "Relu", "Sigmoid", "Exp", "Pow"]

    /// The activations a region may compute, each with its reference definition.
    static let activations: [(op: IROperation, name: String, function: @Sendable (Double) -> Double)] = [
        (.gelu, "GELU (tanh)", { x in 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }),
        (.relu6, "ReLU6", { x in min(max(x, 0), 6) }),
        (.relu, "ReLU", { x in max(x, 0) }),
    ]

    func isRegionCandidate(_ node: NodeProto) -> Bool {
        guard isDefaultDomain(node), Self.elementwiseOperators.contains(node.opType), node.outputs.count == 1 else { return false }
        return node.inputs.allSatisfy { name in
            !name.isEmpty && (graph.constant(name).map { $0.count == 1 && $0.isFloat } ?? true)
        }
    }

    /// Tries every element-wise node as the output y of an activation, latest first (so a
    /// whole expansion is found before its parts), with each value it transitively reads
    /// as the input x, nearest first.
    mutating func fuseElementwiseRegions() throws {
        for yIndex in graph.nodes.indices.reversed() where !absorbed.contains(yIndex) && isRegionCandidate(graph.nodes[yIndex]) {
            for x in inputCandidates(of: yIndex) {
                guard let members = cone(of: yIndex, from: x), members.count >= 2 else { continue }
                if try fuseRegion(members, input: x, output: yIndex) { break }
            }
        }
    }

    /// The computed values an element-wise region ending at `yIndex` could start from:
    /// everything read by the element-wise nodes up to 64 steps back, nearest first.
    private func inputCandidates(of yIndex: Int) -> [String] {
        var seen: Set<Int> = [yIndex]
        var queue = [yIndex]
        var values: [String] = []
        var known = Set<String>()
        while let index = queue.popLast(), seen.count <= 64 {
            for input in graph.nodes[index].inputs where !input.isEmpty && !graph.isConstant(input) && !known.contains(input) {
                known.insert(input)
                values.append(input)
                if let (producer, node) = graph.producerNode(of: input), !absorbed.contains(producer), isRegionCandidate(node),
                   seen.insert(producer).inserted {
                    queue.insert(producer, at: 0)
                }
            }
        }
        return values.sorted { (graph.producer[$0] ?? -1) > (graph.producer[$1] ?? -1) }
    }

    /// The element-wise nodes between `x` and the node `yIndex`: y and, transitively, the
    /// producers of every computed value it reads other than x. nil unless all of them are
    /// element-wise, x is reached, and no value inside is read from outside.
    private func cone(of yIndex: Int, from x: String) -> [Int]? {
        var members: Set<Int> = [yIndex]
        var stack = [yIndex]
        var readsX = false
        while let index = stack.popLast() {
            for input in graph.nodes[index].inputs where !input.isEmpty && !graph.isConstant(input) {
                if input == x {
                    readsX = true
                    continue
                }
                guard let (producer, node) = graph.producerNode(of: input), !absorbed.contains(producer), isRegionCandidate(node),
                      members.count < 64 else { return nil }
                if members.insert(producer).inserted { stack.append(producer) }
            }
        }
        guard readsX else { return nil }
        for member in members where member != yIndex {
            for output in graph.nodes[member].outputs {
                guard !graph.outputNames.contains(output), (graph.consumers[output] ?? []).allSatisfy(members.contains) else { return nil }
            }
        }
        return members.sorted()
    }

    /// Evaluates the region; if it computes an activation of the IR, it becomes that layer.
    private mutating func fuseRegion(_ members: [Int], input x: String, output yIndex: Int) throws -> Bool {
        let nodes = members.map { graph.nodes[$0] }
        guard nodes.contains(where: { Self.nonlinearOperators.contains($0.opType) }), let y = graph.nodes[yIndex].outputs.first else { return false }
        let probes = Self.probeValues
        let values = try evaluate(nodes, input: x, output: y, probes: probes)
        let source = "the element-wise subgraph \(nodes.map(describe).joined(separator: ", "))"
        for activation in Self.activations where Self.agrees(values, probes.map(activation.function)) {
            for member in members { absorbed.insert(member) }
            layers.append(PendingLayer(name: y, inputs: [x], source: source) { _ in activation.op })
            return true
        }
        let exactGELU = probes.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
        if Self.agrees(values, exactGELU) {
            throw ONNXError.unsupported("\(source) computes the exact (erf) GELU; the IR has the tanh approximation only")
        }
        return false
    }

    /// x in [-10, 10] in steps of 0.05, plus values far out and near zero.
    static let probeValues: [Double] = (-200...200).map { Double($0) / 20 } + [-1e-3, 1e-3, -40, 40, 1e-6]

    /// Equal within a relative 1e-5 (float32 constants such as 0.044715 are rounded).
    static func agrees(_ a: [Double], _ b: [Double]) -> Bool {
        zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
    }

    /// Runs the region in Double on the probe values of `input`.
    private func evaluate(_ nodes: [NodeProto], input: String, output: String, probes: [Double]) throws -> [Double] {
        var values: [String: [Double]] = [input: probes]
        func operand(_ name: String) -> [Double] {
            if let known = values[name] { return known }
            return [Double](repeating: graph.constant(name)?.scalar ?? .nan, count: probes.count)
        }
        // Members are in topological order (sorted indices of a sorted graph).
        for node in nodes {
            let inputs = node.inputs.map(operand)
            let first = inputs.first ?? []
            let result: [Double]
            func binary(_ f: (Double, Double) -> Double) -> [Double] {
                guard inputs.count == 2 else { return [Double](repeating: .nan, count: probes.count) }
                return zip(inputs[0], inputs[1]).map(f)
            }
            switch node.opType {
            case "Add": result = binary(+)
            case "Sub": result = binary(-)
            case "Mul": result = binary(*)
            case "Div": result = binary(/)
            case "Pow": result = binary { pow($0, $1) }
            case "Tanh": result = first.map(tanh)
            case "Erf": result = first.map(erf)
            case "Sqrt": result = first.map { $0.squareRoot() }
            case "Neg": result = first.map { -$0 }
            case "Relu": result = first.map { max($0, 0) }
            case "Sigmoid": result = first.map { 1 / (1 + exp(-$0)) }
            case "Exp": result = first.map(exp)
            case "Abs": result = first.map(abs)
            case "Max": result = inputs.dropFirst().reduce(first) { zip($0, $1).map { max($0, $1) } }
            case "Min": result = inputs.dropFirst().reduce(first) { zip($0, $1).map { min($0, $1) } }
            default: result = [Double](repeating: .nan, count: probes.count)
            }
            if let name = node.outputs.first { values[name] = result }
        }
        return values[output] ?? []
    }
}
