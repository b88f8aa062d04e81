import Foundation

/// Weight-streaming execution (CS-2 style): the whole region runs one matrix product at a
/// time, activations stay on the wafer, weights stream in from MemoryX (compressed when
/// sparse) and weight gradients stream out. A training step is the forward pass in
/// topological order, then the backward pass in reverse: each weight layer's input
/// gradient (skipped for a layer that reads the network input) and weight gradient; the
/// attention products run the same way with both operands on the wafer.
enum WeightStreaming {
    /// One span of the step's timeline: a product or an operation, in execution order.
    struct StepSpan: Sendable {
        let name: String
        let pass: Pass
        let category: String
        let cycles: Double
    }

    struct StepResult: Sendable {
        var cycles: Double
        var breakdown: Breakdown
        var products: [ProductResult]
        var operations: [OperationResult]
        var spans: [StepSpan]
        var regionTimeline: [TimelineSpan]
        var regionTimelineProduct: String
        var simulatedCycles: Double
        var events: Int
    }

    /// The products of a training step, in execution order (forward, then backward).
    static func tasks(_ lowered: LoweredNetwork, masks: [Int: MaskBits], batch: Int) -> [(product: Int, task: ProductTask)] {
        var forward: [(Int, ProductTask)] = []
        var backward: [(Int, ProductTask)] = []
        for (index, product) in lowered.products.enumerated() {
            let sparsity = product.weight?.sparsity ?? 0
            let pattern = product.isSparse ? (product.weight?.pattern.description ?? "dense") : "dense"
            func make(_ pass: Pass, _ label: String, op: VectorOp, outRows: Int, reduction: Int, positions: Int, copies: Int,
                      weights: ProductTask.Weights, fromStore: Bool, gradient: Bool = false) -> ProductTask {
                ProductTask(layer: product.node, pass: pass, label: label, op: op, outRows: outRows, reduction: reduction,
                            positions: positions, copies: copies, weights: weights, fromWeightStore: fromStore,
                            isWeightGradient: gradient, sparsity: sparsity, pattern: pattern)
            }
            switch product.kind {
            case .linear, .conv:
                let mask = masks[index]
                let weights: ProductTask.Weights = mask.map { .sparse($0) } ?? .dense
                let positions = product.N * batch
                forward.append((index, make(.forward, "forward", op: .axpy, outRows: product.M, reduction: product.K,
                                            positions: positions, copies: product.groups, weights: weights, fromStore: true)))
                var layerBackward: [(Int, ProductTask)] = []
                if product.needsInputGradient {
                    let transposed: ProductTask.Weights = mask.map { .sparse($0.transposed()) } ?? .dense
                    layerBackward.append((index, make(.inputGradient, "input_gradient", op: .axpy, outRows: product.K,
                                                      reduction: product.M, positions: positions, copies: product.groups,
                                                      weights: transposed, fromStore: true)))
                }
                layerBackward.append((index, make(.weightGradient, "weight_gradient", op: .dot, outRows: product.M,
                                                  reduction: product.K, positions: positions, copies: product.groups,
                                                  weights: weights, fromStore: true, gradient: true)))
                backward.insert(contentsOf: layerBackward, at: 0)
            case .attentionScores, .attentionContext:
                // Per sample and head; both operands are on the wafer.
                let copies = product.groups * batch
                let (T, inner) = product.kind == .attentionScores ? (product.M, product.K) : (product.M, product.N)
                if product.kind == .attentionScores {
                    forward.append((index, make(.forward, "scores", op: .axpy, outRows: T, reduction: inner, positions: T,
                                                copies: copies, weights: .dense, fromStore: false)))
                    backward.insert(contentsOf: [
                        (index, make(.inputGradient, "dq", op: .axpy, outRows: T, reduction: T, positions: inner, copies: copies,
                                     weights: .dense, fromStore: false)),
                        (index, make(.inputGradient, "dk", op: .axpy, outRows: T, reduction: T, positions: inner, copies: copies,
                                     weights: .dense, fromStore: false)),
                    ], at: 0)
                } else {
                    forward.append((index, make(.forward, "context", op: .axpy, outRows: T, reduction: T, positions: inner,
                                                copies: copies, weights: .dense, fromStore: false)))
                    backward.insert(contentsOf: [
                        (index, make(.inputGradient, "dp", op: .axpy, outRows: T, reduction: inner, positions: T, copies: copies,
                                     weights: .dense, fromStore: false)),
                        (index, make(.inputGradient, "dv", op: .axpy, outRows: T, reduction: T, positions: inner, copies: copies,
                                     weights: .dense, fromStore: false)),
                    ], at: 0)
                }
            }
        }
        return forward + backward
    }

