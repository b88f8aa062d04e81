import Foundation

/// Size limits that keep every count of the toolkit far from `Int` overflow and every
/// allocation within what a workstation can hold. They are checked where sizes are
/// created (network building, weight initialisation, reference execution, masks), so
/// that the arithmetic downstream (accounting, reports, traces) cannot trap.
public enum SizeLimits {
    /// Largest output size, weight count or multiply-add count of a single node (2^50).
    public static let perNode = 1 << 50
    /// Largest total multiply-adds or parameters of a whole network (2^58): the report
    /// multiplies MACs by 6 at most (2 FLOPs per MAC, 3 passes), and 6·2^58 < 2^63.
    public static let perNetwork = 1 << 58
    /// Largest number of float32 values (weights + masks, or activations) the toolkit
    /// allocates: 2^31 floats = 8 GiB.
    public static let floats = 1 << 31

    /// The product of `factors`, or nil when it exceeds `limit` (or overflows `Int`, or a
    /// factor is negative).
    public static func product(_ factors: [Int], limit: Int) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow, value <= limit else { return nil }
            result = value
        }
        return result
    }

    /// Human-readable size in GiB of `floats` float32 values.
    public static func gibibytes(floats: Double) -> String {
        String(format: "%.1f GiB", floats * 4 / Double(1 << 30))
    }
}
