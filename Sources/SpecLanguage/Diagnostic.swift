/// One problem found in a spec: a severity, where, what, and related places.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How bad a diagnostic is; errors stop a run, warnings do not.
    public enum Severity: String, Sendable, Hashable, CaseIterable {
        case error, warning, note
    }

    /// A related place ("defined here", "included from here") or an extra explanation.
    public struct Note: Sendable, Hashable {
        public var range: SourceRange?
        public var message: String

        public init(_ message: String, at range: SourceRange? = nil) {
            self.message = message
            self.range = range
        }
    }

    public var severity: Severity
    public var range: SourceRange
    public var message: String
    public var notes: [Note]

    public init(_ severity: Severity, _ message: String, at range: SourceRange, notes: [Note] = []) {
        self.severity = severity
        self.message = message
        self.range = range
        self.notes = notes
    }

    public static func error(_ message: String, at range: SourceRange, notes: [Note] = []) -> Diagnostic {
        Diagnostic(.error, message, at: range, notes: notes)
    }

    public static func warning(_ message: String, at range: SourceRange, notes: [Note] = []) -> Diagnostic {
        Diagnostic(.warning, message, at: range, notes: notes)
    }

    public var isError: Bool { severity == .error }

    /// `path:line:col: severity: message`, without source lines.
    public var description: String { "\(range.start): \(severity.rawValue): \(message)" }
}

extension Array where Element == Diagnostic {
    /// True when any diagnostic is an error.
    public var containsErrors: Bool { contains(where: \.isError) }

    /// Diagnostics in reading order: by file (in the order given), then line and column.
    ///
    /// The sort is stable, so diagnostics at the same position keep the order the checker found them in.
    public func sortedByPosition(fileOrder: [String]) -> [Diagnostic] {
        var rank: [String: Int] = [:]
        for (index, file) in fileOrder.enumerated() where rank[file] == nil { rank[file] = index }
        let fallback = fileOrder.count
        return enumerated().sorted { lhs, rhs in
            let a = lhs.element.range.start, b = rhs.element.range.start
            let fa = rank[a.file] ?? fallback, fb = rank[b.file] ?? fallback
            if fa != fb { return fa < fb }
            if a.file != b.file { return a.file < b.file }
            if a != b { return a < b }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }

    /// "2 errors, 1 warning", or "no problems".
    public var summary: String {
        let errors = filter { $0.severity == .error }.count
        let warnings = filter { $0.severity == .warning }.count
        func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
        switch (errors, warnings) {
        case (0, 0): return "no problems"
        case (_, 0): return plural(errors, "error")
        case (0, _): return plural(warnings, "warning")
        default: return "\(plural(errors, "error")), \(plural(warnings, "warning"))"
        }
    }
}

/// Prints diagnostics as a compiler does: location, message, the source line, a caret and tildes.
public struct DiagnosticRenderer: Sendable {
    /// Source text by display path, for quoting lines.
    public var files: [String: SourceFile]
    /// ANSI colours (only for terminals).
    public var useColor: Bool

    public init(files: [SourceFile], useColor: Bool = false) {
        var byPath: [String: SourceFile] = [:]
        for file in files { byPath[file.displayPath] = file }
        self.files = byPath
        self.useColor = useColor
    }

    /// All diagnostics, each followed by its notes, as one string ending in a newline.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map(render).joined()
    }

    /// One diagnostic and its notes.
    public func render(_ diagnostic: Diagnostic) -> String {
        var out = header(diagnostic.range, diagnostic.severity, diagnostic.message)
        out += excerpt(diagnostic.range)
        for note in diagnostic.notes {
            if let range = note.range {
                out += header(range, .note, note.message)
                out += excerpt(range)
            } else {
                out += paint("note: ", .note) + note.message + "\n"
            }
        }
        return out
    }

    private enum Style { case error, warning, note, bold, caret }

    private func paint(_ text: String, _ style: Style) -> String {
        guard useColor else { return text }
        let code: String
        switch style {
        case .error: code = "1;31"
        case .warning: code = "1;35"
        case .note: code = "1;36"
        case .bold: code = "1"
        case .caret: code = "1;32"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    private func header(_ range: SourceRange, _ severity: Diagnostic.Severity, _ message: String) -> String {
        let style: Style = severity == .error ? .error : severity == .warning ? .warning : .note
        return paint("\(range.start): ", .bold) + paint("\(severity.rawValue): ", style) + paint(message, .bold) + "\n"
    }

    /// ` 12 |   bitz: 4` and `    |   ^~~~` (tildes cover the rest of a range on its first line).
    private func excerpt(_ range: SourceRange) -> String {
        guard let file = files[range.file], let line = file.line(range.start.line) else { return "" }
        let characters = Array(line)
        let number = String(range.start.line)
        let gutter = String(repeating: " ", count: number.count)
        let column = max(1, range.start.column)
        // Keep tabs in the caret line so the caret stays under the character on any tab width.
        var pad = ""
        for index in 0..<min(column - 1, characters.count) {
            pad.append(characters[index] == "\t" ? "\t" : " ")
        }
        if column - 1 > characters.count { pad += String(repeating: " ", count: column - 1 - characters.count) }
        var width = 1
        if range.end.line == range.start.line, range.end.column > column {
            width = range.end.column - column
        } else if range.end.line > range.start.line {
            width = max(1, characters.count - (column - 1))
        }
        width = min(width, max(1, characters.count - (column - 1)))
        let marker = "^" + String(repeating: "~", count: width - 1)
        return " \(number) | \(line)\n \(gutter) | \(pad)\(paint(marker, .caret))\n"
    }
}
