/// Random matrices with an exact sparsity in a given pattern, for tests and benchmarks.
/// The zeros come from the toolkit's one mask sampler (`MaskSampler`), so a test matrix
/// has exactly the non-zero count the accounting gives for its shape.
public enum RandomWeights {
    /// A value that is never zero, so the mask alone decides where the zeros are.
    static func nonzeroValue(_ generator: inout SeededGenerator) -> Float {
        let magnitude = 0.05 + 0.95 * abs(generator.nextSignedUnit())
        return generator.next() & 1 == 0 ? magnitude : -magnitude
    }

    /// A dense random matrix, entries uniform in [-1, 1).
    public static func dense(rows: Int, columns: Int, seed: UInt64) -> Matrix {
        var generator = SeededGenerator(seed: seed)
        var m = Matrix(zeros: rows, columns)
        for i in m.values.indices { m.values[i] = generator.nextSignedUnit() }
        return m
    }

    /// A matrix whose non-zeros are placed by `MaskSampler.mask` (exactly
    /// `pattern.nonzeroCount(rows:reduction:sparsity:)` of them) and are never zero
    /// themselves: at `s = 0` it has no zeros at all. N:M needs `s` equal to the pattern's
    /// own sparsity `1 - N/M` (or 0).
    public static func matrix(rows: Int, columns: Int, pattern: SparsityPattern, sparsity: Double,
                              seed: UInt64) throws(SiftCoreError) -> Matrix {
        try Sparsity.validate(sparsity)
        guard rows >= 1, columns >= 1 else { throw .shapeMismatch("matrix must be at least 1x1, got \(rows)x\(columns)") }
        var generator = SeededGenerator(seed: seed)
        let mask = try MaskSampler.mask(rows: rows, reduction: columns, sparsity: sparsity, pattern: pattern, generator: &generator)
        var m = Matrix(zeros: rows, columns)
        for index in mask.indices where mask[index] == 1 { m.values[index] = nonzeroValue(&generator) }
        return m
    }
}
