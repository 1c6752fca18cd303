import Foundation

/// Renders a `ResultDiff` as Markdown, LaTeX or JSON.
public enum DiffRenderer {
    public enum Format: String, Sendable, CaseIterable {
        case md, tex, json
    }

    public static func render(_ diff: ResultDiff, format: Format, decimals: Int = 2) throws -> String {
        switch format {
        case .md: return markdown(diff, decimals: decimals)
        case .tex: return latex(diff, decimals: decimals)
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(diff), as: UTF8.self) + "\n"
        }
    }

    /// `p = 0.0213 (McNemar 3→7)` / `95% CI [-1.20, 0.40]` / `no test: …`.
    static func testText(_ change: ResultDiff.MetricChange, alpha: Double, decimals: Int) -> String {
        let test = change.test
        switch test.method {
        case "mcnemar-exact":
            return "McNemar p=\(NumberText.pValue(test.pValue ?? 1)), \(test.rightToWrong ?? 0) right→wrong, \(test.wrongToRight ?? 0) wrong→right of \(test.pairs)"
        case "paired-bootstrap":
            let level = NumberText.fixed((1 - alpha) * 100, decimals: 0)
            return "bootstrap \(level)% CI [\(NumberText.signed(test.lower ?? 0, decimals: decimals)), \(NumberText.signed(test.upper ?? 0, decimals: decimals))] of \(test.pairs)"
        default:
            return "no test: \(test.reason ?? "not available")"
        }
    }

    static func flag(_ change: ResultDiff.MetricChange) -> String {
        guard change.significant else { return "" }
        return change.regression ? "worse" : "better"
    }

    static func markdown(_ diff: ResultDiff, decimals: Int) -> String {
        var out = "# lcb diff\n\nold: `\(diff.old)`  \nnew: `\(diff.new)`\n\n"
        let significant = diff.changes.filter(\.significant)
        out += "\(diff.changes.count) metric values compared, \(significant.count) changed significantly (α = \(NumberText.plain(diff.alpha))), \(significant.filter(\.regression).count) of them for the worse; \(diff.added.count) cells added, \(diff.removed.count) removed.\n\n"
        if !diff.changes.isEmpty {
            out += "## Changes\n\n| cell | metric | old | new | delta | test | significant |\n|:--|:--|--:|--:|--:|:--|:--|\n"
            for change in diff.changes {
                let cells = [change.cell, change.metric, NumberText.fixed(change.old, decimals: decimals),
                             NumberText.fixed(change.new, decimals: decimals), NumberText.signed(change.delta, decimals: decimals),
                             testText(change, alpha: diff.alpha, decimals: decimals), change.significant ? "**\(flag(change))**" : ""]
                out += "| " + cells.map(MarkdownTableRenderer.escape).joined(separator: " | ").replacingOccurrences(of: "\\*\\*", with: "**") + " |\n"
            }
            out += "\n"
        }
        func list(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            out += "## \(title)\n\n" + items.map { "- `\($0)`\n" }.joined() + "\n"
        }
        list("Cells added", diff.added)
        list("Cells removed", diff.removed)
        func facts(_ title: String, _ items: [ResultDiff.FactChange]) {
            guard !items.isEmpty else { return }
            out += "## \(title)\n\n| what | old | new |\n|:--|:--|:--|\n"
            for item in items {
                out += "| \(MarkdownTableRenderer.escape(item.subject)) | \(MarkdownTableRenderer.escape(item.old ?? "—")) | \(MarkdownTableRenderer.escape(item.new ?? "—")) |\n"
            }
            out += "\n"
        }
        facts("Settings changed", diff.settingChanges)
        facts("Provenance", diff.provenanceChanges)
        if !diff.speedChanges.isEmpty {
            out += "## Speed\n\nGenerated tokens per second: one measurement per run, on whatever else the machine was doing, so no test.\n\n"
            out += "| cell | old | new | new / old |\n|:--|--:|--:|--:|\n"
            for speed in diff.speedChanges {
                out += "| \(MarkdownTableRenderer.escape(speed.cell)) | \(NumberText.fixed(speed.old, decimals: 1)) | \(NumberText.fixed(speed.new, decimals: 1)) | \(NumberText.fixed(speed.ratio, decimals: 2))× |\n"
            }
            out += "\n"
        } else if let note = diff.speedNote {
            out += "_\(MarkdownTableRenderer.escape(note))._\n"
        }
        return out
    }

    static func latex(_ diff: ResultDiff, decimals: Int) -> String {
        let e = LaTeXTableRenderer.escape
        var out = "% lcb diff \(e(diff.old)) -> \(e(diff.new)); needs booktabs and adjustbox.\n\\begin{table}[t]\n  \\centering\n  \\small\n"
        out += "  \\caption{Changes from \\texttt{\(e(diff.old))} to \\texttt{\(e(diff.new))}}\n"
        out += "  \\begin{adjustbox}{max width=\\linewidth}\n  \\begin{tabular}{llrrrl}\n    \\toprule\n    cell & metric & old & new & $\\Delta$ & test \\\\\n    \\midrule\n"
        for change in diff.changes {
            var delta = LaTeXTableRenderer.math(NumberText.signed(change.delta, decimals: decimals))
            if change.significant { delta = "\\textbf{\(delta)}" }
            let fields = [e(change.cell), e(change.metric), NumberText.fixed(change.old, decimals: decimals),
                          NumberText.fixed(change.new, decimals: decimals), delta,
                          e(testText(change, alpha: diff.alpha, decimals: decimals)).replacingOccurrences(of: "→", with: "$\\to$")]
            out += "    " + fields.joined(separator: " & ") + " \\\\\n"
        }
        out += "    \\bottomrule\n  \\end{tabular}\n  \\end{adjustbox}\n"
        var notes: [String] = []
        if !diff.added.isEmpty { notes.append("Added: " + diff.added.map(e).joined(separator: ", ") + ".") }
        if !diff.removed.isEmpty { notes.append("Removed: " + diff.removed.map(e).joined(separator: ", ") + ".") }
        for fact in diff.settingChanges + diff.provenanceChanges {
            notes.append("\(e(fact.subject)): \(e(fact.old ?? "--")) $\\to$ \(e(fact.new ?? "--")).")
        }
        for speed in diff.speedChanges {
            notes.append("\(e(speed.cell)): \(NumberText.fixed(speed.old, decimals: 1)) $\\to$ \(NumberText.fixed(speed.new, decimals: 1)) tokens/s.")
        }
        if diff.speedChanges.isEmpty, let note = diff.speedNote { notes.append(e(note) + ".") }
        notes.append("Bold: significant at $\\alpha = \(NumberText.plain(diff.alpha))$ (exact McNemar for right/wrong answers, paired bootstrap otherwise).")
        out += "\n  \\smallskip\n  \\parbox{\\linewidth}{\\footnotesize " + notes.joined(separator: " ") + "}\n\\end{table}\n"
        return out
    }
}
