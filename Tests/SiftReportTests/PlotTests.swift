import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import SiftReport

/// True when `text` is well-formed XML (every SVG the report writes must be).
func isWellFormedXML(_ text: String) -> Bool {
    XMLParser(data: Data(text.utf8)).parse()
}

@Suite("plots")
struct PlotTests {
    func samplePlot() -> LinePlot {
        LinePlot(
            title: "Speedup <vs> dense & \"friends\"",
            subtitle: "AMD EPYC · avx512 · 2 threads · measured peak 230 GFLOP/s",
            xAxis: Axis(label: "sparsity", tickStyle: .percent),
            yAxis: Axis(label: "speedup", scale: .log, tickStyle: .times),
            series: [
                LinePlot.Series(name: "unstructured", points: [.init(x: 0.5, y: 1.2), .init(x: 0.9, y: 4), .init(x: 0.75, y: 2)]),
                LinePlot.Series(name: "2:4", points: [.init(x: 0.5, y: 1.6)]),
                LinePlot.Series(name: "bad values", points: [.init(x: 0.5, y: .nan), .init(x: 0.6, y: -1), .init(x: 0.7, y: 0)]),
            ],
            references: [LinePlot.Reference(name: "ideal 1/(1−s)", .curve({ 1 / (1 - $0) })),
                         LinePlot.Reference(name: "dense", .horizontal(1))])
    }

    @Test func svgIsWellFormedAndEscaped() {
        let svg = samplePlot().svg()
        #expect(isWellFormedXML(svg))
        #expect(svg.contains("Speedup &lt;vs&gt; dense &amp; &quot;friends&quot;"))
        #expect(!svg.contains("nan"))
        for name in ["unstructured", "2:4", "ideal 1/(1−s)", "dense"] { #expect(svg.contains(">\(name)</text>")) }
        // Three unstructured markers and one 2:4 marker (markers carry the white outline).
        #expect(svg.components(separatedBy: "stroke=\"#ffffff\"").count - 1 >= 4 + 2)
    }

    @Test func emptyPlotSaysSo() {
        let plot = LinePlot(title: "t", xAxis: Axis(label: "x"), yAxis: Axis(label: "y", scale: .log), series: [])
        let svg = plot.svg()
        #expect(isWellFormedXML(svg))
        #expect(svg.contains("no data"))
        #expect(!plot.hasData)
    }

    @Test func logTicksCoverTheRangeWithOne() {
        let axis = Axis(label: "", scale: .log)
        let ticks = axis.ticks(in: 0.8...25)
        #expect(ticks.contains(1))
        #expect(ticks.contains(10))
        #expect(ticks.allSatisfy { $0 >= 0.8 && $0 <= 25 })
        #expect(ticks.count >= 3 && ticks.count <= 10)
        // Less than a decade: plain numbers, still inside.
        let narrow = axis.ticks(in: 0.9...1.6)
        #expect(narrow.count >= 3)
        #expect(narrow.allSatisfy { $0 >= 0.9 && $0 <= 1.6 })
    }

    @Test func linearTicksAreNiceNumbers() {
        let ticks = Axis.linearTicks(0.22...0.98, target: 7)
        #expect(ticks.first! >= 0.22 && ticks.last! <= 0.98)
        #expect(ticks.contains(0.5))
        #expect(ticks.map { Axis.shortNumber($0) }.allSatisfy { $0.count <= 4 })
        #expect(Axis.niceStep(0.13) == 0.1)
        #expect(Axis.niceStep(23) == 25)
    }

    @Test func tickLabels() {
        #expect(Axis(label: "", tickStyle: .percent).label(forTick: 0.5) == "50%")
        #expect(Axis(label: "", tickStyle: .percent).label(forTick: 0.9375) == "93.8%")
        #expect(Axis(label: "", tickStyle: .times).label(forTick: 2) == "2×")
        #expect(Axis.shortNumber(0.30000000000000004) == "0.3")
        #expect(Axis.shortNumber(12.5) == "12.5")
        #expect(Axis.shortNumber(-0.0) == "0")
    }

    @Test func rangesIncludeTheDataAndTheReferenceLevel() {
        let renderer = SVGRenderer(plot: samplePlot())
        let (x, y) = renderer.ranges()
        #expect(x.contains(0.5) && x.contains(0.9))
        #expect(x.upperBound < 1)  // the ideal's pole is never on the axis
        #expect(y.contains(1) && y.contains(4) && y.contains(10))  // the ideal at s = 0.9
    }

    @Test func longSubtitlesWrap() {
        let renderer = SVGRenderer(plot: samplePlot())
        let lines = renderer.wrap(Array(repeating: "a fairly long piece of text", count: 8).joined(separator: " · "), width: 600, size: 12)
        #expect(lines.count >= 2 && lines.count <= 3)
        #expect(lines.allSatisfy { $0.count <= Int(600 / (12 * 0.6)) })
    }
}

@Suite("tables")
struct TableTests {
    func table() -> ReportTable {
        var table = ReportTable(columns: [.init("name", .left), .init("value")])
        table.append(["a|b", "1.5"])
        table.append(["long name", "12", "extra cell is cut"])
        table.append(["short row"])
        return table
    }

