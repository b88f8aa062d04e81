/// Accumulates the nodes, initializers and value infos of an ONNX graph while the exporter
/// walks the network. Every value name is unique: the network's node names are reserved
/// first (each IR node's output value carries its IR name), and helper values take
/// `<node>/<role>`, made unique if a network name happens to collide.
struct GraphEmitter {
    private(set) var nodes: [NodeProto] = []
    private(set) var initializers: [TensorProto] = []
    private(set) var valueInfo: [ValueInfoProto] = []
    private var usedNames: Set<String> = []
    /// Constants shared by many nodes (shapes, scalars, the causal mask), by content key.
    private var shared: [String: String] = [:]

    /// The symbolic name of the batch dimension.
    static let batchDimension = "batch"

    init(reserving names: [String]) {
        usedNames = Set(names)
    }

    /// A fresh value name based on `base`.
    mutating func uniqueName(_ base: String) -> String {
        var name = base
        var suffix = 1
        while usedNames.contains(name) {
            name = "\(base)_\(suffix)"
            suffix += 1
        }
        usedNames.insert(name)
        return name
    }

    /// Adds a float initializer named `name` (made unique) and returns its name.
    mutating func floatInitializer(_ name: String, shape: [Int], values: [Float], doc: String = "") -> String {
        let unique = uniqueName(name)
        var tensor = TensorProto()
        tensor.name = unique
        tensor.dims = shape.map(Int64.init)
        tensor.dataType = ONNXDataType.float.rawValue
        tensor.payload = .floats(values)
        tensor.docString = doc
        initializers.append(tensor)
        return unique
    }

    mutating func int64Initializer(_ name: String, shape: [Int], values: [Int64]) -> String {
        let unique = uniqueName(name)
        var tensor = TensorProto()
        tensor.name = unique
        tensor.dims = shape.map(Int64.init)
        tensor.dataType = ONNXDataType.int64.rawValue
        tensor.payload = .int64s(values)
        initializers.append(tensor)
        return unique
    }

    /// The initializer of a `ParameterStore` tensor, named by its key (`<node>.weight`);
    /// asking again for the same key returns the same initializer (tied weights).
    mutating func parameter(_ key: String, shape: [Int], values: [Float], doc: String = "") -> String {
        if let existing = shared["parameter:\(key)"] { return existing }
        let created = floatInitializer(key, shape: shape, values: values, doc: doc)
        shared["parameter:\(key)"] = created
        return created
    }

    /// A float scalar (rank 0) shared by every node that needs the same value.
    mutating func sharedScalar(_ name: String, _ value: Float) -> String {
        let key = "scalar:\(name):\(value.bitPattern)"
        if let existing = shared[key] { return existing }
        let created = floatInitializer(name, shape: [], values: [value])
        shared[key] = created
        return created
    }

    /// A 1-D int64 constant (a shape, axes, permutation) shared by content.
    mutating func sharedInt64s(_ name: String, _ values: [Int64]) -> String {
        let key = "int64s:\(values)"
        if let existing = shared[key] { return existing }
        let created = int64Initializer(name, shape: [values.count], values: values)
        shared[key] = created
        return created
    }

    /// A float constant shared by key, built only the first time it is asked for.
    mutating func sharedFloats(_ key: String, name: String, shape: [Int], values: () -> [Float]) -> String {
        if let existing = shared[key] { return existing }
        let created = floatInitializer(name, shape: shape, values: values())
        shared[key] = created
        return created
    }

    /// Appends a node with one output. `output` is used as is when it is a reserved IR
    /// name (`reserved: true`), else made unique. Returns the output value's name.
    @discardableResult
    mutating func node(_ opType: String, output: String, reserved: Bool = false, inputs: [String],
                       attributes: [AttributeProto] = [], doc: String = "") -> String {
        let name = reserved ? output : uniqueName(output)
        var node = NodeProto()
        node.name = name
        node.opType = opType
        node.inputs = inputs
        node.outputs = [name]
        node.attributes = attributes
        node.docString = doc
        nodes.append(node)
        return name
    }

    /// Declares a value's type and per-sample shape (the batch dimension is symbolic).
    mutating func declare(_ name: String, sampleShape: [Int], elementType: ONNXDataType = .float) {
        valueInfo.append(Self.valueInfo(name, sampleShape: sampleShape, elementType: elementType))
    }

    static func valueInfo(_ name: String, sampleShape: [Int], elementType: ONNXDataType = .float) -> ValueInfoProto {
        var info = ValueInfoProto()
        info.name = name
        info.elementType = elementType.rawValue
        info.shape = [TensorShapeDimension(value: nil, parameter: batchDimension)]
            + sampleShape.map { TensorShapeDimension(value: Int64($0), parameter: nil) }
        return info
    }
}
