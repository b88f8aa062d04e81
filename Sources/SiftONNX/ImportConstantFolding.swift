/// Folds nodes whose inputs are all constants into constants: `Constant` nodes, and the
/// shape arithmetic exporters leave around weights (a Transpose of an initializer, a
/// Slice of a position table, a Reshape of a bias). Only the operators below are folded;
/// any other all-constant node is refused later by name.
extension ONNXImporter {
    static let foldableOperators: Set<String> = ["Constant", "Identity", "Cast", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather"]

    mutating func foldConstants() throws {
        for (index, node) in graph.nodes.enumerated() where Self.foldableOperators.contains(node.opType) && isDefaultDomain(node) {
            let present = node.inputs.filter { !$0.isEmpty }
            guard present.allSatisfy({ graph.isConstant($0) }), let output = node.outputs.first, !output.isEmpty else { continue }
            try node.checkPlainAttributes()
            graph.constants[output] = try fold(node)
            absorbed.insert(index)
        }
    }

    private func constantInput(_ node: NodeProto, _ index: Int) throws(ONNXError) -> ConstantTensor? {
        guard let name = node.input(index) else { return nil }
        return graph.constant(name)
    }

    private func fold(_ node: NodeProto) throws -> ConstantTensor {
        func required(_ index: Int) throws -> ConstantTensor {
            guard let value = try constantInput(node, index) else { throw ONNXError.invalidModel("\(describe(node)) lacks input \(index)") }
            return value
        }
        func integerList(_ tensor: ConstantTensor, _ what: String) throws -> [Int64] {
            guard let values = tensor.integers else { throw ONNXError.invalidModel("\(describe(node)): \(what) must be integers") }
            return values
        }
        switch node.opType {
        case "Constant":
            return try constantNodeValue(node)
        case "Identity":
            return try required(0)
        case "Cast":
            let value = try required(0)
            let to = Int32(truncatingIfNeeded: try node.intAttribute("to", default: 1))
            switch ONNXDataType(rawValue: to) {
            case .float, .double: return ConstantTensor(shape: value.shape, floats: value.floats)
            case .int64, .int32, .int8, .uint8:
                // Float to integer conversion truncates toward zero; non-finite values are refused.
                let floats = value.floats
                guard floats.allSatisfy({ $0.isFinite && abs($0) < 9.2e18 }) else {
                    throw ONNXError.invalidModel("\(describe(node)): cannot cast a non-finite or huge value to an integer")
                }
                return value.integers.map { ConstantTensor(shape: value.shape, integers: $0) }
                    ?? ConstantTensor(shape: value.shape, integers: floats.map { Int64($0.rounded(.towardZero)) })
            case .bool:
                return ConstantTensor(shape: value.shape, integers: value.floats.map { $0 != 0 ? 1 : 0 })
            case nil:
                throw ONNXError.unsupported("\(describe(node)): cast to \(ONNXDataType.name(to)) is not supported")
            }
        case "Reshape":
            let value = try required(0)
            let target = try integerList(try required(1), "the shape")
            let allowZero = try node.intAttribute("allowzero", default: 0) != 0
            guard let shape = ShapeArithmetic.reshape(value.shape, to: target, allowZero: allowZero) else {
                throw ONNXError.invalidModel("\(describe(node)): cannot reshape \(value.shape) to \(target)")
            }
            return value.reshaped(shape)
        case "Transpose":
            let value = try required(0)
            let perm = try node.intsAttribute("perm") ?? (0..<Int64(value.shape.count)).reversed()
            guard let result = ShapeArithmetic.transpose(value, perm: perm) else {
                throw ONNXError.invalidModel("\(describe(node)): permutation \(perm) does not fit shape \(value.shape)")
            }
            return result
        case "Squeeze", "Unsqueeze":
            let value = try required(0)
            let axes = try node.input(1) != nil ? integerList(try required(1), "the axes") : (try node.intsAttribute("axes"))
            let squeeze = node.opType == "Squeeze"
            guard let shape = squeeze ? ShapeArithmetic.squeeze(value.shape, axes: axes) : ShapeArithmetic.unsqueeze(value.shape, axes: axes ?? []) else {
                throw ONNXError.invalidModel("\(describe(node)): axes \(axes ?? []) do not fit shape \(value.shape)")
            }
            return value.reshaped(shape)
        case "Slice":
            let value = try required(0)
            let starts, ends: [Int64]
            var axes: [Int64]?
            var steps: [Int64]?
            if graph.opset < 10 {
                starts = try node.intsAttribute("starts") ?? []
                ends = try node.intsAttribute("ends") ?? []
                axes = try node.intsAttribute("axes")
            } else {
                starts = try integerList(try required(1), "starts")
                ends = try integerList(try required(2), "ends")
                axes = try constantInput(node, 3).map { try integerList($0, "axes") }
                steps = try constantInput(node, 4).map { try integerList($0, "steps") }
            }
            guard let result = ShapeArithmetic.slice(value, starts: starts, ends: ends, axes: axes, steps: steps) else {
                throw ONNXError.unsupported("\(describe(node)): only slices with positive steps of 1 on valid axes are supported")
            }
            return result
        case "Gather":
            let data = try required(0)
            let indices = try integerList(try required(1), "the indices")
            let axis = try node.intAttribute("axis", default: 0)
            guard let result = ShapeArithmetic.gather(data, indices: indices, indexShape: try required(1).shape, axis: axis) else {
                throw ONNXError.invalidModel("\(describe(node)): indices out of range or axis \(axis) invalid for shape \(data.shape)")
            }
            return result
        default:
            throw ONNXError.unsupported("\(describe(node)) cannot be folded")
        }
    }

    /// The value of a `Constant` node, in any of its attribute forms.
    private func constantNodeValue(_ node: NodeProto) throws -> ConstantTensor {
        if let tensor = node.attribute("value")?.t { return try ConstantTensor(tensor, what: "\(describe(node)) value") }
        if let f = node.attribute("value_float")?.f { return ConstantTensor(shape: [], floats: [f]) }
        if let floats = node.attribute("value_floats")?.floats { return ConstantTensor(shape: [floats.count], floats: floats) }
        if let i = node.attribute("value_int")?.i { return ConstantTensor(shape: [], integers: [i]) }
        if let ints = node.attribute("value_ints")?.ints { return ConstantTensor(shape: [ints.count], integers: ints) }
        throw ONNXError.unsupported("\(describe(node)): only tensor, float and integer constants are supported")
    }
}

/// Shape arithmetic on constants, with ONNX's rules (negative axes count from the end).
/// Each returns nil when the arguments do not fit, never traps.
enum ShapeArithmetic {
    /// A negative axis counted from the end, or nil when out of range.
    static func normalize(_ axis: Int64, rank: Int) -> Int? {
        let value = axis < 0 ? axis + Int64(rank) : axis
        guard value >= 0, value < Int64(rank) else { return nil }
        return Int(value)
    }

