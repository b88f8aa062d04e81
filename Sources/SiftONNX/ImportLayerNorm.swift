import SparseIFT

/// Recognises layer normalisation written out with standard operators, the form PyTorch
/// exports below opset 17 and `sift export` writes by default:
/// `mean = ReduceMean(x)`, `d = x - mean`, `var = ReduceMean(d²)` (Pow by 2 or Mul d·d),
/// `d / Sqrt(var + eps)`, then Mul by the scale and Add of the shift, both over the last
/// axis. Every intermediate value must be read by the pattern alone.
extension ONNXImporter {
    mutating func fuseLayerNorms() throws {
        for (index, node) in graph.nodes.enumerated()
        where !absorbed.contains(index) && node.opType == "ReduceMean" && isDefaultDomain(node) {
            try fuseLayerNorm(meanIndex: index, node)
        }
    }

    /// The axes of a ReduceMean over the last axis only ([-1] or [k], k checked later), and
    /// whether it keeps dimensions; nil for any other reduction.
    func lastAxisReduction(_ node: NodeProto) throws -> Int64? {
        let axes = graph.opset >= 18 ? node.input(1).flatMap { graph.constant($0) }?.integers : try node.intsAttribute("axes")
        guard let axes, axes.count == 1, try node.intAttribute("keepdims", default: 1) == 1 else { return nil }
        return axes[0]
    }

    /// The single node reading `value`, if it has the operator and is not yet absorbed.
    func onlyReader(of value: String, _ ops: Set<String>) -> (index: Int, node: NodeProto)? {
        guard let (index, node) = graph.singleReader(of: value), !absorbed.contains(index), ops.contains(node.opType),
              isDefaultDomain(node) else { return nil }
        return (index, node)
    }

    /// The other input of a binary node, when one input is `value`.
    func otherInput(of node: NodeProto, than value: String) -> String? {
        guard node.inputs.count == 2, node.inputs.contains(value) else { return nil }
        return node.inputs[0] == value ? node.inputs[1] : node.inputs[0]
    }

    private mutating func fuseLayerNorm(meanIndex: Int, _ mean: NodeProto) throws {
        guard let x = mean.input(0), !graph.isConstant(x), let meanValue = mean.outputs.first,
              let axis = try lastAxisReduction(mean),
              let (subIndex, sub) = onlyReader(of: meanValue, ["Sub"]), sub.inputs == [x, meanValue],
              let centred = sub.outputs.first, !graph.outputNames.contains(centred),
              let readers = graph.consumers[centred], readers.count == 2 || readers.count == 3 else { return }
        // d² (Pow(d, 2) or Mul(d, d)) and d / std read the centred value.
        var squareIndex: Int?
        var divideIndex: Int?
        for reader in Set(readers) where !absorbed.contains(reader) {
            let node = graph.nodes[reader]
            if node.opType == "Pow", node.inputs.first == centred, node.input(1).flatMap({ graph.constant($0)?.scalar }) == 2 {
                squareIndex = reader
            } else if node.opType == "Mul", node.inputs == [centred, centred] {
                squareIndex = reader
            } else if node.opType == "Div", node.inputs.first == centred {
                divideIndex = reader
            }
        }
        guard let squareIndex, let divideIndex, let squared = graph.nodes[squareIndex].outputs.first,
              let (varianceIndex, variance) = onlyReader(of: squared, ["ReduceMean"]), try lastAxisReduction(variance) == axis,
              let varianceValue = variance.outputs.first,
              let (epsilonIndex, plusEpsilon) = onlyReader(of: varianceValue, ["Add"]),
              let epsilonName = otherInput(of: plusEpsilon, than: varianceValue), let epsilon = graph.constant(epsilonName)?.scalar,
              let shifted = plusEpsilon.outputs.first,
              let (rootIndex, root) = onlyReader(of: shifted, ["Sqrt"]), let deviation = root.outputs.first,
              graph.hasSingleReader(deviation), graph.nodes[divideIndex].inputs == [centred, deviation],
              let normalised = graph.nodes[divideIndex].outputs.first,
              let (scaleIndex, scaleNode) = onlyReader(of: normalised, ["Mul"]),
              let scaleName = otherInput(of: scaleNode, than: normalised), let scale = graph.constant(scaleName),
              let scaled = scaleNode.outputs.first,
              let (shiftIndex, shiftNode) = onlyReader(of: scaled, ["Add"]),
              let shiftName = otherInput(of: shiftNode, than: scaled), let shift = graph.constant(shiftName),
              scale.isFloat, shift.isFloat, scale.count == shift.count, scale.shape.last == scale.count, shift.shape.last == shift.count,
              let output = shiftNode.outputs.first else { return }
        let source = "layer normalisation at \(describe(mean)) ... \(describe(shiftNode))"
        guard abs(epsilon - ONNXModel.normEpsilon) <= 1e-10 else {
            throw ONNXError.unsupported("\(source): epsilon \(epsilon) differs from the IR's LayerNorm epsilon \(ONNXModel.normEpsilon)")
        }
        for node in [meanIndex, subIndex, squareIndex, varianceIndex, epsilonIndex, rootIndex, divideIndex, scaleIndex, shiftIndex] {
            absorbed.insert(node)
        }
        var layer = PendingLayer(name: output, inputs: [x], source: source) { shapes in
            guard ShapeArithmetic.normalize(axis, rank: shapes[0].count + 1) == shapes[0].count else {
                throw ONNXError.unsupported("\(source): only normalisation over the last axis is supported (axis \(axis))")
            }
            return .layerNorm
        }
        layer.tensors["weight"] = scale.reshaped([scale.count])
        layer.tensors["bias"] = shift.reshaped([shift.count])
        layers.append(layer)
    }
}
