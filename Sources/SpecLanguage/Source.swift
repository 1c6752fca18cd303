/// A position in a spec file: 1-based line and column (columns count characters, as libyaml does).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file, as the user named it (relative paths stay relative so output is stable).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, in characters.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A span of a spec file, from `start` up to (not including) `end`.
public struct SourceRange: Sendable, Hashable, CustomStringConvertible {
    public var start: SourceLocation
    public var end: SourceLocation

    public init(start: SourceLocation, end: SourceLocation) {
        self.start = start
        self.end = end
    }

    /// An empty range at one position.
    public init(at location: SourceLocation) {
        self.init(start: location, end: location)
    }

    /// The whole of the first line of a file, used for file-level problems.
    public static func fileStart(_ file: String) -> SourceRange {
        SourceRange(at: SourceLocation(file: file, line: 1, column: 1))
    }

    public var file: String { start.file }

    public var description: String { start.description }
}

/// The text of one spec file, kept so diagnostics can quote the offending line.
public struct SourceFile: Sendable, Hashable {
    /// The path as shown in diagnostics.
    public var displayPath: String
    /// The file's text (invalid UTF-8 is repaired, which only affects quoting).
    public var text: String
    private var lineStarts: [String.Index]

    public init(displayPath: String, text: String) {
        self.displayPath = displayPath
        self.text = text
        var starts = [text.startIndex]
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            // "\r\n" is one Character in Swift, so this also covers Windows line ends.
            if character == "\n" || character == "\r\n" || character == "\r" {
                starts.append(index)
            }
        }
        self.lineStarts = starts
    }

    /// The number of lines (a final line without a newline counts).
    public var lineCount: Int { lineStarts.count }

    /// The text of 1-based line `number` without its line end, or nil when out of range.
    public func line(_ number: Int) -> Substring? {
        guard number >= 1, number <= lineStarts.count else { return nil }
        let start = lineStarts[number - 1]
        var end = number < lineStarts.count ? lineStarts[number] : text.endIndex
        while end > start {
            let previous = text.index(before: end)
            let character = text[previous]
            guard character == "\n" || character == "\r\n" || character == "\r" else { break }
            end = previous
        }
        return text[start..<end]
    }
}
