import Foundation

/// Renders a `ResultTable` as text in one format, through that format's template.
public protocol TableRenderer: Sendable {
    /// The file extension (`md`, `csv`, `tex`).
    var fileExtension: String { get }
    func render(_ table: ResultTable, source: String) throws -> String
}

/// The number in one entry, formatted for every renderer alike: value, optional ± error, optional delta.
struct EntryText {
    let table: ResultTable

    func value(_ entry: ResultTable.Entry) -> String { NumberText.fixed(entry.value, decimals: table.decimals) }

    func error(_ entry: ResultTable.Entry) -> String? {
        guard table.showStandardErrors, let error = entry.standardError else { return nil }
        return NumberText.fixed(error, decimals: table.decimals)
    }

    func delta(_ entry: ResultTable.Entry) -> String? {
        entry.delta.map { NumberText.signed($0, decimals: table.decimals) }
    }
}

/// GitHub-flavoured Markdown: one header row (group labels joined with ` / `), the best value per
/// column in bold, `± error` and `(delta)` after the value, repeated outer row labels left blank.
public struct MarkdownTableRenderer: TableRenderer {
    public var templates: TemplateSet

    public init(templates: TemplateSet = .defaults) {
        self.templates = templates
    }

    public var fileExtension: String { "md" }

    public func render(_ table: ResultTable, source: String) throws -> String {
        let text = EntryText(table: table)
        var lines: [String] = []
        let headings = table.rowHeadings + table.columns.map { $0.path.joined(separator: " / ") }
        lines.append("| " + headings.map(Self.escape).joined(separator: " | ") + " |")
        let alignment = table.rowHeadings.map { _ in ":--" } + table.columns.map { _ in "--:" }
        lines.append("|" + alignment.map { " \($0) " }.joined(separator: "|") + "|")
        for (index, row) in table.rows.enumerated() {
            var fields: [String] = []
            for (level, label) in row.labels.enumerated() {
                fields.append(level < row.labels.count - 1 && table.repeatsLabel(row: index, level: level) ? "" : Self.escape(label))
            }
            for entry in row.entries {
                guard let entry else { fields.append("—"); continue }
                var field = entry.isBest ? "**\(text.value(entry))**" : text.value(entry)
                if let error = text.error(entry) { field += " ± " + error }
                if let delta = text.delta(entry) { field += " (\(delta))" }
                fields.append(field)
            }
            lines.append("| " + fields.joined(separator: " | ") + " |")
        }
        let values = [
            "name": table.name, "source": source, "caption": table.caption.map(Self.escape) ?? "",
            "label": table.label ?? "", "table": lines.joined(separator: "\n"),
            "notes": table.notes.map { "_\(Self.escape($0))_" }.joined(separator: " "),
        ]
        return try templates.template("table.md").render(values)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "|", "*", "\\", "`": out += "\\" + String(character)
            case "\n": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}

/// RFC 4180 CSV: one header row, CRLF line ends, fields quoted when they hold `,`, `"`, CR or LF.
///
/// Columns are stable for a given table declaration: the row dimensions, then per table column
/// its value, `… stderr` (with `stderr: true`) and `… delta` (with a baseline), whether or not a
/// value exists. Numbers use the table's decimals and a `.` point; a missing value is an empty field.
public struct CSVTableRenderer: TableRenderer {
    public var templates: TemplateSet

    public init(templates: TemplateSet = .defaults) {
        self.templates = templates
    }

    public var fileExtension: String { "csv" }

    public func render(_ table: ResultTable, source: String) throws -> String {
        let text = EntryText(table: table)
        var header = table.rowHeadings
        for column in table.columns {
            let name = column.path.joined(separator: "/")
            header.append(name)
            if table.showStandardErrors { header.append(name + " stderr") }
            if table.baseline != nil { header.append(name + " delta") }
        }
        var body = ""
        for row in table.rows {
            var fields = row.labels
            for entry in row.entries {
                fields.append(entry.map(text.value) ?? "")
                if table.showStandardErrors {
                    fields.append(entry?.standardError.map { NumberText.fixed($0, decimals: table.decimals) } ?? "")
                }
                if table.baseline != nil { fields.append(entry.flatMap(text.delta) ?? "") }
            }
            body += Self.line(fields)
        }
        return try templates.template("table.csv").render(["header": Self.line(header), "body": body, "name": table.name,
                                                           "source": source])
    }