    static func count(_ shape: [Int]) -> Int? {
        var total = 1
        for dim in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow, product <= maximumMessageBytes else { return nil }
            total = product
        }
        return total
    }

    /// Reshape with `0` (copy the input's dimension, unless `allowZero`) and one `-1` (inferred).
    static func reshape(_ shape: [Int], to target: [Int64], allowZero: Bool) -> [Int]? {
        guard let total = count(shape) else { return nil }
        var result: [Int] = []
        var inferred: Int?
        for (index, value) in target.enumerated() {
            if value == 0 && !allowZero {
                guard index < shape.count else { return nil }
                result.append(shape[index])
            } else if value == -1 {
                guard inferred == nil else { return nil }
                inferred = index
                result.append(1)
            } else {
                guard value >= 0, value <= Int64(maximumMessageBytes) else { return nil }
                result.append(Int(value))
            }
        }
        guard let known = count(result) else { return nil }
        if let inferred {
            guard known > 0, total % known == 0 else { return nil }
            result[inferred] = total / known
        } else {
            guard known == total else { return nil }
        }
        return result
    }

    static func squeeze(_ shape: [Int], axes: [Int64]?) -> [Int]? {
        guard let axes else { return shape.filter { $0 != 1 } }
        var drop = Set<Int>()
        for axis in axes {
            guard let index = normalize(axis, rank: shape.count), shape[index] == 1 else { return nil }
            drop.insert(index)
        }
        return shape.indices.filter { !drop.contains($0) }.map { shape[$0] }
    }

