import Foundation

extension LinePlot {
    /// The plot as a standalone SVG document.
    public func svg() -> String {
        SVGRenderer(plot: self).render()
    }
}

/// Lays out and writes one `LinePlot`. Text widths are estimated from the font size
/// (SVG cannot measure text), generously, so labels do not collide.
struct SVGRenderer {
    let plot: LinePlot

    // Font sizes in px.
    static let titleSize = 17.0, subtitleSize = 12.0, tickSize = 12.5, labelSize = 14.0, legendSize = 13.0

    /// An over-estimate of the width of `text` at `size` px in a sans-serif font.
    static func textWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }

    func render() -> String {
        let width = plot.width, height = plot.height
        let legendEntries = plot.series.map(\.name) + plot.references.map(\.name)
        let legendTextWidth = legendEntries.map { Self.textWidth($0, size: Self.legendSize) }.max() ?? 0
        let legendWidth = min(max(legendTextWidth + 52, 130), width * 0.38)
        let subtitleLines = wrap(plot.subtitle, width: width - 24, size: Self.subtitleSize)
        let top = 38 + Double(max(subtitleLines.count, plot.reservedSubtitleLines)) * 16 + 14
        let left = 80.0, bottom = height - 56
        let right = width - legendWidth - 12
        let area = (left: left, right: right, top: top, bottom: bottom)

        let (xRange, yRange) = ranges()
        let xTicks = plot.xAxis.ticks(in: xRange, target: 6)
        let yTicks = plot.yAxis.ticks(in: yRange, target: 7)
        func px(_ x: Double) -> Double { area.left + plot.xAxis.fraction(x, in: xRange) * (area.right - area.left) }
        func py(_ y: Double) -> Double { area.bottom - plot.yAxis.fraction(y, in: yRange) * (area.bottom - area.top) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="\(PlotStyle.fontFamily)" role="img">
        <title>\(escape(plot.title))</title>
        <desc>\(escape(plot.subtitle))</desc>
        <defs><clipPath id="\(plot.id)-area"><rect x="\(f(area.left))" y="\(f(area.top))" width="\(f(area.right - area.left))" height="\(f(area.bottom - area.top))"/></clipPath></defs>
        <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="#ffffff"/>

        """
        // Title (shrunk to fit) and subtitle lines.
        // Bold text runs wider than the 0.6 em estimate of regular text.
        let titleSize = min(Self.titleSize, (width - 24) / max(1, Double(plot.title.count) * 0.66))
        svg += "<text x=\"12\" y=\"26\" font-size=\"\(f(titleSize))\" font-weight=\"bold\" fill=\"#111\">\(escape(plot.title))</text>\n"
        for (index, line) in subtitleLines.enumerated() {
            svg += "<text x=\"12\" y=\"\(f(46 + Double(index) * 16))\" font-size=\"\(f(Self.subtitleSize))\" fill=\"#555\">\(escape(line))</text>\n"
        }

        // Grid and ticks.
        svg += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n"
        for tick in xTicks { svg += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(area.top))\" x2=\"\(f(px(tick)))\" y2=\"\(f(area.bottom))\"/>\n" }
        for tick in yTicks { svg += "<line x1=\"\(f(area.left))\" y1=\"\(f(py(tick)))\" x2=\"\(f(area.right))\" y2=\"\(f(py(tick)))\"/>\n" }
        svg += "</g>\n"
        svg += "<rect x=\"\(f(area.left))\" y=\"\(f(area.top))\" width=\"\(f(area.right - area.left))\" height=\"\(f(area.bottom - area.top))\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n"
        svg += "<g font-size=\"\(f(Self.tickSize))\" fill=\"#333\">\n"
        for tick in xTicks {
            svg += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(area.bottom))\" x2=\"\(f(px(tick)))\" y2=\"\(f(area.bottom + 5))\" stroke=\"#444\"/>"
            svg += "<text x=\"\(f(px(tick)))\" y=\"\(f(area.bottom + 20))\" text-anchor=\"middle\">\(escape(plot.xAxis.label(forTick: tick)))</text>\n"
        }
        for tick in yTicks {
            svg += "<line x1=\"\(f(area.left - 5))\" y1=\"\(f(py(tick)))\" x2=\"\(f(area.left))\" y2=\"\(f(py(tick)))\" stroke=\"#444\"/>"
            svg += "<text x=\"\(f(area.left - 9))\" y=\"\(f(py(tick) + 4.5))\" text-anchor=\"end\">\(escape(plot.yAxis.label(forTick: tick)))</text>\n"
        }
        svg += "</g>\n"
        // Axis labels.
        svg += "<text x=\"\(f((area.left + area.right) / 2))\" y=\"\(f(height - 14))\" font-size=\"\(f(Self.labelSize))\" text-anchor=\"middle\" fill=\"#111\">\(escape(plot.xAxis.label))</text>\n"
        let yLabelX = 20.0, yLabelY = (area.top + area.bottom) / 2
        svg += "<text x=\"\(f(yLabelX))\" y=\"\(f(yLabelY))\" font-size=\"\(f(Self.labelSize))\" text-anchor=\"middle\" fill=\"#111\" transform=\"rotate(-90 \(f(yLabelX)) \(f(yLabelY)))\">\(escape(plot.yAxis.label))</text>\n"

        // Reference lines under the data.
        svg += "<g clip-path=\"url(#\(plot.id)-area)\" fill=\"none\" stroke=\"\(PlotStyle.referenceColour)\" stroke-width=\"1.6\">\n"
        for (index, reference) in plot.references.enumerated() {
            let dash = index % 2 == 0 ? "7 5" : "2 4"
            switch reference.shape {
            case .horizontal(let y) where plot.yAxis.accepts(y):
                svg += "<line x1=\"\(f(area.left))\" y1=\"\(f(py(y)))\" x2=\"\(f(area.right))\" y2=\"\(f(py(y)))\" stroke-dasharray=\"\(dash)\"/>\n"
            case .horizontal:
                continue
            case .curve(let function):
                let samples = (0...240).map { xRange.lowerBound + (xRange.upperBound - xRange.lowerBound) * Double($0) / 240 }
                let points = samples.compactMap { x -> String? in
                    let y = function(x)
                    guard plot.xAxis.accepts(x), plot.yAxis.accepts(y) else { return nil }
                    // Clamp far outside values so the path stays numerically sane.
                    let yPixel = min(max(py(y), area.top - 1000), area.bottom + 1000)
                    return "\(f(px(x))),\(f(yPixel))"
                }
                if points.count > 1 {
                    svg += "<polyline points=\"\(points.joined(separator: " "))\" stroke-dasharray=\"\(dash)\"/>\n"
                }
            }
        }
        svg += "</g>\n"

        // Series: a line through the points in x order, then markers on top.
        svg += "<g clip-path=\"url(#\(plot.id)-area)\">\n"
        for (index, series) in plot.series.enumerated() {
            let style = PlotStyle.style(index)
            let points = series.points
                .filter { plot.xAxis.accepts($0.x) && plot.yAxis.accepts($0.y) }
                .sorted { $0.x < $1.x }
            if points.count > 1 {
                let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                let dash = style.dash.isEmpty ? "" : " stroke-dasharray=\"\(style.dash)\""
                svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(style.colour)\" stroke-width=\"2.2\" stroke-linejoin=\"round\"\(dash)/>\n"
            }
            for point in points {
                svg += marker(style.marker, x: px(point.x), y: py(point.y), colour: style.colour, size: 5)
                svg += "\n"
            }
        }
        svg += "</g>\n"
        if !plot.hasData {
            svg += "<text x=\"\(f((area.left + area.right) / 2))\" y=\"\(f((area.top + area.bottom) / 2))\" font-size=\"15\" text-anchor=\"middle\" fill=\"#999\">no data</text>\n"
        }

        // Legend, right of the plot area.
        var y = area.top + 10
        let x = area.right + 16
        svg += "<g font-size=\"\(f(Self.legendSize))\" fill=\"#111\">\n"
        for (index, series) in plot.series.enumerated() {
            let style = PlotStyle.style(index)
            let dash = style.dash.isEmpty ? "" : " stroke-dasharray=\"\(style.dash)\""
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 30))\" y2=\"\(f(y))\" stroke=\"\(style.colour)\" stroke-width=\"2.2\"\(dash)/>"
            svg += marker(style.marker, x: x + 15, y: y, colour: style.colour, size: 5)
            svg += "<text x=\"\(f(x + 38))\" y=\"\(f(y + 4.5))\">\(escape(series.name))</text>\n"
            y += 22
        }
        for (index, reference) in plot.references.enumerated() {
            let dash = index % 2 == 0 ? "7 5" : "2 4"
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 30))\" y2=\"\(f(y))\" stroke=\"\(PlotStyle.referenceColour)\" stroke-width=\"1.6\" stroke-dasharray=\"\(dash)\"/>"
            svg += "<text x=\"\(f(x + 38))\" y=\"\(f(y + 4.5))\" fill=\"#444\">\(escape(reference.name))</text>\n"
            y += 22
        }
        svg += "</g>\n</svg>\n"
        return svg
    }

    /// The x and y ranges: fixed ones as given, else fitted to the data, with horizontal
    /// references included in y and curves included over the data's x range.
    func ranges() -> (ClosedRange<Double>, ClosedRange<Double>) {
        let points = plot.series.flatMap(\.points).filter { plot.xAxis.accepts($0.x) && plot.yAxis.accepts($0.y) }
        var xs = points.map(\.x)
        if xs.isEmpty { xs = plot.xAxis.scale == .log ? [1, 10] : [0, 1] }
        let xRange = plot.xAxis.paddedRange(low: xs.min()!, high: xs.max()!)
        var ys = points.map(\.y)
        for reference in plot.references {
            switch reference.shape {
            case .horizontal(let y) where plot.yAxis.accepts(y):
                ys.append(y)
            case .horizontal:
                break
            case .curve(let function):
                // The curve counts over the data's own x span (not the padding), so an ideal
                // that shoots up near s = 1 does not flatten everything else.
                let low = xs.min()!, high = xs.max()!
                for step in 0...20 {
                    let y = function(low + (high - low) * Double(step) / 20)
                    if plot.yAxis.accepts(y) { ys.append(y) }
                }
            }
        }
        if ys.isEmpty { ys = plot.yAxis.scale == .log ? [1, 10] : [0, 1] }
        let yRange = plot.yAxis.paddedRange(low: ys.min()!, high: ys.max()!)
        return (xRange, yRange)
    }

    func marker(_ kind: PlotStyle.Marker, x: Double, y: Double, colour: String, size r: Double) -> String {
        let outline = "stroke=\"#ffffff\" stroke-width=\"1.2\""
        switch kind {
        case .circle:
            return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(r))\" fill=\"\(colour)\" \(outline)/>"
        case .square:
            return "<rect x=\"\(f(x - r * 0.9))\" y=\"\(f(y - r * 0.9))\" width=\"\(f(r * 1.8))\" height=\"\(f(r * 1.8))\" fill=\"\(colour)\" \(outline)/>"
        case .triangle:
            return "<polygon points=\"\(f(x)),\(f(y - r * 1.15)) \(f(x - r * 1.1)),\(f(y + r * 0.8)) \(f(x + r * 1.1)),\(f(y + r * 0.8))\" fill=\"\(colour)\" \(outline)/>"
        case .triangleDown:
            return "<polygon points=\"\(f(x)),\(f(y + r * 1.15)) \(f(x - r * 1.1)),\(f(y - r * 0.8)) \(f(x + r * 1.1)),\(f(y - r * 0.8))\" fill=\"\(colour)\" \(outline)/>"
        case .diamond:
            return "<polygon points=\"\(f(x)),\(f(y - r * 1.25)) \(f(x + r * 1.05)),\(f(y)) \(f(x)),\(f(y + r * 1.25)) \(f(x - r * 1.05)),\(f(y))\" fill=\"\(colour)\" \(outline)/>"
        case .cross:
            let d = r * 0.9
            return "<path d=\"M\(f(x - d)),\(f(y - d)) L\(f(x + d)),\(f(y + d)) M\(f(x - d)),\(f(y + d)) L\(f(x + d)),\(f(y - d))\" stroke=\"\(colour)\" stroke-width=\"2.4\"/>"
        }
    }

    /// Splits `text` at " · " separators (then spaces) into lines that fit `width`.
    func wrap(_ text: String, width: Double, size: Double) -> [String] {
        guard !text.isEmpty else { return [] }
        let maxCharacters = max(10, Int(width / (size * 0.6)))
        var lines: [String] = []
        var current = ""
        let pieces = text.components(separatedBy: " · ")
        for piece in pieces {
            let candidate = current.isEmpty ? piece : current + " · " + piece
            if candidate.count <= maxCharacters || current.isEmpty {
                current = candidate
            } else {
                lines.append(current)
                current = piece
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines.prefix(3).map { $0.count > maxCharacters ? String($0.prefix(maxCharacters - 1)) + "…" : $0 }
    }

    /// Numbers in SVG: two decimals at most, no exponent.
    func f(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}

/// Escapes text for XML and HTML content and attribute values.
public func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
