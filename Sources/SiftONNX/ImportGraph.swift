/// An index over a decoded ONNX graph for the importer: nodes in topological order, who
/// produces and who reads each value, the constants (initializers, `Constant` nodes and
/// folded shape arithmetic), and the one real input and output.
struct ImportGraph {
    /// Nodes in a topological order (sorted here: ONNX requires it, but we do not trust it).
    let nodes: [NodeProto]
    /// Value name → index of the node that produces it.
    let producer: [String: Int]
    /// Value name → indices of the nodes that read it.
    let consumers: [String: [Int]]
    let outputNames: Set<String>
    /// The graph's single non-initializer input and single output.
    let input: ValueInfoProto
    let output: ValueInfoProto
    /// The batch size when the input's first dimension is fixed (e.g. 1), nil when symbolic.
    let staticBatch: Int?
    /// The default-domain opset version.
    let opset: Int64
    var constants: [String: ConstantTensor]

    /// The newest opset whose operator semantics this importer was written against.
    static let newestOpset: Int64 = 23
    static let oldestOpset: Int64 = 9

    init(_ model: ModelProto) throws(ONNXError) {
        guard let graph = model.graph else { throw .malformed("the model has no graph") }
        guard let opset = model.defaultOpset else {
            throw .invalidModel("the model imports no version of the default operator set (opset_import)")
        }
        guard opset >= Self.oldestOpset, opset <= Self.newestOpset else {
            throw .unsupported("opset \(opset): this importer reads opsets \(Self.oldestOpset) to \(Self.newestOpset)")
        }
        guard graph.sparseInitializerCount == 0 else {
            throw .unsupported("the graph has sparse_initializer tensors; store sparse weights densely (with their zeros), as sift export does")
        }
        self.opset = opset

        var constants: [String: ConstantTensor] = [:]
        for (index, tensor) in graph.initializers.enumerated() {
            guard !tensor.name.isEmpty else { throw .invalidModel("initializer \(index) has no name") }
            guard constants[tensor.name] == nil else { throw .invalidModel("two initializers are named '\(tensor.name)'") }
            constants[tensor.name] = try ConstantTensor(tensor, what: "initializer '\(tensor.name)'")
        }

        // Inputs that are also initializers are defaults (old IR versions list them): the
        // real input is the one without an initializer.
        let realInputs = graph.inputs.filter { constants[$0.name] == nil }
        guard realInputs.count == 1 else {
            throw .unsupported("the graph has \(realInputs.count) inputs (\(realInputs.map(\.name).joined(separator: ", "))); a sift network has exactly one")
        }
        guard graph.outputs.count == 1 else {
            throw .unsupported("the graph has \(graph.outputs.count) outputs (\(graph.outputs.map(\.name).joined(separator: ", "))); a sift network has exactly one")
        }
        input = realInputs[0]
        output = graph.outputs[0]
        outputNames = [output.name]
        if let first = input.shape?.first?.value, first > 0, first <= Int64(Int32.max) { staticBatch = Int(first) } else { staticBatch = nil }

        nodes = try Self.sorted(graph.nodes, available: Set(constants.keys).union([input.name]))
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for name in node.outputs where !name.isEmpty { producer[name] = index }
            for name in node.inputs where !name.isEmpty { consumers[name, default: []].append(index) }
        }
        self.producer = producer
        self.consumers = consumers
        self.constants = constants
    }

    /// The nodes in the file's order when that is topological (as ONNX requires, and as
    /// the exporter writes them, so the imported network keeps the original node order);
    /// otherwise a topological order by Kahn's algorithm, or an error naming a node that
    /// can never run (a cycle, or an input no node produces). Values are produced once.
    static func sorted(_ nodes: [NodeProto], available: Set<String>) throws(ONNXError) -> [NodeProto] {
        var known = available
        var inFileOrder = true
        for node in nodes {
            if node.inputs.contains(where: { !$0.isEmpty && !known.contains($0) }) {
                inFileOrder = false
                break
            }
            for name in node.outputs where !name.isEmpty { known.insert(name) }
        }
        var producedBy: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for name in node.outputs where !name.isEmpty {
                guard producedBy[name] == nil, !available.contains(name) else {
                    throw .invalidModel("value '\(name)' is produced twice (\(describe(node)))")
                }
                producedBy[name] = index
            }
        }
        var waitingOn = [Int](repeating: 0, count: nodes.count)
        var readers: [[Int]] = Array(repeating: [], count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for name in Set(node.inputs) where !name.isEmpty && !available.contains(name) {
                guard let source = producedBy[name] else {
                    throw .invalidModel("\(describe(node)) reads '\(name)', which no node, input or initializer provides")
                }
                waitingOn[index] += 1
                readers[source].append(index)
            }
        }
        var ready = Array((0..<nodes.count).filter { waitingOn[$0] == 0 }.reversed())
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let next = ready.popLast() {
            order.append(next)
            for reader in readers[next] {
                waitingOn[reader] -= 1
                if waitingOn[reader] == 0 { ready.append(reader) }
            }
        }
        guard order.count == nodes.count else {
            let stuck = (0..<nodes.count).first { waitingOn[$0] > 0 } ?? 0
            throw .invalidModel("the graph has a cycle through \(describe(nodes[stuck]))")
        }
        return inFileOrder ? nodes : order.map { nodes[$0] }
    }

    // MARK: - Queries

    func constant(_ name: String) -> ConstantTensor? { constants[name] }

    func isConstant(_ name: String) -> Bool { constants[name] != nil }

    /// The node producing `name`, if a node does (not an input or initializer).
    func producerNode(of name: String) -> (index: Int, node: NodeProto)? {
        guard let index = producer[name] else { return nil }
        return (index, nodes[index])
    }

    /// True when exactly one node reads `name` and it is not the graph output: the value
    /// can disappear inside a fused pattern.
    func hasSingleReader(_ name: String) -> Bool {
        (consumers[name]?.count ?? 0) == 1 && !outputNames.contains(name)
    }

    /// The only node reading `name`, when `hasSingleReader`.
    func singleReader(of name: String) -> (index: Int, node: NodeProto)? {
        guard hasSingleReader(name), let index = consumers[name]?.first else { return nil }
        return (index, nodes[index])
    }

    /// The number of nodes reading `name` (plus one if it is the graph output).
    func readerCount(_ name: String) -> Int {
        (consumers[name]?.count ?? 0) + (outputNames.contains(name) ? 1 : 0)
    }
}

