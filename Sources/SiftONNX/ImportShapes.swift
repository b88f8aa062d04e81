import SparseIFT

/// The window attributes shared by Conv and the pools, reduced to what the IR holds: one
/// stride and one symmetric padding for both spatial axes, no dilation.
struct WindowAttributes {
    let stride: Int
    let padding: Int

    static let limit: Int64 = 1 << 20

    init(_ node: NodeProto, kernel: (Int, Int)) throws {
        let strides = try node.intsAttribute("strides") ?? [1, 1]
        guard strides.count == 2, strides[0] == strides[1], strides[0] >= 1, strides[0] <= Self.limit else {
            throw ONNXError.unsupported("\(describe(node)): strides \(strides); only equal positive strides on two spatial axes are supported")
        }
        let dilations = try node.intsAttribute("dilations") ?? [1, 1]
        guard dilations.allSatisfy({ $0 == 1 }) else {
            throw ONNXError.unsupported("\(describe(node)): dilations \(dilations); dilated windows are not supported")
        }
        stride = Int(strides[0])
        switch try node.stringAttribute("auto_pad") ?? "NOTSET" {
        case "NOTSET":
            let pads = try node.intsAttribute("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, Set(pads).count == 1, pads[0] >= 0, pads[0] <= Self.limit else {
                throw ONNXError.unsupported("\(describe(node)): pads \(pads); only the same padding on every side is supported")
            }
            padding = Int(pads[0])
        case "VALID":
            padding = 0
        case let mode where mode.hasPrefix("SAME"):
            // With stride 1 and an odd square window, SAME is a symmetric padding.
            guard stride == 1, kernel.0 == kernel.1, kernel.0 % 2 == 1 else {
                throw ONNXError.unsupported("\(describe(node)): auto_pad \(mode) with stride \(stride) and window \(kernel.0)x\(kernel.1) pads unevenly")
            }
            padding = (kernel.0 - 1) / 2
        case let mode:
            throw ONNXError.invalidModel("\(describe(node)): unknown auto_pad \(mode)")
        }
    }
}

/// Translators for pooling and the shape operators: MaxPool, AveragePool,
/// GlobalAveragePool and ReduceMean (with the Flatten that usually follows), Flatten, Reshape.
extension ONNXImporter {
    mutating func translatePool(_ node: NodeProto) throws {
        try requireOnlyFirstOutputUsed(node)
        let x = try dataInput(node)
        guard let kernel = try node.intsAttribute("kernel_shape"), kernel.count == 2, kernel[0] == kernel[1],
              kernel[0] >= 1, kernel[0] <= WindowAttributes.limit else {
            throw ONNXError.unsupported("\(describe(node)): only square 2-D windows are supported")
        }
        let size = Int(kernel[0])
        let window = try WindowAttributes(node, kernel: (size, size))
        let isMax = node.opType == "MaxPool"
        if !isMax, window.padding > 0, try node.intAttribute("count_include_pad", default: 0) == 0 {
            throw ONNXError.unsupported("\(describe(node)): average pooling that leaves the padding out of the divisor (count_include_pad = 0); the IR divides by the whole window")
        }
        let ceilMode = try node.intAttribute("ceil_mode", default: 0) != 0
        let pool = PoolSpec(kernel: size, stride: window.stride, padding: window.padding)
        layers.append(PendingLayer(name: try output(node), inputs: [x], source: describe(node)) { shapes in
            // Rounding up only differs from the IR's rounding down when a window is cut short.
            if ceilMode, shapes[0].count == 3,
               shapes[0][1...].contains(where: { ($0 + 2 * pool.padding - pool.kernel) % pool.stride != 0 }) {
                throw ONNXError.unsupported("\(describe(node)): ceil_mode = 1 adds a partial window for input \(shapes[0]); the IR rounds down")
            }
            return isMax ? .maxPool(pool) : .avgPool(pool)
        })
    }

    mutating func translateGlobalAveragePool(_ node: NodeProto) throws {
        try spatialMean(node, keepsDimensions: true, axes: nil)
    }

    /// ReduceMean over the two spatial axes is a global average pool.
    mutating func translateReduceMean(_ node: NodeProto) throws {
        var axes: [Int64]?
        if graph.opset >= 18 {
            axes = try node.input(1).map { _ in
                guard let values = try constantInput(node, 1, "axes").integers else { throw ONNXError.invalidModel("\(describe(node)): axes must be integers") }
                return values
            }
        } else {
            axes = try node.intsAttribute("axes")
        }
        guard let axes, axes.count == 2 else {
            throw ONNXError.unsupported("\(describe(node)): only ReduceMean over the two spatial axes (2, 3) is supported")
        }
        try spatialMean(node, keepsDimensions: try node.intAttribute("keepdims", default: 1) != 0, axes: axes)
    }

