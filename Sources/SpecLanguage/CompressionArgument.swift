/// The command-line form of one compression setting: `METHOD[:BITS][,name=value…]`.
///
/// `lcb generate --kv kivi:2,residual=32` and `lcb bench --weights rtn:4,targets=lm+lm_head` name a
/// setting with the spec language's method and parameter names. The text is turned into the node
/// a spec entry `{kv: {method: kivi, bits: 2, residual: 32}}` would give and read by the spec's own
/// `CompressionDecoder`, so names, defaults, range checks and did-you-mean suggestions are the
/// spec's, exactly. Differences from a spec entry, all because one flag is one setting:
/// - no lists to expand: each parameter has one value; only `targets` takes several, joined by `+`;
/// - `fp16` means no compression (the spec's built-in baseline);
/// - CLI-only rule: `awq` and `gptq` take no `calibration`/`calibration_samples` — the command
///   calibrates on its own prompt (`lcb generate`) or benchmark prompt (`lcb bench`) instead of a
///   spec dataset. The decoded setting's `calibration` is then `CompressionArgument.promptCalibration`.
public enum CompressionArgument {
    /// The `calibration` value of an AWQ/GPTQ setting read from the command line: "the prompt".
    public static let promptCalibration = "<prompt>"

    /// The KV-cache setting `text` names (nil for `fp16`); `flag` (e.g. `--kv`) is quoted in errors.
    public static func kv(_ text: String, flag: String = "--kv") throws(CompressionArgumentError) -> KVCacheQuantization? {
        try decode(text, flag: flag, section: "kv").flatMap(\.kv)
    }

    /// The weight setting `text` names (nil for `fp16`); `flag` (e.g. `--weights`) is quoted in errors.
    public static func weights(_ text: String, flag: String = "--weights") throws(CompressionArgumentError) -> WeightQuantization? {
        try decode(text, flag: flag, section: "weights").flatMap(\.weights)
    }

    // MARK: Reading

    /// One `name` or `value` of the text with its 0-based character offset.
    private struct Piece {
        var text: String
        var offset: Int
    }

