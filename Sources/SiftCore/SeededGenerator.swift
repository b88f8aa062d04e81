import Foundation

/// SeededGenerator (Steele, Lea, Flood 2014): a tiny, fast, well-mixed generator. Every
/// random choice of the toolkit (test matrices, benchmark inputs, masks, weights) comes
/// from one of these, seeded explicitly, so masks and
/// weights are identical on every machine and run. The system RNG is never used.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one named tensor: its stream depends only on the global seed and
    /// the name, so adding or removing other layers does not change this tensor.
    public init(seed: UInt64, stream name: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a, stable across runs (unlike Hasher)
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        var mixer = SeededGenerator(seed: seed ^ hash)
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform integer in `0..<bound` without modulo bias (Lemire's method).
    public mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0)
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// Standard normal by Box–Muller (one of the pair; simple beats fast here).
    public mutating func nextNormal() -> Double {
        let u1 = 1 - nextUnit()  // (0, 1]: keeps log finite
        let u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Uniform in [-1, 1) as a Float.
    public mutating func nextSignedUnit() -> Float {
        Float(nextUnit() * 2 - 1)
    }
}