    static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\r\n" }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// LaTeX with booktabs: grouped column headers (`\multicolumn` + `\cmidrule`), outer row labels
/// spanning their rows (`\multirow`), the best value per column in bold, `$\pm$` errors and signed
/// deltas vs the baseline, caption and label; every label escaped.
public struct LaTeXTableRenderer: TableRenderer {
    public var templates: TemplateSet

    public init(templates: TemplateSet = .defaults) {
        self.templates = templates
    }

    public var fileExtension: String { "tex" }

    public func render(_ table: ResultTable, source: String) throws -> String {
        let text = EntryText(table: table)
        let rowDepth = table.rowHeadings.count
        let depth = max(table.headerDepth, 1)
        var header: [String] = []
        for level in 0..<depth {
            var fields: [String] = []
            for heading in table.rowHeadings {
                // Row headings sit in the last header line, so they line up with the metric names.
                fields.append(level == depth - 1 ? Self.escape(heading) : "")
            }
            var rules: [String] = []
            for group in table.headerGroups(level: level) {
                let label = Self.escape(group.label)
                if group.width > 1 || level < depth - 1 {
                    fields.append("\\multicolumn{\(group.width)}{c}{\(label)}")
                    let first = rowDepth + group.start + 1
                    if level < depth - 1 { rules.append("\\cmidrule(lr){\(first)-\(first + group.width - 1)}") }
                } else {
                    fields.append(label)
                }
            }
            header.append("    " + fields.joined(separator: " & ") + " \\\\" + (rules.isEmpty ? "" : " " + rules.joined(separator: " ")))
        }

        var body: [String] = []
        for (index, row) in table.rows.enumerated() {
            if index > 0, rowDepth > 1, !table.repeatsLabel(row: index, level: 0) { body.append("    \\midrule") }
            var fields: [String] = []
            for (level, label) in row.labels.enumerated() {
                if level < rowDepth - 1 {
                    if table.repeatsLabel(row: index, level: level) { fields.append(""); continue }
                    let span = table.rowSpan(row: index, level: level)
                    fields.append(span > 1 ? "\\multirow{\(span)}{*}{\(Self.escape(label))}" : Self.escape(label))
                } else {
                    fields.append(Self.escape(label))
                }
            }
            for entry in row.entries {
                guard let entry else { fields.append("--"); continue }
                var field = Self.math(text.value(entry))
                if entry.isBest { field = "\\textbf{\(field)}" }
                if let error = text.error(entry) { field += "\\,$\\pm$\\,\(error)" }
                if let delta = text.delta(entry) { field += " {\\scriptsize (\(Self.math(delta)))}" }
                fields.append(field)
            }
            body.append("    " + fields.joined(separator: " & ") + " \\\\")
        }
        let values = [
            "name": Self.escape(table.name), "source": Self.escape(source), "caption": table.caption.map(Self.escape) ?? "",
            "label": table.label.map(Self.labelKey) ?? "",
            "columns": String(repeating: "l", count: rowDepth) + String(repeating: "r", count: table.columns.count),
            "header": header.joined(separator: "\n"), "body": body.joined(separator: "\n"),
            "notes": table.notes.map(Self.escape).joined(separator: " "),
        ]
        return try templates.template("table.tex").render(values)
    }

    /// Signs as math-mode signs (a text hyphen is not a minus).
    static func math(_ number: String) -> String {
        if number.hasPrefix("-") { return "$-$" + number.dropFirst() }
        if number.hasPrefix("+") { return "$+$" + number.dropFirst() }
        return number
    }

    /// A `\label`/`\ref` key: LaTeX takes it verbatim, so only characters that would break the
    /// command are dropped (escaping `_` would change the key users `\ref`).
    public static func labelKey(_ text: String) -> String {
        String(text.filter { !"\\{}%#~^$&\n\r ".contains($0) })
    }

    /// Escapes LaTeX's special characters `\ & % $ # _ { } ~ ^` (and line breaks).
    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": out += "\\" + String(character)
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            case "\n", "\r\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
