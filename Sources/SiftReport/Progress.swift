import Foundation

/// Progress on stderr, so stdout keeps only the summary: one line per step with its
/// number, what it is, how long it took, the time elapsed and an estimate of what is left
/// (from the average step so far; rough, and said to be).
public final class ProgressReporter: @unchecked Sendable {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var stepStart: ContinuousClock.Instant
    private let quiet: Bool
    private let write: (String) -> Void

    public init(quiet: Bool = false, write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.quiet = quiet
        self.write = write
        start = clock.now
        stepStart = start
    }

    /// Seconds since the reporter was made.
    public var elapsed: Double { Self.seconds(clock.now - start) }

    /// A heading for a phase ("CPU runtime sweep: 13 points").
    public func phase(_ text: String) {
        guard !quiet else { return }
        write("== \(text) [\(Self.clockText(elapsed))]\n")
    }

    /// Before step `done + 1` of `total` starts.
    public func step(_ done: Int, of total: Int, _ text: String) {
        stepStart = clock.now
        guard !quiet else { return }
        let width = String(total).count
        let number = String(repeating: " ", count: max(0, width - String(done + 1).count)) + String(done + 1)
        write("[\(number)/\(total)] \(text) ...\n")
    }

    /// After a step: what it found, and how long it took.
    public func finished(_ text: String) {
        guard !quiet else { return }
        let took = Self.seconds(clock.now - stepStart)
        write("        \(text) (\(String(format: "%.1f", took)) s, elapsed \(Self.clockText(elapsed)))\n")
    }

    public func note(_ text: String) {
        guard !quiet else { return }
        write("note: \(text)\n")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func clockText(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return String(format: "%d:%02d", whole / 60, whole % 60)
    }
}