    /// A key under which dense products of identical shape share one simulation.
    struct DenseKey: Hashable {
        let pass: Pass
        let op: VectorOp
        let outRows: Int
        let reduction: Int
        let positions: Int
        let copies: Int
        let fromStore: Bool
        let gradient: Bool
    }

    static func simulate(_ lowered: LoweredNetwork, batch: Int, machine: DataflowMachine, mode: SimulationMode, seed: UInt64,
                         traceLayer: String?, progress: (@Sendable (String) -> Void)?) throws -> StepResult {
        // The real masks, one per sparse layer, computed in parallel.
        let sparseIndices = lowered.products.indices.filter { lowered.products[$0].isSparse }
        progress?("sampling \(sparseIndices.count) masks")
        let maskList = try parallelMap(sparseIndices, threads: simulatorThreads) { _, index in
            try MaskSource.mask(of: lowered.products[index], seed: seed)
        }
        var masks: [Int: MaskBits] = [:]
        for (index, mask) in zip(sparseIndices, maskList) { masks[index] = mask }
        let ordered = tasks(lowered, masks: masks, batch: batch)

        // Dense products of the same shape are simulated once.
        var representative: [DenseKey: Int] = [:]
        var sourceOf = [Int](repeating: -1, count: ordered.count)
        var unique: [Int] = []
        for (position, entry) in ordered.enumerated() {
            let task = entry.task
            guard !task.isSparse else {
                sourceOf[position] = unique.count
                unique.append(position)
                continue
            }
            let key = DenseKey(pass: task.pass, op: task.op, outRows: task.outRows, reduction: task.reduction,
                               positions: task.positions, copies: task.copies, fromStore: task.fromWeightStore,
                               gradient: task.isWeightGradient)
            if let known = representative[key] {
                sourceOf[position] = known
            } else {
                representative[key] = unique.count
                sourceOf[position] = unique.count
                unique.append(position)
            }
        }
        let simulator = ProductSimulator(machine: machine, mode: mode, seed: seed)
        let total = unique.count
        final class Counter: @unchecked Sendable {
            var done = 0
            let lock = NSLock()
        }
        let counter = Counter()
        let outcomes = try parallelMap(unique, threads: simulatorThreads) { _, position in
            let task = ordered[position].task
            let result = try simulator.simulate(task).result
            if let progress {
                counter.lock.lock()
                counter.done += 1
                let done = counter.done
                counter.lock.unlock()
                progress("[\(done)/\(total)] \(task.layer) \(task.label): \(Int(result.cycles)) cycles")
            }
            return result
        }
        var products: [ProductResult] = []
        for (position, entry) in ordered.enumerated() {
            let shared = outcomes[sourceOf[position]]
            products.append(relabel(shared, as: entry.task))
        }

        // Non-matmul work on the whole region.
        let config = machine.config
        let cores = config.regionWidth * config.regionHeight
        var operations: [OperationResult] = []
        for operation in lowered.operations where operation.kind != .free {
            for pass in [Pass.forward, .inputGradient] {
                let cycles = NonMatmulCost.cycles(operation, pass: pass, batch: batch, cores: cores, width: config.regionWidth,
                                                  height: config.regionHeight, machine: machine)
                operations.append(OperationResult(node: operation.node, kind: operation.kind.rawValue, pass: pass, cycles: cycles))
            }
        }

        var breakdown = products.reduce(Breakdown()) { $0 + $1.breakdown }
        breakdown.nonMatmul += operations.reduce(0) { $0 + $1.cycles }
        breakdown.fixedOverhead += Double(config.stepOverheadCycles)

        // The step's timeline: forward in topological order, backward in reverse.
        var spans: [StepSpan] = []
        var productCursor = 0
        let forwardProducts = products.filter { $0.pass == .forward }
        let backwardProducts = products.filter { $0.pass != .forward }
        let forwardOperations = operations.filter { $0.pass == .forward }
        var operationCursor = 0
        for step in lowered.steps {
            switch step {
            case .product:
                while productCursor < forwardProducts.count, forwardProducts[productCursor].layer == lowered.products[stepIndex(step)].node {
                    let product = forwardProducts[productCursor]
                    spans.append(StepSpan(name: "\(product.layer) \(product.label)", pass: .forward, category: "product", cycles: product.cycles))
                    productCursor += 1
                }
            case .operation(let index):
                if lowered.operations[index].kind != .free, operationCursor < forwardOperations.count {
                    let operation = forwardOperations[operationCursor]
                    spans.append(StepSpan(name: operation.node, pass: .forward, category: operation.kind, cycles: operation.cycles))
                    operationCursor += 1
                }
            }
        }
        let backwardOperations = operations.filter { $0.pass != .forward }
        for product in backwardProducts {
            spans.append(StepSpan(name: "\(product.layer) \(product.label)", pass: product.pass, category: "product", cycles: product.cycles))
        }
        for operation in backwardOperations.reversed() {
            spans.append(StepSpan(name: operation.node, pass: .inputGradient, category: operation.kind, cycles: operation.cycles))
        }

        // A cycle-level timeline of one region: the named layer's forward product, or the
        // slowest product of the step.
        var timeline: [TimelineSpan] = []
        var timelineProduct = ""
        if mode == .cycle, !ordered.isEmpty {
            let chosen: Int
            if let traceLayer, let match = ordered.firstIndex(where: { $0.task.layer == traceLayer }) {
                chosen = match
            } else {
                chosen = products.indices.max { products[$0].cycles < products[$1].cycles } ?? 0
            }
            let task = ordered[chosen].task
            timeline = try simulator.simulate(task, recordTimeline: true).timeline
            timelineProduct = "\(task.layer) \(task.label)"
        }
        return StepResult(cycles: breakdown.total, breakdown: breakdown, products: products, operations: operations,
                          spans: spans, regionTimeline: timeline, regionTimelineProduct: timelineProduct,
                          simulatedCycles: outcomes.reduce(0) { $0 + $1.simulatedCycles },
                          events: outcomes.reduce(0) { $0 + $1.events })
    }

    private static func stepIndex(_ step: LoweredNetwork.Step) -> Int {
        switch step {
        case .product(let index), .operation(let index): index
        }
    }

    /// A shared dense result under another layer's name.
    static func relabel(_ result: ProductResult, as task: ProductTask) -> ProductResult {
        ProductResult(layer: task.layer, pass: task.pass, label: task.label, fidelity: result.fidelity, outRows: result.outRows,
                      reduction: result.reduction, positions: result.positions, copies: result.copies, sparsity: task.sparsity,
                      pattern: task.pattern, mapping: result.mapping, cycles: result.cycles, breakdown: result.breakdown,
                      effectiveMACs: result.effectiveMACs, denseMACs: result.denseMACs, utilisation: result.utilisation,
                      analyticalCycles: result.analyticalCycles, sampledGroups: result.sampledGroups,
                      simulatedPanels: result.simulatedPanels, simulatedCycles: result.simulatedCycles, events: result.events)
    }
}
