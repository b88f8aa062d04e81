import Testing
@testable import SparseKernels

/// Every ISA this CPU can run (forced through the override), each at 1 and 2 threads.
func allExecutionOptions() throws -> [ExecutionOptions] {
    try Machine.supportedISAs.flatMap { isa in try [1, 2].map { try ExecutionOptions(isa: isa, threads: $0) } }
}

/// The epilogues every kernel must fuse: none, each part alone, all together.
func epilogues(rows: Int, columns: Int, seed: UInt64) -> [(name: String, epilogue: Epilogue)] {
    let bias = RandomWeights.dense(rows: 1, columns: rows, seed: seed &+ 11).values
    let residual = RandomWeights.dense(rows: rows, columns: columns, seed: seed &+ 13)
    return [
        ("none", .none),
        ("bias", Epilogue(bias: bias)),
        ("residual", Epilogue(residual: residual)),
        ("relu", Epilogue(relu: true)),
        ("bias+residual+relu", Epilogue(bias: bias, residual: residual, relu: true)),
        ("bias+relu6", Epilogue(bias: bias.map { $0 * 8 }, activation: .relu6)),
        ("bias+residual+gelu", Epilogue(bias: bias, residual: residual, activation: .gelu)),
    ]
}

/// Checks `y` against the double-precision oracle with the tolerance that grows with
/// the reduction length: |err| <= 2·K·eps·sum|w||x| per element.
func expectMatchesReference(_ y: Matrix, w: Matrix, x: Matrix, epilogue: Epilogue,
                            _ context: @autoclosure () -> String,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (expected, magnitude) = try referenceMultiply(w, x, epilogue: epilogue)
    #expect(y.rows == expected.rows && y.columns == expected.columns, "\(context()): shape", sourceLocation: sourceLocation)
    // GELU adds its own float evaluation error (a few ulps of |v|, ActivationTests) and
    // passes the accumulated error on scaled by |gelu'| <= 1.13.
    let activationSlack: Float = epilogue.activation == .gelu ? 1.13 : 1
    let activationUlps: Float = epilogue.activation == .gelu ? 8 : 0
    let scale = (2 * Float(max(w.columns, 1)) * activationSlack + activationUlps) * Float.ulpOfOne
    var worst: (index: Int, error: Float, allowed: Float)? = nil
    for i in expected.values.indices {
        let error = abs(y.values[i] - expected.values[i])
        let allowed = scale * magnitude.values[i] + Float.leastNormalMagnitude
        if !(error <= allowed) { worst = (i, error, allowed); break }
    }
    if let worst {
        Issue.record("\(context()): element (\(worst.index / y.columns), \(worst.index % y.columns)) off by \(worst.error), allowed \(worst.allowed); got \(y.values[worst.index]) expected \(expected.values[worst.index])", sourceLocation: sourceLocation)
    }
}

/// Shapes that cross every tile edge: 1, one tile, one less, one more, multiples, large.
/// M and K are multiples of `rowMultiple` and `kMultiple` so structured formats apply.
func edgeShapes(rowMultiple: Int = 1, kMultiple: Int = 1) -> [(m: Int, k: Int, n: Int)] {
    let base: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 1, 17), (3, 5, 1), (7, 9, 2), (6, 16, 16), (5, 15, 15), (7, 17, 17),
        (6, 32, 64), (13, 33, 63), (12, 64, 65), (25, 100, 129), (48, 96, 33), (64, 128, 256),
        (97, 131, 1), (256, 512, 1), (130, 300, 48),
    ]
    var seen = Set<[Int]>()
    return base.compactMap { m, k, n in
        let shape = [roundUp(m, rowMultiple), roundUp(k, kMultiple), n]
        return seen.insert(shape).inserted ? (shape[0], shape[1], shape[2]) : nil
    }
}

func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

/// Runs `prepared` on every ISA, thread count and epilogue and checks each result.
func checkEveryPath(_ prepared: WeightMatrix, source w: Matrix, n: Int, seed: UInt64, label: String) throws {
    let x = RandomWeights.dense(rows: w.columns, columns: n, seed: seed &+ 5)
    for options in try allExecutionOptions() {
        for (name, epilogue) in epilogues(rows: w.rows, columns: n, seed: seed) {
            let y = try prepared.multiply(x, epilogue: epilogue, options: options)
            try expectMatchesReference(y, w: w, x: x, epilogue: epilogue,
                                       "\(label) \(w.rows)x\(w.columns)x\(n) \(options.isa) t=\(options.threads) epilogue=\(name)")
        }
    }
}
