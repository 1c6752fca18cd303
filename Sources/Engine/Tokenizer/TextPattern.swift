import Foundation

/// The pattern of a `Replace` or `Split` stage: `{"String": …}` (a literal) or `{"Regex": …}`.
///
/// `tokenizers` runs regexes with Oniguruma; here ICU (`NSRegularExpression`) runs them. The two
/// agree on the constructs tokenizer files use (`\p{L}`, `\p{N}`, `\s`, `(?i:…)`, `(?!…)`,
/// counted repeats), which the byte-level fixture with Llama-3's split regex checks.
struct TextPattern: Sendable {
    enum Kind: Sendable {
        case literal([UInt8])
        case regex(CompiledRegex)
    }

    let kind: Kind

    init(literal: String) { kind = .literal(UTF8Bytes.of(literal)) }

    init(_ config: ConfigNode, stage: String) throws {
        if let literal = config.optional("String") {
            kind = .literal(UTF8Bytes.of(try literal.string()))
        } else if let regexNode = config.optional("Regex") {
            let source = try regexNode.string()
            do {
                kind = .regex(CompiledRegex(try NSRegularExpression(pattern: source)))
            } catch {
                throw TokenizerError.invalidValue(path: config.file, where: regexNode.location,
                                                  expected: "a regular expression ICU can compile ('\(source)' is not)")
            }
        } else {
            throw config.invalid("an object {\"String\": …} or {\"Regex\": …}")
        }
    }

    /// Non-overlapping matches, left to right, as byte ranges (an empty pattern matches nothing).
    func matches(in bytes: [UInt8]) -> [Range<Int>] {
        switch kind {
        case .literal(let literal):
            return UTF8Bytes.occurrences(of: literal, in: bytes).map { $0..<$0 + literal.count }
        case .regex(let compiled):
            return compiled.matches(in: bytes)
        }
    }

    /// `bytes` with every match replaced by `content`.
    func replacingAll(in bytes: [UInt8], with content: [UInt8]) -> [UInt8] {
        if case .literal(let literal) = kind { return UTF8Bytes.replacingAll(literal, with: content, in: bytes) }
        let found = matches(in: bytes)
        if found.isEmpty { return bytes }
        var out: [UInt8] = []
        var last = 0
        for range in found {
            out.append(contentsOf: bytes[last..<range.lowerBound])
            out.append(contentsOf: content)
            last = range.upperBound
        }
        out.append(contentsOf: bytes[last...])
        return out
    }

    /// Cuts `bytes` at the matches into a covering list of pieces.
    func pieces(of bytes: [UInt8]) -> [(range: Range<Int>, isMatch: Bool)] {
        if bytes.isEmpty { return [(0..<0, false)] }
        var pieces: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = 0
        for match in matches(in: bytes) {
            if previous != match.lowerBound { pieces.append((previous..<match.lowerBound, false)) }
            pieces.append((match, true))
            previous = match.upperBound
        }
        if previous != bytes.count { pieces.append((previous..<bytes.count, false)) }
        return pieces
    }
}

/// A compiled regular expression (immutable, and documented as safe to share between threads).
final class CompiledRegex: @unchecked Sendable {
    let expression: NSRegularExpression

    init(_ expression: NSRegularExpression) { self.expression = expression }

    /// Matches as UTF-8 byte ranges (ICU reports UTF-16 offsets).
    func matches(in bytes: [UInt8]) -> [Range<Int>] {
        let text = UTF8Bytes.string(bytes)
        // utf8Offset[k] is the UTF-8 offset of UTF-16 offset k.
        var utf8Offset: [Int] = [0]
        utf8Offset.reserveCapacity(bytes.count + 1)
        var position = 0
        for scalar in text.unicodeScalars {
            position += UTF8.width(scalar)
            if UTF16.width(scalar) == 2 { utf8Offset.append(position) }
            utf8Offset.append(position)
        }
        let whole = NSRange(location: 0, length: utf8Offset.count - 1)
        return expression.matches(in: text, range: whole).compactMap { match in
            let range = match.range
            guard range.location != NSNotFound, range.location + range.length < utf8Offset.count else { return nil }
            return utf8Offset[range.location]..<utf8Offset[range.location + range.length]
        }
    }
}
