internal import CLibYAML

/// Parses YAML text into a `YAMLNode` tree with source ranges, using libyaml's event API.
///
/// Bounded on every input: nesting deeper than `maximumDepth` stops with an error, aliases are
/// expanded but the total expanded node count is capped (an "alias bomb" fails after a few events),
/// and each event does constant work apart from copying its scalar, so time is linear in the input.
public struct YAMLParser: Sendable {
    /// Deepest allowed nesting of sequences and mappings.
    public var maximumDepth = 64
    /// Most nodes the document may hold once aliases are expanded.
    public var maximumNodes = 1_000_000

    public init() {}

    /// The outcome of parsing one file: the document's root (nil when empty or broken) and problems.
    public struct Result: Sendable {
        public var root: YAMLNode?
        public var diagnostics: [Diagnostic]
    }

    private struct Frame {
        enum Kind { case sequence, mapping }
        var kind: Kind
        var start: SourceLocation
        var anchor: String?
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?
        var keyRanges: [String: SourceRange] = [:]
        /// Nodes below this one, aliases counted at their expanded size.
        var size = 1
        /// True after a duplicate key: its value is dropped.
        var skipNextValue = false
    }

    /// Parses `text`; `path` is how diagnostics name the file.
    public func parse(_ text: String, path: String) -> Result {
        var bytes = Array(text.utf8)
        return parse(bytes: &bytes, path: path)
    }

