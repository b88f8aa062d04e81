/// Plots side by side in one SVG, like the paper's two-panel Figure 5 (CPU inference on
/// the left, accelerator training on the right), with a title over both. Each panel is a
/// nested <svg> of its own, so the single-plot renderer lays it out unchanged.
public struct PanelFigure: Sendable {
    public var title: String
    public var panels: [LinePlot]

    public init(title: String, panels: [LinePlot]) {
        self.title = title
        self.panels = panels
    }

    public func svg() -> String {
        let titleHeight = 34.0
        let width = panels.reduce(0) { $0 + $1.width }
        let height = (panels.map(\.height).max() ?? 0) + titleHeight
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="\(PlotStyle.fontFamily)" role="img">
        <title>\(escape(title))</title>
        <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#ffffff"/>
        <text x="12" y="24" font-size="19" font-weight="bold" fill="#111">\(escape(title))</text>

        """
        var x = 0.0
        // The same plot-area top in every panel, whatever their subtitles' lengths.
        let lines = panels.map { SVGRenderer(plot: $0).wrap($0.subtitle, width: $0.width - 24, size: SVGRenderer.subtitleSize).count }.max() ?? 0
        for (index, panel) in panels.enumerated() {
            var plot = panel
            plot.reservedSubtitleLines = lines
            plot.id = "panel\(index)"
            // The panel's own document, placed by x/y (its xmlns attribute is harmless).
            let inner = plot.svg().replacingOccurrences(of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ", with: "<svg x=\"\(Int(x))\" y=\"\(Int(titleHeight))\" ")
            out += inner
            x += panel.width
        }
        return out + "</svg>\n"
    }
}
