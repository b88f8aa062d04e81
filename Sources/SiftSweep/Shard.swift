import Foundation

/// One slice of a sweep: shard `index` of `count` (1-based, `--shard 2/3`), the way
/// Jest and Playwright number shards and SLURM array ids `--array=1-N` count.
///
/// Points are dealt round-robin: shard `i` owns the points whose position in the
/// sweep's canonical order is `i - 1` modulo `count`. The canonical order is model-major,
/// so round-robin spreads each model's expensive points over all shards, and the
/// assignment depends only on the sweep's definition, never on the machine or the clock.
public struct Shard: Hashable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The whole sweep in one piece.
    public static let whole = Shard(uncheckedIndex: 1, count: 1)

    /// More shards than this is surely a typo (and would make file lists unwieldy).
    public static let maxCount = 100_000

    public init(index: Int, count: Int) throws(SweepError) {
        guard count >= 1, count <= Self.maxCount else {
            throw .invalidArgument("shard count \(count) must be between 1 and \(Self.maxCount)")
        }
        guard index >= 1, index <= count else {
            throw .invalidArgument("shard index \(index) must be between 1 and the shard count \(count)")
        }
        self.init(uncheckedIndex: index, count: count)
    }

    private init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `i/n`, e.g. `2/3`.
    public init(parsing text: String) throws(SweepError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let index = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let count = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw .invalidArgument("shard '\(text)' must be i/n with whole numbers, e.g. 2/3 (shard 2 of 3, counted from 1)")
        }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// True when the point at `position` in the canonical order belongs to this shard.
    public func owns(position: Int) -> Bool {
        position >= 0 && position % count == index - 1
    }

    /// The shard that owns the point at `position` in a sweep split `count` ways.
    public static func owner(of position: Int, count: Int) -> Int { position % count + 1 }
}
