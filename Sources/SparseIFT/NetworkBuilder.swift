/// Builds a network node by node, inferring and checking each shape as it goes.
public struct NetworkBuilder {
    public private(set) var nodes: [Node] = []
    private var names: Set<String> = []
    /// Running totals of the multiply-adds and parameters (upper bound) of the nodes so
    /// far, checked against `SizeLimits.perNetwork` so accounting can never overflow.
    private var totalMACs = 0
    private var totalParams = 0

    public init() {}

    /// Appends a node and returns its id. `origin` defaults to the node's own name.
    @discardableResult
    public mutating func add(_ name: String, _ op: Operation, inputs: [Int] = [], origin: String? = nil) throws -> Int {
        guard !names.contains(name) else { throw SparseIFTError.invalidArgument("duplicate node name \(name)") }
        if case .input = op {
            guard nodes.isEmpty else { throw SparseIFTError.invalidArgument("\(name): only the first node may be the input") }
        } else {
            guard !nodes.isEmpty else { throw SparseIFTError.invalidArgument("\(name): the first node must be the input") }
        }
        for input in inputs where input < 0 || input >= nodes.count {
            throw SparseIFTError.invalidArgument("\(name): input id \(input) does not exist yet")
        }
        let inputShapes = inputs.map { nodes[$0].shape }
        let shape = try ShapeInference.outputShape(of: op, inputs: inputShapes, name: name)
        // Refuse sizes the accounting could not hold, here where they are created:
        // every count downstream is then a sum of bounded terms and cannot overflow.
        let size = try ShapeInference.size(of: op, inputs: inputShapes, output: shape, name: name)
        let (macs, macsOverflow) = totalMACs.addingReportingOverflow(size.macs)
        let (params, paramsOverflow) = totalParams.addingReportingOverflow(size.params)
        guard !macsOverflow, !paramsOverflow, macs <= SizeLimits.perNetwork, params <= SizeLimits.perNetwork else {
            throw SparseIFTError.invalidArgument(
                "network too large at \(name): more than \(SizeLimits.perNetwork) multiply-adds or parameters in total")
        }
        totalMACs = macs
        totalParams = params
        let id = nodes.count
        nodes.append(Node(id: id, name: name, op: op, inputs: inputs, shape: shape, origin: origin ?? name))
        names.insert(name)
        return id
    }

    public func shape(of id: Int) -> [Int] { nodes[id].shape }

    public func build(name: String, metadata: NetworkMetadata = NetworkMetadata()) throws -> Network {
        guard !nodes.isEmpty else { throw SparseIFTError.invalidArgument("network \(name) has no nodes") }
        return Network(name: name, nodes: nodes, metadata: metadata)
    }

    // Small conveniences for the zoo.

    public mutating func conv(_ name: String, _ input: Int, out: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                              groups: Int = 1, bias: Bool = false, role: WeightRole = .body) throws -> Int {
        let spec = Conv2dSpec(inChannels: shape(of: input)[0], outChannels: out, kernel: kernel, stride: stride,
                              padding: padding, groups: groups, bias: bias, role: role)
        return try add(name, .conv2d(spec), inputs: [input])
    }

    public mutating func linear(_ name: String, _ input: Int, out: Int, bias: Bool = true, role: WeightRole = .body,
                                tiedTo: String? = nil) throws -> Int {
        guard let features = shape(of: input).last else { throw SparseIFTError.shapeMismatch("\(name): input has no axis") }
        return try add(name, .linear(LinearSpec(inFeatures: features, outFeatures: out, bias: bias, role: role, tiedTo: tiedTo)), inputs: [input])
    }

    public mutating func unary(_ name: String, _ op: Operation, _ input: Int) throws -> Int {
        try add(name, op, inputs: [input])
    }
}