    /// `[N, C, H, W] -> [N, C, 1, 1]` (or `[N, C]`). The IR's global average pool gives
    /// `[C]`, so a Flatten, Reshape or Squeeze that alone reads the pooled value is fused
    /// in; a pooled value used with its `1 x 1` axes becomes an average pool over the
    /// whole (square) plane.
    mutating func spatialMean(_ node: NodeProto, keepsDimensions: Bool, axes: [Int64]?) throws {
        let x = try dataInput(node)
        var name = try output(node)
        var source = describe(node)
        let checkAxes: ([Int]) throws -> Void = { shape in
            guard shape.count == 3 else { throw ONNXError.unsupported("\(source): expects [N, C, H, W], got per-sample \(shape)") }
            if let axes, Set(axes.compactMap { ShapeArithmetic.normalize($0, rank: 4) }) != [2, 3] {
                throw ONNXError.unsupported("\(source): only the mean over the spatial axes (2, 3) is supported, axes \(axes)")
            }
        }
        if !keepsDimensions {
            layers.append(PendingLayer(name: name, inputs: [x], source: source) { shapes in
                try checkAxes(shapes[0])
                return .globalAvgPool
            })
            return
        }
        if let (index, reader) = graph.singleReader(of: name), !absorbed.contains(index), isDefaultDomain(reader),
           let dropsSpatialAxes = try dropsUnitAxes(reader) {
            absorbed.insert(index)
            name = try output(reader)
            source += " + \(describe(reader))"
            let finalSource = source
            layers.append(PendingLayer(name: name, inputs: [x], source: source) { shapes in
                try checkAxes(shapes[0])
                guard try dropsSpatialAxes([shapes[0][0], 1, 1]) else {
                    throw ONNXError.unsupported("\(finalSource): the pooled [C, 1, 1] is not reshaped to [C]")
                }
                return .globalAvgPool
            })
            return
        }
        layers.append(PendingLayer(name: name, inputs: [x], source: source) { shapes in
            try checkAxes(shapes[0])
            guard shapes[0][1] == shapes[0][2] else {
                throw ONNXError.unsupported("\(source): a pooled value kept as [C, 1, 1] needs a square plane, got \(shapes[0])")
            }
            return .avgPool(PoolSpec(kernel: shapes[0][1], stride: shapes[0][1]))
        })
    }

    /// For a Flatten, Reshape or Squeeze node: a check that it turns the given per-sample
    /// shape into `[C]`; nil for any other operator.
    func dropsUnitAxes(_ node: NodeProto) throws -> (([Int]) throws -> Bool)? {
        switch node.opType {
        case "Flatten":
            let axis = try node.intAttribute("axis", default: 1)
            return { shape in ShapeArithmetic.normalize(axis, rank: shape.count + 1) == 1 }
        case "Reshape":
            guard let target = node.input(1).flatMap({ graph.constant($0) })?.integers else { return nil }
            let allowZero = try node.intAttribute("allowzero", default: 0) != 0
            let batch = graph.staticBatch
            return { shape in
                SampleShapes.reshape(shape, to: target, allowZero: allowZero, staticBatch: batch) == [shape.reduce(1, *)]
            }
        case "Squeeze":
            let axes = graph.opset >= 13 ? node.input(1).flatMap({ graph.constant($0) })?.integers : try node.intsAttribute("axes")
            // Without axes a Squeeze would also drop a batch of 1: refused.
            guard let axes else { return nil }
            return { shape in Set(axes.compactMap { ShapeArithmetic.normalize($0, rank: shape.count + 1) }) == [2, 3] }
        default:
            return nil
        }
    }

    /// Flatten from axis 1: `[N, ...] -> [N, prod]`; already flat values pass through.
    mutating func translateFlatten(_ node: NodeProto) throws {
        let axis = try node.intAttribute("axis", default: 1)
        let x = try dataInput(node)
        layers.append(PendingLayer(name: try output(node), inputs: [x], source: describe(node)) { shapes in
            guard ShapeArithmetic.normalize(axis, rank: shapes[0].count + 1) == 1 else {
                throw ONNXError.unsupported("\(describe(node)): only Flatten from axis 1 (keeping the batch) is supported (axis \(axis))")
            }
            return shapes[0].count == 1 ? nil : .flatten
        })
    }

    /// A Reshape outside attention: either a flatten `[N, ...] -> [N, prod]` or a no-op.
    mutating func translateReshape(_ node: NodeProto) throws {
        let x = try dataInput(node)
        let target = try constantInput(node, 1, "shape")
        guard let values = target.integers else { throw ONNXError.invalidModel("\(describe(node)): the shape must be integers") }
        let allowZero = try node.intAttribute("allowzero", default: 0) != 0
        let batch = graph.staticBatch
        layers.append(PendingLayer(name: try output(node), inputs: [x], source: describe(node)) { shapes in
            let sample = shapes[0]
            guard let result = SampleShapes.reshape(sample, to: values, allowZero: allowZero, staticBatch: batch) else {
                throw ONNXError.unsupported("\(describe(node)): reshape of per-sample \(sample) to \(values) does not keep the batch axis")
            }
            if result == sample { return nil }
            if result == [sample.reduce(1, *)] { return sample.count == 1 ? nil : .flatten }
            throw ONNXError.unsupported("\(describe(node)): reshape of per-sample \(sample) to \(result) has no IR equivalent outside an attention pattern")
        })
    }
}

/// Shape arithmetic on per-sample shapes, the batch axis in front being symbolic.
enum SampleShapes {
    /// The per-sample result of reshaping `[N] + sample` to `target`, or nil unless the
    /// target keeps the batch as its first axis (`0`, `-1` with the rest known, or the
    /// input's fixed batch size).
    static func reshape(_ sample: [Int], to target: [Int64], allowZero: Bool, staticBatch: Int?) -> [Int]? {
        guard let first = target.first else { return nil }
        var rest = Array(target.dropFirst())
        // `0` copies the input's dimension at the same position (position 0 is the batch).
        if !allowZero {
            for index in rest.indices where rest[index] == 0 {
                guard index < sample.count else { return nil }
                rest[index] = Int64(sample[index])
            }
        }
        let keepsBatch = (first == 0 && !allowZero) || (first == -1 && !rest.contains(-1)) || (staticBatch.map { Int64($0) == first } ?? false)
        guard keepsBatch else { return nil }
        return ShapeArithmetic.reshape(sample, to: rest, allowZero: true)
    }
}
