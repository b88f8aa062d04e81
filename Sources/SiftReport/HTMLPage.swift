import Foundation

/// `index.html`: every figure and table of the report on one page, with the machine and
/// the simulator configuration they come from. Static HTML and CSS, no scripts; the
/// figures are the SVG files beside it.
struct HTMLPage {
    let renderer: ReportRenderer
    let sections: [ReportRenderer.Section]

    func render() -> String {
        let manifest = renderer.manifest
        var body = ""
        body += "<header>\n<h1>sift report: what Sparse Iso-FLOP Transformations cost in wall-clock time</h1>\n"
        body += "<p class=\"meta\">Plan <b>\(escape(manifest.plan.name))</b> · "
        body += manifest.runs.map { run in
            "shard \(escape(run.shard)) started \(escape(run.started)), \(Format.fixed(run.seconds, 0)) s on \(escape(run.machine.hostname))"
        }.joined(separator: " · ")
        body += "<br><code>\(escape(manifest.runs.first?.command ?? ""))</code></p>\n</header>\n"

        body += warnings()
        if let headline = renderer.headline() {
            body += "<section>\n<figure class=\"wide\"><a href=\"\(headline.file)\"><img src=\"\(headline.file)\" alt=\"\(escape(headline.figure.title))\"></a>"
            body += "<figcaption>\(escape(headline.caption))</figcaption></figure>\n</section>\n"
        }
        body += howToRead()
        body += summary()

        for section in sections {
            body += "<section>\n<h2 id=\"\(section.sweep.rawValue)\">\(escape(section.sweep.title))</h2>\n"
            body += "<div class=\"figures\">\n"
            for figure in section.figures {
                body += "<figure><a href=\"\(escape(figure.file))\"><img src=\"\(escape(figure.file))\" alt=\"\(escape(figure.plot.title))\" width=\"\(Int(figure.plot.width))\" height=\"\(Int(figure.plot.height))\"></a>"
                body += "<figcaption>\(escape(figure.caption))</figcaption></figure>\n"
            }
            body += "</div>\n"
            for note in section.notes { body += "<p class=\"note\">\(inlineCode(note))</p>\n" }
            let csv = section.sweep.fileName
            let markdown = section.sweep.rawValue + ".md"
            body += "<details><summary>Table: \(section.table.rows.count) rows (also as <a href=\"\(csv)\">CSV</a>, <a href=\"\(markdown)\">Markdown</a>)</summary>\n"
            body += section.table.html()
            body += "</details>\n</section>\n"
        }

        body += machineSection()
        body += acceleratorSection()
        body += "<footer>Every CPU number on this page was measured in the run(s) named above, on the machine(s) named beside each figure; every accelerator number was simulated in the same run(s) with the configuration shown. Speedups and relative times are against this project's own dense kernel or network, same shape, ISA and threads, measured beside them. Nothing is copied from a paper or an earlier run.</footer>\n"

        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>sift report (\(escape(manifest.plan.name)))</title>
        <style>
        \(Self.css)
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    static let css = """
    body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1a1a1a; margin: 0 auto; padding: 0 24px 40px; max-width: 1640px; line-height: 1.45; background: #fff; }
    h1 { font-size: 24px; margin: 22px 0 6px; }
    h2 { font-size: 20px; margin: 34px 0 10px; border-bottom: 2px solid #ddd; padding-bottom: 4px; }
    h3 { font-size: 16px; margin: 20px 0 6px; }
    .meta { color: #555; font-size: 14px; margin: 0 0 12px; }
    code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; background: #f3f3f3; padding: 1px 4px; border-radius: 3px; }
    .warning { background: #fff4e0; border-left: 4px solid #e69f00; padding: 8px 14px; margin: 10px 0; font-size: 14px; }
    .read { background: #f4f8fc; border-left: 4px solid #0072b2; padding: 8px 14px; margin: 10px 0; font-size: 14px; }
    .read p { margin: 6px 0; }
    .figures { display: flex; flex-wrap: wrap; gap: 18px; }
    figure { margin: 0; flex: 0 1 760px; max-width: 100%; }
    figure img { width: 100%; height: auto; border: 1px solid #e5e5e5; }
    figure.wide { flex-basis: 1400px; max-width: 1400px; margin-top: 8px; }
    figcaption { font-size: 13px; color: #444; margin-top: 4px; }
    .note { font-size: 13px; color: #444; margin: 6px 0; }
    details { margin: 10px 0; }
    summary { cursor: pointer; font-size: 14px; color: #0b5394; }
    table { border-collapse: collapse; font-size: 13px; margin: 8px 0 14px; }
    th, td { padding: 3px 9px; border-bottom: 1px solid #e5e5e5; }
    th { background: #f2f2f2; text-align: left; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    td.txt { text-align: left; }
    .kv td:first-child { color: #555; padding-right: 18px; }
    footer { margin-top: 40px; font-size: 13px; color: #555; border-top: 1px solid #ddd; padding-top: 10px; }
    """

    func warnings() -> String {
        let manifest = renderer.manifest
        var items: [String] = []
        for missing in manifest.missing {
            items.append("<b>\(escape(missing.what))</b> is not in this report: \(escape(missing.reason)).")
        }
        for warning in renderer.driftWarnings() { items.append(escape(warning)) }
        for run in manifest.runs where run.machine.wasShared {
            items.append("The machine was busy during shard \(escape(run.shard)) (load average \(Format.fixed(run.machine.loadAverageStart, 1)) → \(Format.fixed(run.machine.loadAverageEnd, 1)) on \(run.machine.cores) cores): its timings are noisy. Ratios measured side by side are more robust than absolute times.")
        }
        for run in manifest.runs where run.machine.build != "release" {
            items.append("Shard \(escape(run.shard)) ran a \(escape(run.machine.build)) build: its timings include unoptimised Swift. Use <code>swift build -c release</code> (as <code>make report</code> does).")
        }
        if manifest.runs.count > 1, manifest.machines.count > 1 {
            items.append("The shards ran on \(manifest.machines.count) different machines; each ratio was measured within one machine (a shard measures the dense baselines its points need), but absolute times from different machines are not comparable.")
        }
        return items.map { "<div class=\"warning\">\($0)</div>\n" }.joined()
    }

    func howToRead() -> String {
        """
        <div class="read">
        <p><b>How to read this report.</b> Each Sparse-IFT member (Sparse Wide, Parallel, Factorized, Doped) replaces the dense layers with sparse ones of the same FLOPs. On hardware that turns every skipped zero into saved time, each would cost exactly what the dense network costs: the dashed line at 1× in the network figures. The CPU figures show the latency our runtime measured, relative to the dense network measured in the same run; the accelerator figures show the training-step time the simulator computed, relative to the simulated dense network. Above 1× a member costs more than its FLOPs say; the tables give the absolute numbers.</p>
        <p>The single-product figures show where the whole-network gap comes from: one matrix product at growing sparsity, against the ideal speedup 1/(1−s) (dashed curve). Unstructured sparsity keeps the most accuracy but is hardest to run fast; N:M and block patterns trade some of that freedom for regular memory access.</p>
        <p>Plan contents: \(renderer.manifest.plan.about.map { inlineCode($0) }.joined(separator: " "))</p>
        </div>

        """
    }

    func summary() -> String {
        let (networks, products) = renderer.summaryTables()
        guard !networks.isEmpty || !products.isEmpty else { return "" }
        var out = "<section>\n<h2 id=\"summary\">Summary</h2>\n"
        if !networks.isEmpty {
            out += "<p class=\"note\">Whole networks relative to their dense network (1.00× is the iso-FLOP ideal). CPU: inference latency, measured. Accelerator: training-step time, simulated.</p>\n"
            out += networks.html()
        }
        if !products.isEmpty {
            out += "<p class=\"note\">One matrix product, speedup over the dense product of the same shape.</p>\n"
            out += products.html()
        }
        return out + "<p class=\"note\">Also as <a href=\"summary.md\">summary.md</a>.</p>\n</section>\n"
    }

    func machineSection() -> String {
        var out = "<section>\n<h2 id=\"machine\">Machine</h2>\n"
        for run in renderer.manifest.runs {
            if renderer.manifest.runs.count > 1 { out += "<h3>Shard \(escape(run.shard))</h3>\n" }
            out += "<table class=\"kv\">\n"
            for (key, value) in run.machine.tableRows {
                out += "<tr><td>\(escape(key))</td><td>\(escape(value))</td></tr>\n"
            }
            out += "</table>\n"
        }
        return out + "</section>\n"
    }

    func acceleratorSection() -> String {
        guard let accelerator = renderer.manifest.accelerator else { return "" }
        var out = "<section>\n<h2 id=\"accelerator\">Simulated accelerator: \(escape(accelerator.name))</h2>\n"
        out += "<p class=\"note\">Config <code>\(escape(accelerator.file))</code>, mode \(escape(accelerator.mode)), execution \(escape(accelerator.execution)). The resolved configuration is in <a href=\"accelerator-config.json\">accelerator-config.json</a>.</p>\n"
        if !accelerator.parameters.isEmpty {
            out += "<table>\n<thead><tr><th>parameter</th><th>value</th><th>source</th></tr></thead>\n<tbody>\n"
            for parameter in accelerator.parameters {
                out += "<tr><td>\(escape(parameter.name))</td><td>\(escape(parameter.value))</td><td>\(escape(parameter.source))</td></tr>\n"
            }
            out += "</tbody>\n</table>\n"
        }
        for note in accelerator.notes { out += "<p class=\"note\">\(inlineCode(note))</p>\n" }
        return out + "</section>\n"
    }

    /// Escapes `text` and turns `backquoted` spans into <code>.
    func inlineCode(_ text: String) -> String {
        let pieces = text.components(separatedBy: "`")
        return pieces.enumerated().map { index, piece in
            index % 2 == 1 && index < pieces.count - 1 ? "<code>\(escape(piece))</code>" : escape(piece)
        }.joined()
    }
}
