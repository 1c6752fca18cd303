/// A problem with a dataset file, naming the file, the place in it, and what to do.
///
/// Paths are shown as the user gave them (relative stays relative), so the message can be pasted
/// into a shell. Loaders stop at the first bad record: later records are often bad for the same
/// reason, and one precise message is more useful than a hundred.
public struct DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the file the problem is.
    public enum Location: Sendable, Equatable {
        case file
        /// 1-based line number (JSONL, CSV, MME text files).
        case line(Int)
        /// A record's id or index inside a JSON document.
        case record(String)
    }

    /// The file as the user named it (or as it sits under the folder the user named).
    public var file: String
    public var location: Location
    /// What is wrong and what was expected.
    public var message: String
    /// What the user can do about it; empty when the message says it all.
    public var hint: String

    public init(file: String, location: Location = .file, message: String, hint: String = "") {
        self.file = file
        self.location = location
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var place = file
        switch location {
        case .file: break
        case .line(let line): place += ":\(line)"
        case .record(let id): place += ": record \(id)"
        }
        var text = "\(place): error: \(message)"
        if !hint.isEmpty { text += "\n  hint: \(hint)" }
        return text
    }
}
