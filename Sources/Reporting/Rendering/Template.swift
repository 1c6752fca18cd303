import Foundation

/// A report template: text with `{{name}}` placeholders and `{{#name}}…{{/name}}` sections.
///
/// Deliberately small (a Mustache subset, no dependency): the table's structure — spans, bold
/// best values, deltas — is computed in Swift, so a template only decides what surrounds it
/// (preamble, caption placement, notes). `{{#name}}…{{/name}}` keeps its body when `name` is
/// non-empty, `{{^name}}…{{/name}}` when it is empty. Values are inserted as given: renderers
/// escape them for their format before they reach the template.
public struct Template: Sendable, Hashable {
    public let text: String
    /// Where it came from, for messages.
    public let origin: String

    public init(text: String, origin: String) {
        self.text = text
        self.origin = origin
    }

    /// Fills the placeholders; an unknown name or an unclosed section is an error naming the template.
    public func render(_ values: [String: String]) throws -> String {
        var output = ""
        var rest = Substring(text)
        try render(&rest, into: &output, values: values, closing: nil)
        return output
    }

    private func render(_ rest: inout Substring, into output: inout String, values: [String: String],
                        closing: String?) throws {
        while var open = rest.range(of: "{{") {
            // `\caption{{{caption}}}`: the placeholder is the innermost pair, the outer brace is text.
            while open.upperBound < rest.endIndex, rest[open.upperBound] == "{" {
                open = rest.index(after: open.lowerBound)..<rest.index(after: open.upperBound)
            }
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw ReportingError.template(path: origin, problem: "'{{' at \(position(of: open.lowerBound)) is never closed by '}}'")
            }
            let tag = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let at = position(of: open.lowerBound)
            rest = rest[close.upperBound...]
            if let sigil = tag.first, sigil == "#" || sigil == "^" {
                let name = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces)
                guard let value = values[name] else { throw unknown(name, at: at, values: values) }
                let keep = (sigil == "#") == !value.isEmpty
                var body = ""
                // A section's own line break after the opening tag is dropped, so sections can sit on their own lines.
                if rest.first == "\n" { rest = rest.dropFirst() }
                try render(&rest, into: &body, values: values, closing: name)
                if keep { output += body }
            } else if tag.first == "/" {
                let name = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces)
                guard name == closing else {
                    throw ReportingError.template(path: origin, problem: "'{{/\(name)}}' at \(at) closes no open section")
                }
                if rest.first == "\n" { rest = rest.dropFirst() }
                return
            } else {
                guard let value = values[tag] else { throw unknown(tag, at: at, values: values) }
                output += value
            }
        }
        output += rest
        rest = rest[rest.endIndex...]
        if let closing {
            throw ReportingError.template(path: origin, problem: "section '{{#\(closing)}}' is never closed; add '{{/\(closing)}}'")
        }
    }

    private func unknown(_ name: String, at: String, values: [String: String]) -> ReportingError {
        .template(path: origin, problem: "unknown placeholder '\(name)' at \(at); available: \(values.keys.sorted().joined(separator: ", "))")
    }

    /// `line:column` of an index in the template text.
    private func position(of index: Substring.Index) -> String {
        let before = text[..<index]
        let line = before.reduce(1) { $0 + ($1 == "\n" ? 1 : 0) }
        let column = before.count - (before.lastIndex(of: "\n").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0) + 1
        return "\(line):\(column)"
    }
}

/// The templates a report uses: the built-in defaults, or a user's copies from a folder.
///
/// The defaults are the files in `Templates/` of the repository (compiled in, and a test keeps the
/// two identical); copy that folder, edit, and pass it with `lcb report --templates DIR`. A file
/// missing from the user's folder falls back to the default.
public struct TemplateSet: Sendable {
    public var templates: [String: Template]

    public static let names = ["table.md", "table.csv", "table.tex", "figure.tex", "document.tex"]

    public init(templates: [String: Template]) {
        self.templates = templates
    }

    public static let defaults = TemplateSet(templates: Dictionary(uniqueKeysWithValues: DefaultTemplates.all.map {
        ($0.key, Template(text: $0.value, origin: "built-in Templates/\($0.key)"))
    }))

    /// The defaults overridden by the files of `folder` that have a template's name.
    public static func load(folder: URL) throws -> TemplateSet {
        var set = defaults
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReportingError.notFound("template folder \(folder.path)", hint: "copy Templates/ from the lcb repository and pass its path")
        }
        for name in names {
            let url = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw ReportingError.unreadable(path: url.path, reason: "not UTF-8 text")
            }
            set.templates[name] = Template(text: text, origin: url.path)
        }
        return set
    }

    public func template(_ name: String) -> Template {
        templates[name] ?? Template(text: DefaultTemplates.all[name] ?? "{{body}}", origin: "built-in Templates/\(name)")
    }
}