    static func unsqueeze(_ shape: [Int], axes: [Int64]) -> [Int]? {
        let rank = shape.count + axes.count
        var inserted = Set<Int>()
        for axis in axes {
            guard let index = normalize(axis, rank: rank), !inserted.contains(index) else { return nil }
            inserted.insert(index)
        }
        var result: [Int] = []
        var source = 0
        for index in 0..<rank {
            if inserted.contains(index) {
                result.append(1)
            } else {
                result.append(shape[source])
                source += 1
            }
        }
        return result
    }

    /// Row-major strides of a shape.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var stride = 1
        for axis in shape.indices.reversed() {
            strides[axis] = stride
            stride *= shape[axis]
        }
        return strides
    }

    /// Gathers the elements at the given multi-indices (one per output element, via `source`).
    static func remap(_ tensor: ConstantTensor, shape: [Int], source: (Int) -> Int) -> ConstantTensor {
        let total = shape.reduce(1, *)
        switch tensor.values {
        case .floats(let values): return ConstantTensor(shape: shape, floats: (0..<total).map { values[source($0)] })
        case .integers(let values): return ConstantTensor(shape: shape, integers: (0..<total).map { values[source($0)] })
        }
    }

    static func transpose(_ tensor: ConstantTensor, perm: [Int64]) -> ConstantTensor? {
        let rank = tensor.shape.count
        guard perm.count == rank, Set(perm) == Set((0..<Int64(rank))) else { return nil }
        let axes = perm.map { Int($0) }
        let shape = axes.map { tensor.shape[$0] }
        let inStrides = strides(tensor.shape)
        let outStrides = strides(shape)
        return remap(tensor, shape: shape) { flat in
            var rest = flat
            var offset = 0
            for axis in 0..<rank {
                let coordinate = rest / outStrides[axis]
                rest %= outStrides[axis]
                offset += coordinate * inStrides[axes[axis]]
            }
            return offset
        }
    }

    static func slice(_ tensor: ConstantTensor, starts: [Int64], ends: [Int64], axes: [Int64]?, steps: [Int64]?) -> ConstantTensor? {
        let rank = tensor.shape.count
        let axisList = axes ?? (0..<Int64(starts.count)).map { $0 }
        guard starts.count == ends.count, axisList.count == starts.count, (steps?.count ?? starts.count) == starts.count,
              steps?.allSatisfy({ $0 == 1 }) ?? true else { return nil }
        var lower = [Int](repeating: 0, count: rank)
        var shape = tensor.shape
        var seen = Set<Int>()
        for (position, axisValue) in axisList.enumerated() {
            guard let axis = normalize(axisValue, rank: rank), !seen.contains(axis) else { return nil }
            seen.insert(axis)
            let size = Int64(tensor.shape[axis])
            func clamp(_ value: Int64) -> Int64 { min(max(value < 0 ? value + size : value, 0), size) }
            let start = clamp(starts[position]), end = clamp(ends[position])
            lower[axis] = Int(start)
            shape[axis] = Int(max(0, end - start))
        }
        let inStrides = strides(tensor.shape)
        let outStrides = strides(shape)
        return remap(tensor, shape: shape) { flat in
            var rest = flat
            var offset = 0
            for axis in 0..<rank {
                let coordinate = rest / outStrides[axis]
                rest %= outStrides[axis]
                offset += (coordinate + lower[axis]) * inStrides[axis]
            }
            return offset
        }
    }

    static func gather(_ data: ConstantTensor, indices: [Int64], indexShape: [Int], axis: Int64) -> ConstantTensor? {
        guard let axisIndex = normalize(axis, rank: data.shape.count) else { return nil }
        let size = data.shape[axisIndex]
        var resolved: [Int] = []
        for index in indices {
            let value = index < 0 ? index + Int64(size) : index
            guard value >= 0, value < Int64(size) else { return nil }
            resolved.append(Int(value))
        }
        let outer = data.shape[..<axisIndex].reduce(1, *)
        let inner = data.shape[(axisIndex + 1)...].reduce(1, *)
        let shape = Array(data.shape[..<axisIndex]) + indexShape + Array(data.shape[(axisIndex + 1)...])
        guard let total = count(shape), total == outer * resolved.count * inner else { return nil }
        return remap(data, shape: shape) { flat in
            let o = flat / (resolved.count * inner)
            let i = (flat / inner) % max(1, resolved.count)
            let r = flat % max(1, inner)
            return (o * size + resolved[i]) * inner + r
        }
    }
}
