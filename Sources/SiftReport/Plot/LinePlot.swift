import Foundation

/// A line-and-marker plot rendered to a self-contained SVG: series of (x, y) points,
/// reference lines (an ideal curve, the dense level), axes with ticks, a legend to the
/// right of the plot area (so it never hides data), a title and a subtitle that names
/// the machine. No dependencies: the SVG text is written here.
public struct LinePlot: Sendable {
    public struct Point: Sendable, Equatable {
        public let x: Double
        public let y: Double
        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    public struct Series: Sendable {
        public let name: String
        public let points: [Point]
        public init(name: String, points: [Point]) {
            self.name = name
            self.points = points
        }
    }

    /// A line for comparison, drawn dashed in grey under the data.
    public struct Reference: Sendable {
        public enum Shape: Sendable {
            /// A horizontal line, e.g. the dense network at 1.0.
            case horizontal(Double)
            /// y = f(x) over the x range, e.g. the ideal speedup 1/(1-s).
            case curve(@Sendable (Double) -> Double)
        }
        public let name: String
        public let shape: Shape
        public init(name: String, _ shape: Shape) {
            self.name = name
            self.shape = shape
        }
    }

    public var title: String
    /// Smaller grey line under the title: the machine and the run, so a figure copied
    /// out of the report still says where its numbers come from.
    public var subtitle: String
    public var xAxis: Axis
    public var yAxis: Axis
    public var series: [Series]
    public var references: [Reference]
    public var width: Double = 760
    public var height: Double = 470
    /// Lines reserved for the subtitle (at least), so panels side by side line up.
    public var reservedSubtitleLines = 0
    /// Prefix of the SVG element ids, unique per plot when plots share a document.
    public var id: String = "plot"

    public init(title: String, subtitle: String = "", xAxis: Axis, yAxis: Axis, series: [Series], references: [Reference] = []) {
        self.title = title
        self.subtitle = subtitle
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.series = series
        self.references = references
    }

    /// True when there is at least one point to draw.
    public var hasData: Bool {
        series.contains { $0.points.contains { xAxis.accepts($0.x) && yAxis.accepts($0.y) } }
    }
}

/// Colours and markers, one per series in order: the Okabe–Ito palette, which stays
/// distinguishable for the common forms of colour blindness, paired with distinct marker
/// shapes and dash patterns so the figure also survives a grey-scale printer.
enum PlotStyle {
    static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C6D31"]
    static let markers: [Marker] = [.circle, .square, .triangle, .diamond, .triangleDown, .cross, .circle, .square]
    static let dashes = ["", "", "", "", "", "6 3", "2 2", "8 3 2 3"]
    static let fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"
    static let referenceColour = "#6b6b6b"

    enum Marker { case circle, square, triangle, diamond, triangleDown, cross }

    static func style(_ index: Int) -> (colour: String, marker: Marker, dash: String) {
        let i = index % colours.count
        return (colours[i], markers[i], dashes[i])
    }
}
