/// A YAML node as lcb sees it: a scalar, a sequence or a mapping, with where it was written.
///
/// Mapping keys are always scalars (the front end rejects others), duplicate keys are already
/// reported, and aliases are already expanded.
public struct YAMLNode: Sendable, Hashable {
    /// What the node holds.
    public enum Content: Sendable, Hashable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public var content: Content
    public var range: SourceRange

    public init(_ content: Content, range: SourceRange) {
        self.content = content
        self.range = range
    }

    /// The scalar, if this node is one.
    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    /// The items, if this node is a sequence.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The key/value pairs in written order, if this node is a mapping.
    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// True for `null`, `~` and an empty plain value.
    public var isNull: Bool { scalar?.isNull ?? false }

    /// "a mapping", "a list", "the number 3", "the text 'abc'" — for "expected X, found Y" messages.
    public var kindDescription: String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar): return scalar.kindDescription
        }
    }
}

/// One `key: value` entry of a mapping.
public struct YAMLPair: Sendable, Hashable {
    public var key: YAMLNode
    public var value: YAMLNode

    /// The key's text (keys are always scalars).
    public var name: String { key.scalar?.text ?? "" }
}

/// A scalar's text and whether it was quoted (quoted text is never a number, boolean or null).
public struct YAMLScalar: Sendable, Hashable {
    public var text: String
    /// True when written plain (unquoted, not a block scalar, no `!!str` tag).
    public var isPlain: Bool

    public init(text: String, isPlain: Bool) {
        self.text = text
        self.isPlain = isPlain
    }

    /// YAML 1.2 core schema null.
    public var isNull: Bool {
        isPlain && (text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL")
    }

    /// YAML 1.2 core schema boolean.
    public var bool: Bool? {
        guard isPlain else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// A decimal integer (optionally signed), written plain.
    public var integer: Int? {
        guard isPlain else { return nil }
        var body = Substring(text)
        if body.first == "+" { body = body.dropFirst() }
        guard !body.isEmpty, body.count <= 19 else { return nil }
        return Int(body)
    }

    /// A finite decimal number, written plain (`0.02`, `1e-3`, `4`).
    public var number: Double? {
        guard isPlain, !text.isEmpty else { return nil }
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              text.contains(where: \.isNumber),
              let value = Double(text), value.isFinite else { return nil }
        return value
    }

    var kindDescription: String {
        if isNull { return "null" }
        if bool != nil { return "the boolean \(text)" }
        if number != nil { return "the number \(text)" }
        let shown = text.count > 40 ? String(text.prefix(37)) + "..." : text
        return "the text '\(shown)'"
    }
}