    /// Parses raw bytes (libyaml validates the encoding and reports bad UTF-8 where it starts).
    public func parse(bytes: inout [UInt8], path: String) -> Result {
        // libyaml asserts on a null input pointer, which an empty array may give.
        if bytes.isEmpty { return Result(root: nil, diagnostics: []) }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return Result(root: nil, diagnostics: [.error("cannot start the YAML parser (out of memory)", at: .fileStart(path))])
        }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeBufferPointer { buffer -> Result in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            return run(&parser, bytes: buffer, path: path)
        }
    }

    private func run(_ parser: inout yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>, path: String) -> Result {
        var diagnostics: [Diagnostic] = []
        var stack: [Frame] = []
        var anchors: [String: (node: YAMLNode, size: Int)] = [:]
        var root: YAMLNode?
        var documents = 0
        var totalNodes = 0

        func location(_ mark: yaml_mark_t) -> SourceLocation {
            SourceLocation(file: path, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
        }
        func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, _ length: Int? = nil) -> String? {
            guard let pointer else { return nil }
            let count = length ?? strlen(pointer)
            return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
        }
        func fail(_ message: String, at range: SourceRange, notes: [Diagnostic.Note] = []) -> Result {
            diagnostics.append(.error(message, at: range, notes: notes))
            return Result(root: nil, diagnostics: diagnostics)
        }

        /// Attaches a finished node to its parent; false when the node budget is spent.
        func attach(_ node: YAMLNode, size: Int, anchor: String?) -> String? {
            if let anchor { anchors[anchor] = (node, size) }
            guard var top = stack.popLast() else {
                root = node
                return nil
            }
            top.size = top.size &+ size
            if top.size > maximumNodes || top.size < 0 { return "the document is too large" }
            switch top.kind {
            case .sequence:
                top.items.append(node)
            case .mapping:
                if let key = top.pendingKey {
                    if top.skipNextValue {
                        top.skipNextValue = false
                    } else {
                        top.pairs.append(YAMLPair(key: key, value: node))
                    }
                    top.pendingKey = nil
                } else {
                    guard let keyText = node.scalar?.text else {
                        stack.append(top)
                        return "complex-key"
                    }
                    if let first = top.keyRanges[keyText] {
                        diagnostics.append(.error("duplicate key '\(keyText)'", at: node.range,
                                                  notes: [.init("'\(keyText)' first defined here", at: first)]))
                        top.skipNextValue = true
                    } else {
                        top.keyRanges[keyText] = node.range
                    }
                    top.pendingKey = node
                }
            }
            stack.append(top)
            return nil
        }

        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else {
                return fail(syntaxMessage(parser), at: syntaxRange(parser, bytes: bytes, path: path),
                            notes: syntaxNotes(parser, path: path))
            }
            defer { yaml_event_delete(&event) }
            let start = location(event.start_mark)
            let range = SourceRange(start: start, end: location(event.end_mark))

            switch event.type {
            case YAML_STREAM_END_EVENT:
                return Result(root: root, diagnostics: diagnostics)

            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    return fail("a spec file holds one YAML document; remove this second one or move it to its own file",
                                at: range)
                }

            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = string(scalar.value, Int(scalar.length)) ?? ""
                let tag = string(scalar.tag)
                if let tag, tag != "tag:yaml.org,2002:str", tag != "!" {
                    return fail("YAML tags such as '\(tag)' are not supported in specs; remove the tag", at: range)
                }
                let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && tag == nil
                totalNodes += 1
                if let message = attach(YAMLNode(.scalar(YAMLScalar(text: text, isPlain: plain)), range: range),
                                        size: 1, anchor: string(scalar.anchor)) {
                    return fail(message == "complex-key" ? "mapping keys must be plain text" : message, at: range)
                }

            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let isSequence = event.type == YAML_SEQUENCE_START_EVENT
                if stack.count >= maximumDepth {
                    return fail("nesting is deeper than \(maximumDepth) levels; specs never need this much", at: range)
                }
                if let top = stack.last, top.kind == .mapping, top.pendingKey == nil {
                    return fail("mapping keys must be plain text, not a \(isSequence ? "list" : "mapping")", at: range)
                }
                let anchor = isSequence ? string(event.data.sequence_start.anchor) : string(event.data.mapping_start.anchor)
                let tag = isSequence ? string(event.data.sequence_start.tag) : string(event.data.mapping_start.tag)
                if let tag {
                    return fail("YAML tags such as '\(tag)' are not supported in specs; remove the tag", at: range)
                }
                totalNodes += 1
                stack.append(Frame(kind: isSequence ? .sequence : .mapping, start: start, anchor: anchor))

            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { break }
                let whole = SourceRange(start: frame.start, end: range.end)
                let node = frame.kind == .sequence
                    ? YAMLNode(.sequence(frame.items), range: whole)
                    : YAMLNode(.mapping(frame.pairs), range: whole)
                if let message = attach(node, size: frame.size, anchor: frame.anchor) {
                    return fail(message == "complex-key" ? "mapping keys must be plain text" : message, at: whole)
                }

            case YAML_ALIAS_EVENT:
                let name = string(event.data.alias.anchor) ?? ""
                guard let target = anchors[name] else {
                    return fail("alias '*\(name)' refers to no anchor defined before it", at: range)
                }
                totalNodes = totalNodes &+ target.size
                if totalNodes > maximumNodes || totalNodes < 0 {
                    return fail("aliases expand to more than \(maximumNodes) nodes; "
                        + "this looks like an alias bomb (each alias is copied in full)", at: range)
                }
                if let message = attach(target.node, size: target.size, anchor: nil) {
                    return fail(message == "complex-key" ? "mapping keys must be plain text" : message, at: range)
                }

            default:
                break
            }
        }
    }

    private func syntaxMessage(_ parser: yaml_parser_t) -> String {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        switch parser.error {
        case YAML_READER_ERROR:
            return "the file is not valid UTF-8 text: \(problem)"
        case YAML_MEMORY_ERROR:
            return "out of memory while reading YAML"
        default:
            return "YAML syntax error: \(problem)"
        }
    }

    private func syntaxRange(_ parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>, path: String) -> SourceRange {
        if parser.error == YAML_READER_ERROR {
            // Reader errors carry a byte offset, not a mark: count lines and characters up to it.
            let offset = min(parser.problem_offset, bytes.count)
            var line = 1, column = 1
            var index = 0
            while index < offset {
                let byte = bytes[index]
                if byte == 0x0A { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
                index += 1
            }
            return SourceRange(at: SourceLocation(file: path, line: line, column: column))
        }
        let mark = parser.problem_mark
        return SourceRange(at: SourceLocation(file: path, line: Int(mark.line) + 1, column: Int(mark.column) + 1))
    }

    private func syntaxNotes(_ parser: yaml_parser_t, path: String) -> [Diagnostic.Note] {
        guard parser.error != YAML_READER_ERROR, let context = parser.context.map({ String(cString: $0) }) else { return [] }
        let mark = parser.context_mark
        let at = SourceLocation(file: path, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
        return [.init("\(context) that starts here", at: SourceRange(at: at))]
    }
}
