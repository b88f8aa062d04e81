/// Layer-pipelined execution (CS-1 style): every product owns a region of the mesh for the
/// whole step and keeps its weights there; activations stream from region to region.
///
/// A region of `rows × columns` cores: core (r, c) holds the weights of reduction slice r
/// (`reductionPerRow` inputs) and output slice c (`outputsPerColumn` outputs), compressed
/// (value + index) when sparse. An input activation of slice r is multicast along row r;
/// every core of the row runs one vector operation over its weight column for it. Partial
/// sums of each position are summed down the columns.
struct PipelinedStage: Sendable {
    let index: Int
    let product: LoweredProduct
    /// The weight of one copy, `M × K`; nil when dense.
    let mask: MaskBits?
    let zeros: ActivationZeros.Product
    let cores: Int
    let copiesAtOnce: Int
    let rounds: Int
    let rows: Int
    let columns: Int
    let reductionPerRow: Int
    let outputsPerColumn: Int
    let sramBytesPerCore: Int

    var density: Double {
        guard let mask else { return 1 }
        return Double(mask.nonzeros) / Double(max(1, mask.rows * mask.columns))
    }

    var mapping: ProductMapping {
        ProductMapping(copiesAtOnce: copiesAtOnce, rounds: rounds, subregionWidth: columns, subregionHeight: rows, panels: 1,
                       rows: rows, columns: columns, groupsPerPanel: product.N, reductionPerRow: reductionPerRow,
                       positionsPerColumn: outputsPerColumn, weightsPerWavelet: 1, sramBytesPerCore: sramBytesPerCore,
                       bands: 1)
    }
}

enum PipelinedMapper {
    /// Bytes per core of a stage's weights, weight gradients and accumulators.
    static func sramBytes(product: LoweredProduct, density: Double, sparse: Bool, reductionPerRow: Int, outputsPerColumn: Int,
                          machine: DataflowMachine) -> Int {
        let config = machine.config
        let weights = Double(reductionPerRow * outputsPerColumn) * density
        let perWeight = (config.weightValueBits + (sparse ? config.weightIndexBits : 0) + 7) / 8
        var bytes = Int((weights * Double(perWeight + config.accumulatorElementBytes)).rounded(.up))
        bytes += config.accumulatorBuffers * outputsPerColumn * config.accumulatorElementBytes
        // The output gradient the weight gradient needs, and a reduction input row.
        bytes += outputsPerColumn * config.activationBytes + reductionPerRow * config.activationBytes
        return bytes
    }

    /// Cores a stage needs at least for its weights to fit.
    static func minimumCores(product: LoweredProduct, density: Double, sparse: Bool, machine: DataflowMachine) -> Int {
        let config = machine.config
        let perWeight = (config.weightValueBits + (sparse ? config.weightIndexBits : 0) + 7) / 8 + config.accumulatorElementBytes
        let bytes = Double(product.M * product.K * product.groups) * density * Double(perWeight)
        // Leave a quarter of each core's data space for accumulators and buffers.
        return max(product.groups, Int((bytes / (Double(config.dataBytesPerCore) * 0.75)).rounded(.up)))
    }

    /// Per-sample multiply-adds of a stage's three passes, after skipping zeros: the share of
    /// the mesh it gets.
    static func work(_ product: LoweredProduct, density: Double, zeros: ActivationZeros.Product) -> Double {
        let macs = Double(product.denseMACs) * density
        let backwardInput = product.needsInputGradient ? macs * (1 - zeros.gradient) : 0
        return macs * (1 - zeros.input) * 2 + backwardInput
    }

    /// Regions proportional to each stage's work, each at least what its weights need.
    static func allocate(_ products: [LoweredProduct], masks: [Int: MaskBits], zeros: [ActivationZeros.Product],
                         machine: DataflowMachine) throws -> [Int] {
        let total = machine.config.regionWidth * machine.config.regionHeight
        let densities = products.indices.map { index -> Double in
            guard let mask = masks[index] else { return 1 }
            return Double(mask.nonzeros) / Double(max(1, mask.rows * mask.columns))
        }
        let minimum = products.indices.map {
            minimumCores(product: products[$0], density: densities[$0], sparse: masks[$0] != nil, machine: machine)
        }
        let needed = minimum.reduce(0, +)
        guard needed <= total else {
            throw SimulatorError.doesNotFit(
                "pipelined execution needs at least \(needed) cores to hold every layer's weights and gradients, the region has \(total); use weight streaming or a larger mesh")
        }
        let shares: [Double] = products.indices.map { work(products[$0], density: densities[$0], zeros: zeros[$0]) }
        let totalWork = shares.reduce(0, +)
        let spare = Double(total - needed)
        return products.indices.map { index -> Int in
            let share = totalWork > 0 ? spare * shares[index] / totalWork : spare / Double(max(1, products.count))
            return minimum[index] + Int(share)
        }
    }

    /// The stage's region shape with the smallest estimated per-sample time.
    static func stage(index: Int, product: LoweredProduct, mask: MaskBits?, zeros: ActivationZeros.Product, cores: Int,
                      machine: DataflowMachine) throws -> PipelinedStage {
        let config = machine.config
        let copiesAtOnce = max(1, min(product.groups, cores))
        let rounds = (product.groups + copiesAtOnce - 1) / copiesAtOnce
        let perCopy = max(1, cores / copiesAtOnce)
        let density = mask.map { Double($0.nonzeros) / Double(max(1, $0.rows * $0.columns)) } ?? 1
        let core = machine.components.core
        var best: (time: Double, stage: PipelinedStage)?
        var power = 1
        var candidates: [Int] = []
        while power <= min(product.K, perCopy) {
            candidates.append(power)
            power *= 2
        }
        for rows in candidates {
            let columns = min(product.M, perCopy / rows)
            guard columns >= 1 else { continue }
            let reductionPerRow = (product.K + rows - 1) / rows
            let outputsPerColumn = (product.M + columns - 1) / columns
            let bytes = sramBytes(product: product, density: density, sparse: mask != nil, reductionPerRow: reductionPerRow,
                                  outputsPerColumn: outputsPerColumn, machine: machine)
            guard bytes <= config.dataBytesPerCore else { continue }
            let length = max(1, Int((Double(outputsPerColumn) * density).rounded(.up)))
            let task = core.taskCost(mask == nil ? .axpy : .scatterAxpy, elements: length, weights: 1)
            let perPosition = Double(reductionPerRow) * (1 - zeros.input) * Double(task.busy)
            let chain = Double(outputsPerColumn) * machine.linkCyclesPerPartialSum
            let time = Double(product.N) * max(perPosition, chain)
            let stage = PipelinedStage(index: index, product: product, mask: mask, zeros: zeros, cores: cores,
                                       copiesAtOnce: copiesAtOnce, rounds: rounds, rows: (product.K + reductionPerRow - 1) / reductionPerRow,
                                       columns: (product.M + outputsPerColumn - 1) / outputsPerColumn, reductionPerRow: reductionPerRow,
                                       outputsPerColumn: outputsPerColumn, sramBytesPerCore: bytes)
            if best == nil || time < best!.time { best = (time, stage) }
        }
        guard let chosen = best else {
            throw SimulatorError.doesNotFit(
                "\(product.node): its weights do not fit a \(cores)-core region in pipelined execution (\(config.dataBytesPerCore) data bytes per core)")
        }
        return chosen.stage
    }
}