/// How error messages name a node: its name (or first output) and operator.
func describe(_ node: NodeProto) -> String {
    let name = node.name.isEmpty ? (node.outputs.first ?? "?") : node.name
    let op = node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain)::\(node.opType)"
    return "node '\(name)' (\(op))"
}

// MARK: - Attributes

extension NodeProto {
    func intAttribute(_ name: String, default value: Int64) throws(ONNXError) -> Int64 {
        guard let attribute = attribute(name) else { return value }
        guard let i = attribute.i else { throw .invalidModel("\(describe(self)): attribute \(name) is not an integer") }
        return i
    }

    func intsAttribute(_ name: String) throws(ONNXError) -> [Int64]? {
        guard let attribute = attribute(name) else { return nil }
        guard attribute.type == AttributeType.ints.rawValue || attribute.type == 0 || !attribute.ints.isEmpty else {
            throw .invalidModel("\(describe(self)): attribute \(name) is not a list of integers")
        }
        return attribute.ints
    }

    func floatAttribute(_ name: String, default value: Float) throws(ONNXError) -> Float {
        guard let attribute = attribute(name) else { return value }
        guard let f = attribute.f else { throw .invalidModel("\(describe(self)): attribute \(name) is not a float") }
        return f
    }

    func stringAttribute(_ name: String) throws(ONNXError) -> String? {
        guard let attribute = attribute(name) else { return nil }
        guard let bytes = attribute.s, let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidModel("\(describe(self)): attribute \(name) is not a string")
        }
        return text
    }

    /// The input at `index`, or nil when absent or empty (an omitted optional input).
    func input(_ index: Int) -> String? {
        index < inputs.count && !inputs[index].isEmpty ? inputs[index] : nil
    }

    /// Refuses a node whose attributes the importer cannot honour (subgraphs, references).
    func checkPlainAttributes() throws(ONNXError) {
        for attribute in attributes {
            if attribute.skippedComplexFields > 0 || attribute.refAttributeName != nil {
                throw .unsupported("\(describe(self)): attribute \(attribute.name) holds a subgraph, sparse tensor or reference, which sift cannot import")
            }
        }
    }
}
