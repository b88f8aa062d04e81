import Foundation

/// One axis of a plot: its label, its scale, and how its tick labels read.
public struct Axis: Sendable {
    public enum Scale: Sendable, Equatable {
        case linear
        /// Logarithmic; ratios (speedups, relative times) read best this way, since 2x
        /// faster and 2x slower sit at equal distances from 1.
        case log
    }

    /// How tick values are written.
    public enum TickStyle: Sendable, Equatable {
        /// `0.5`, `1`, `20`.
        case plain
        /// `50%` for 0.5.
        case percent
        /// `2×` for 2.
        case times
    }

    public var label: String
    public var scale: Scale
    public var tickStyle: TickStyle
    /// A fixed range; nil fits the data (and the reference lines).
    public var range: ClosedRange<Double>?

    public init(label: String, scale: Scale = .linear, tickStyle: TickStyle = .plain, range: ClosedRange<Double>? = nil) {
        self.label = label
        self.scale = scale
        self.tickStyle = tickStyle
        self.range = range
    }

    /// Where `value` falls between `range`'s ends, 0 to 1 (log or linear).
    func fraction(_ value: Double, in range: ClosedRange<Double>) -> Double {
        switch scale {
        case .linear:
            return (value - range.lowerBound) / (range.upperBound - range.lowerBound)
        case .log:
            return (log10(value) - log10(range.lowerBound)) / (log10(range.upperBound) - log10(range.lowerBound))
        }
    }

    /// A value this axis can place (log axes need positive numbers).
    func accepts(_ value: Double) -> Bool {
        value.isFinite && (scale == .linear || value > 0)
    }

    func label(forTick value: Double) -> String {
        switch tickStyle {
        case .plain: Self.shortNumber(value)
        case .percent: Self.shortNumber(value * 100) + "%"
        case .times: Self.shortNumber(value) + "×"
        }
    }

    /// The shortest decimal that shows `value` to 3 significant digits: `0.5`, `12.5`, `2`.
    static func shortNumber(_ value: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        let digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    // MARK: range and ticks

    /// The range shown for data spanning `low...high`: a little room on both sides so
    /// markers are not cut by the frame, then widened to whole ticks on a linear axis.
    func paddedRange(low: Double, high: Double) -> ClosedRange<Double> {
        if let range { return range }
        switch scale {
        case .linear:
            var (a, b) = (low, high)
            if a == b { (a, b) = (a - max(abs(a) * 0.1, 0.5), b + max(abs(b) * 0.1, 0.5)) }
            // A margin of 5% of the span on each side, not rounded out to whole ticks:
            // rounding would stretch a sparsity axis from 0.95 to 1.0, where 1/(1-s) is infinite.
            let pad = (b - a) * 0.05
            return (a - pad)...(b + pad)
        case .log:
            var (a, b) = (low, high)
            if a == b { (a, b) = (a / 1.5, b * 1.5) }
            let pad = pow(b / a, 0.06)
            return (a / pad)...(b * pad)
        }
    }

    /// Tick positions inside `range`, about `target` of them.
    func ticks(in range: ClosedRange<Double>, target: Int = 6) -> [Double] {
        switch scale {
        case .linear:
            return Self.linearTicks(range, target: target)
        case .log:
            let decades = log10(range.upperBound / range.lowerBound)
            if decades < 0.9 {
                // Less than a decade: plain nice numbers read better than 1-2-5.
                let ticks = Self.linearTicks(range, target: target)
                return ticks.filter { $0 > 0 }
            }
            return Self.logTicks(range, target: target)
        }
    }

    /// 1, 2, 2.5 or 5 times a power of ten, the step nearest `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let power = pow(10, floor(log10(rough)))
        let scaled = rough / power
        let nice: Double = scaled < 1.5 ? 1 : scaled < 2.25 ? 2 : scaled < 3.5 ? 2.5 : scaled < 7.5 ? 5 : 10
        return nice * power
    }

    static func linearTicks(_ range: ClosedRange<Double>, target: Int) -> [Double] {
        let step = niceStep((range.upperBound - range.lowerBound) / Double(max(target - 1, 1)))
        var ticks: [Double] = []
        var value = ceil(range.lowerBound / step - 1e-9) * step
        while value <= range.upperBound + step * 1e-9, ticks.count < 100 {
            // Snap away the binary noise of repeated addition (0.30000000000000004).
            ticks.append((value / step).rounded() * step)
            value += step
        }
        return ticks
    }

    /// Powers of ten, with 2 and 5 (or 2, 3, 5) between them when there is room.
    static func logTicks(_ range: ClosedRange<Double>, target: Int) -> [Double] {
        let decades = log10(range.upperBound / range.lowerBound)
        let multipliers: [Double] = decades <= 1.5 ? [1, 1.5, 2, 3, 5, 7] : decades <= 3 ? [1, 2, 5] : [1]
        var ticks: [Double] = []
        var power = pow(10, floor(log10(range.lowerBound)))
        while power <= range.upperBound, ticks.count < 100 {
            for m in multipliers {
                let value = m * power
                if value >= range.lowerBound * (1 - 1e-9), value <= range.upperBound * (1 + 1e-9) { ticks.append(value) }
            }
            power *= 10
        }
        // Too many for the space: keep every other one, always keeping 1 if present.
        while ticks.count > target + 3 {
            ticks = ticks.enumerated().filter { $0.offset % 2 == 0 || $0.element == 1 }.map(\.element)
        }
        return ticks
    }
}