    @Test func markdownEscapesPipesAndAligns() {
        let markdown = table().markdown()
        let lines = markdown.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines[1].contains("-:"))
        #expect(markdown.contains("a\\|b"))
        #expect(Set(lines.map(\.count)).count == 1)  // every line the same width
        #expect(!markdown.contains("extra cell"))
    }

    @Test func textAndHTML() {
        let text = table().text()
        #expect(text.split(separator: "\n")[1].allSatisfy { $0 == "-" })
        let html = table().html()
        #expect(html.contains("<td class=\"txt\">a|b</td><td class=\"num\">1.5</td>"))
        #expect(isWellFormedXML(html))
    }

    @Test func formats() {
        #expect(Format.ratio(1.234) == "1.23×")
        #expect(Format.ratio(12.34) == "12.3×")
        #expect(Format.ratio(.nan) == "–")
        #expect(Format.percent(0.935) == "93.5%")
        #expect(Format.bytes(1536) == "1.5 KiB")
        #expect(Format.bytes(12) == "12 B")
        #expect(Format.significant(0.01234) == "0.0123")
    }
}

@Suite("machine description")
struct MachineDescriptionTests {
    @Test func parsesCPUInfo() {
        let text = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        cpu family\t: 25
        model\t\t: 17
        model name\t: AMD EPYC   9R14 96-Core Processor
        stepping\t: 1

        processor\t: 1
        model name\t: Something else
        """
        let info = CPUInfo.parse(text)
        #expect(info.model == "AMD EPYC 9R14 96-Core Processor")
        #expect(info.signature == "AuthenticAMD family/model/stepping 25/17/1")
        #expect(CPUInfo.parse("").model == "unknown CPU")
    }

    @Test func vagueNamesGetTheirNumbers() {
        var machine = MachineDescription(
            cpuModel: "AMD EPYC", cpuSignature: "AuthenticAMD family/model/stepping 25/17/1", isa: "avx512", supportedISAs: [],
            threads: 2, cores: 2, hardwareThreads: 2, l1dBytes: 0, l2Bytes: 0, l3Bytes: 0, peakGFLOPS: 230, dramReadGBs: 35,
            openMP: true, hostname: "h", operatingSystem: "os", build: "release", loadAverageStart: 0.1, loadAverageEnd: 3.5)
        #expect(machine.cpuName == "AMD EPYC (family 25, model 17)")
        #expect(machine.shortLine.hasPrefix("AMD EPYC (family 25, model 17) · avx512 · 2 threads"))
        #expect(machine.wasShared)
        machine.loadAverageEnd = 0.5
        #expect(!machine.wasShared)
        machine.cpuModel = "Intel(R) Xeon(R) Platinum 8488C"
        #expect(machine.cpuName == machine.cpuModel)
    }
}