    private static func decode(_ text: String, flag: String, section: String) throws(CompressionArgumentError) -> CompressionConfiguration? {
        func range(_ offset: Int, _ length: Int) -> SourceRange {
            SourceRange(start: SourceLocation(file: flag, line: 1, column: offset + 1),
                        end: SourceLocation(file: flag, line: 1, column: offset + 1 + max(length, 1)))
        }
        func fail(_ message: String, at offset: Int, _ length: Int, notes: [Diagnostic.Note] = []) -> CompressionArgumentError {
            CompressionArgumentError(flag: flag, argument: text, diagnostics: [.error(message, at: range(offset, length), notes: notes)])
        }
        let example = section == "kv" ? "kivi:2,residual=32" : "rtn:4,group_size=64"
        let pieces = split(text, on: ",")
        guard let head = pieces.first, !head.text.isEmpty else {
            throw fail("expected METHOD[:BITS][,name=value…] (e.g. \(example)); found '\(text)'", at: 0, text.count)
        }
        if head.text == "fp16" {
            guard pieces.count == 1 else {
                throw fail("'fp16' (no compression) takes no parameters", at: pieces[1].offset, pieces[1].text.count)
            }
            return nil
        }
        let headParts = split(head.text, on: ":", offset: head.offset)
        guard headParts.count <= 2, !headParts[0].text.isEmpty, headParts.count == 1 || !headParts[1].text.isEmpty else {
            throw fail("expected METHOD[:BITS] before the first ',' (e.g. \(example)); found '\(head.text)'",
                       at: head.offset, head.text.count)
        }

        func scalar(_ piece: Piece) -> YAMLNode {
            YAMLNode(.scalar(YAMLScalar(text: piece.text, isPlain: true)), range: range(piece.offset, piece.text.count))
        }
        func pair(_ key: Piece, _ value: YAMLNode) -> YAMLPair {
            YAMLPair(key: scalar(key), value: value)
        }
        var pairs = [pair(Piece(text: "method", offset: headParts[0].offset), scalar(headParts[0]))]
        if headParts.count == 2 {
            pairs.append(pair(Piece(text: "bits", offset: headParts[1].offset), scalar(headParts[1])))
        }
        var seen: [String: Int] = [:]
        for piece in pieces.dropFirst() {
            let nameValue = split(piece.text, on: "=", offset: piece.offset, maxSplits: 1)
            guard nameValue.count == 2, !nameValue[0].text.isEmpty, !nameValue[1].text.isEmpty else {
                throw fail("expected name=value after '\(head.text)', found '\(piece.text)'", at: piece.offset, piece.text.count)
            }
            let name = nameValue[0], value = nameValue[1]
            if name.text == "method" || name.text == "bits" {
                throw fail("write the method and bits first, as METHOD:BITS (e.g. \(example)), not as '\(name.text)='",
                           at: name.offset, name.text.count)
            }
            if let first = seen[name.text] {
                throw fail("parameter '\(name.text)' is given twice", at: name.offset, name.text.count,
                           notes: [.init("first given here", at: range(first, name.text.count))])
            }
            seen[name.text] = name.offset
            if name.text == "targets" {
                // The one list-valued parameter; elsewhere a list would be an expansion axis.
                let items = split(value.text, on: "+", offset: value.offset)
                pairs.append(pair(name, YAMLNode(.sequence(items.map(scalar)), range: range(value.offset, value.text.count))))
            } else {
                pairs.append(pair(name, scalar(value)))
            }
        }

        let method = headParts[0].text
        if section == "weights", method == "awq" || method == "gptq" {
            // CLI-only rule: the command's own prompt calibrates; a spec dataset cannot be named here.
            for key in ["calibration", "calibration_samples"] {
                if let offset = seen[key] {
                    throw fail("'\(key)' names a spec dataset; on the command line \(method) calibrates on the command's "
                               + "own prompt, so leave it out (or run a spec with `lcb run`)", at: offset, key.count)
                }
            }
            pairs.append(pair(Piece(text: "calibration", offset: headParts[0].offset), scalar(Piece(text: promptCalibration, offset: headParts[0].offset))))
        }

        let whole = range(0, text.count)
        let entry = YAMLNode(.mapping([YAMLPair(key: YAMLNode(.scalar(YAMLScalar(text: section, isPlain: true)), range: whole),
                                                value: YAMLNode(.mapping(pairs), range: whole))]), range: whole)
        let sink = DiagnosticSink()
        let decoded = CompressionDecoder(sink: sink).decode(name: flag, node: entry)
        var problems = sink.diagnostics.filter { $0.severity == .error }
        guard problems.isEmpty, let configurations = decoded?.configurations, configurations.count == 1 else {
            if problems.isEmpty {
                problems = [.error("'\(text)' does not name exactly one setting", at: whole)]
            }
            throw CompressionArgumentError(flag: flag, argument: text, diagnostics: problems)
        }
        return configurations[0].configuration
    }

    /// `text` cut at every `separator`, each piece with its character offset (`offset` added).
    private static func split(_ text: String, on separator: Character, offset: Int = 0, maxSplits: Int = .max) -> [Piece] {
        var pieces: [Piece] = []
        var current = ""
        var start = offset
        var position = offset
        for character in text {
            if character == separator, pieces.count < maxSplits {
                pieces.append(Piece(text: current, offset: start))
                current = ""
                start = position + 1
            } else {
                current.append(character)
            }
            position += 1
        }
        pieces.append(Piece(text: current, offset: start))
        return pieces
    }
}

/// A command-line compression setting the spec language rejects: the flag, its text, and the
/// checker's diagnostics (columns count characters of the text).
public struct CompressionArgumentError: Error, CustomStringConvertible, Sendable, Equatable {
    public var flag: String
    public var argument: String
    public var diagnostics: [Diagnostic]

    /// `--kv group:2,bitz=3: unknown key 'bitz' …`, the text, a caret under the offending part, and notes.
    public var description: String {
        var lines: [String] = []
        for diagnostic in diagnostics {
            lines.append("\(flag) \(argument): \(diagnostic.message)")
            let column = max(1, diagnostic.range.start.column)
            let width = max(1, min(diagnostic.range.end.column, argument.count + 1) - column)
            if column <= argument.count {
                let indent = String(repeating: " ", count: flag.count + 1 + column - 1)
                lines.append("  \(flag) \(argument)")
                lines.append("  " + indent + "^" + String(repeating: "~", count: width - 1))
            }
            for note in diagnostic.notes {
                lines.append("note: \(note.message)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
