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
    /// The widest slices (every slice with `uniform` and `aligned` slicing).
    let reductionPerRow: Int
    let outputsPerColumn: Int
    /// Core row r holds reduction `reductionBounds[r]..<reductionBounds[r + 1]`; core column c
    /// outputs `outputBounds[c]..<outputBounds[c + 1]`.
    let reductionBounds: [Int]
    let outputBounds: [Int]
    let slicing: SlicingPolicy
    let sramBytesPerCore: Int
    let accumulatorBuffers: Int

    func reductionSlice(_ row: Int) -> Range<Int> { reductionBounds[row]..<reductionBounds[row + 1] }
    func outputSlice(_ column: Int) -> Range<Int> { outputBounds[column]..<outputBounds[column + 1] }

    var density: Double {
        guard let mask else { return 1 }
        return Double(mask.nonzeros) / Double(max(1, mask.rows * mask.columns))
    }

    var mapping: ProductMapping {
        ProductMapping(copiesAtOnce: copiesAtOnce, rounds: rounds, subregionWidth: columns, subregionHeight: rows, panels: 1,
                       rows: rows, columns: columns, groupsPerPanel: product.N, reductionPerRow: reductionPerRow,
                       positionsPerColumn: outputsPerColumn, weightsPerWavelet: 1, sramBytesPerCore: sramBytesPerCore,
                       bands: 1, slicing: slicing.rawValue, accumulatorBuffers: accumulatorBuffers)
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

    /// The stage's region shape with the smallest estimated per-sample time, cut as
    /// `mapping.slicing` says.
    static func stage(index: Int, product: LoweredProduct, mask: MaskBits?, zeros: ActivationZeros.Product, cores: Int,
                      machine: DataflowMachine) throws -> PipelinedStage {
        let config = machine.config
        let copiesAtOnce = max(1, min(product.groups, cores))
        let rounds = (product.groups + copiesAtOnce - 1) / copiesAtOnce
        let perCopy = max(1, cores / copiesAtOnce)
        let density = mask.map { Double($0.nonzeros) / Double(max(1, $0.rows * $0.columns)) } ?? 1
        let grid = mask != nil ? product.weight.map { StructureGrid.of($0.pattern, transposed: false) } ?? .none : .none
        let aligned = config.slicing == .aligned
        func roundUp(_ value: Int, _ multiple: Int) -> Int { aligned ? (value + multiple - 1) / multiple * multiple : value }
        let core = machine.components.core
        var best: (time: Double, rows: Int, columns: Int, reductionPerRow: Int, outputsPerColumn: Int, bytes: Int)?
        var power = 1
        var candidates: [Int] = []
        while power <= min(product.K, perCopy) {
            candidates.append(power)
            power *= 2
        }
        for rowCount in candidates {
            let columnCount = min(product.M, perCopy / rowCount)
            guard columnCount >= 1 else { continue }
            // With aligned slicing no block or N:M group is cut between two cores.
            let reductionPerRow = roundUp((product.K + rowCount - 1) / rowCount, grid.reduction)
            let outputsPerColumn = roundUp((product.M + columnCount - 1) / columnCount, grid.outRows)
            let bytes = sramBytes(product: product, density: density, sparse: mask != nil, reductionPerRow: reductionPerRow,
                                  outputsPerColumn: outputsPerColumn, machine: machine)
            guard bytes <= config.dataBytesPerCore else { continue }
            let length = max(1, Int((Double(outputsPerColumn) * density).rounded(.up)))
            let task = core.taskCost(mask == nil ? .axpy : .scatterAxpy, elements: length, weights: 1)
            let perPosition = Double(reductionPerRow) * (1 - zeros.input) * Double(task.busy)
            let chain = Double(outputsPerColumn) * machine.linkCyclesPerPartialSum
            let time = Double(product.N) * max(perPosition, chain)
            if best == nil || time < best!.time {
                best = (time, (product.K + reductionPerRow - 1) / reductionPerRow, (product.M + outputsPerColumn - 1) / outputsPerColumn,
                        reductionPerRow, outputsPerColumn, bytes)
            }
        }
        guard let chosen = best else {
            throw SimulatorError.doesNotFit(
                "\(product.node): its weights do not fit a \(cores)-core region in pipelined execution (\(config.dataBytesPerCore) data bytes per core)")
        }
        func uniform(_ count: Int, _ width: Int, _ limit: Int) -> [Int] { (0...count).map { min(limit, $0 * width) } }
        var reductionBounds = uniform(chosen.rows, chosen.reductionPerRow, product.K)
        var outputBounds = uniform(chosen.columns, chosen.outputsPerColumn, product.M)
        var bytes = chosen.bytes
        if config.slicing == .balanced, let mask, chosen.rows * chosen.columns > 1,
           let balanced = balancedBounds(product: product, mask: mask, rows: chosen.rows, columns: chosen.columns,
                                         reductionPerRow: chosen.reductionPerRow, outputsPerColumn: chosen.outputsPerColumn,
                                         machine: machine) {
            (reductionBounds, outputBounds, bytes) = balanced
        }
        func widest(_ bounds: [Int]) -> Int { zip(bounds.dropFirst(), bounds).map { $0 - $1 }.max() ?? 0 }
        return PipelinedStage(index: index, product: product, mask: mask, zeros: zeros, cores: cores, copiesAtOnce: copiesAtOnce,
                              rounds: rounds, rows: chosen.rows, columns: chosen.columns,
                              reductionPerRow: widest(reductionBounds), outputsPerColumn: widest(outputBounds),
                              reductionBounds: reductionBounds, outputBounds: outputBounds, slicing: config.slicing,
                              sramBytesPerCore: bytes, accumulatorBuffers: config.accumulatorBuffers)
    }

    /// Rows cut to equalise the non-zeros of the reduction slices (each column of W summed
    /// over all outputs), columns to equalise those of the output slices, each at most twice
    /// the uniform width; nil when the most loaded core's weights would not fit its SRAM.
    static func balancedBounds(product: LoweredProduct, mask: MaskBits, rows: Int, columns: Int, reductionPerRow: Int,
                               outputsPerColumn: Int, machine: DataflowMachine) -> (reduction: [Int], output: [Int], bytes: Int)? {
        let config = machine.config
        var columnLoads = [Double](repeating: 0, count: product.K)
        var rowLoads = [Double](repeating: 0, count: product.M)
        mask.addColumnCounts(rows: 0..<product.M, to: &columnLoads)
        for row in 0..<product.M { rowLoads[row] = Double(mask.count(row: row, from: 0, to: product.K)) }
        var reduction = Partition.contiguous(columnLoads, parts: rows, maxLength: 2 * reductionPerRow)
        var output = Partition.contiguous(rowLoads, parts: columns, maxLength: 2 * outputsPerColumn)
        while reduction.count < rows + 1 { reduction.append(product.K) }
        while output.count < columns + 1 { output.append(product.M) }
        // The most loaded core's weights, and the SRAM its slices need.
        var heaviest = 0
        for column in 0..<columns {
            for row in 0..<rows {
                var weights = 0
                for output in output[column]..<output[column + 1] {
                    weights += mask.count(row: output, from: reduction[row], to: reduction[row + 1])
                }
                heaviest = max(heaviest, weights)
            }
        }
        let widestReduction = zip(reduction.dropFirst(), reduction).map { $0 - $1 }.max() ?? 0
        let widestOutput = zip(output.dropFirst(), output).map { $0 - $1 }.max() ?? 0
        let density = Double(heaviest) / Double(max(1, widestReduction * widestOutput))
        let bytes = sramBytes(product: product, density: density, sparse: true, reductionPerRow: widestReduction,
                              outputsPerColumn: widestOutput, machine: machine)
        return bytes <= config.dataBytesPerCore ? (reduction, output, bytes) : nil
    }
}
