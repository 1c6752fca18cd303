/// One entry of `tokenizer.json`'s `added_tokens`.
public struct AddedToken: Sendable, Equatable {
    public let id: Int
    public let content: String
    /// Special tokens are dropped by `decode(skipSpecialTokens: true)`.
    public let special: Bool
    /// Matched only when not touching word characters on either side.
    public let singleWord: Bool
    /// Absorbs the whitespace before it.
    public let leftStrip: Bool
    /// Absorbs the whitespace after it.
    public let rightStrip: Bool
    /// Matched in the normalized text (its content normalized too) rather than the raw text.
    public let normalized: Bool
}

/// Finds added tokens in text before the model sees it, as `tokenizers`' `AddedVocabulary` does.
///
/// Tokens with `normalized: false` are found in the raw input; the remaining pieces are normalized,
/// then searched for the normalized tokens. Matching is leftmost-longest and non-overlapping; a
/// match rejected by `single_word` still consumes its text from the search.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    let rawMatcher: TokenMatcher
    let normalizedMatcher: TokenMatcher
    /// Contents of special tokens, byte-exact.
    let specialContents: Set<[UInt8]>
    /// The token string of each added id, as decoding sees it: `tokenizers` keeps a normalized
    /// token under its normalized content (so "[MASK]" behind a Lowercase normalizer decodes as
    /// "[mask]", and, no longer spelling a special token, survives `skipSpecialTokens`).
    let contentByID: [Int: String]

    init(tokens: [AddedToken], normalizer: (any TextNormalizer)?) {
        self.tokens = tokens
        var raw: [([UInt8], AddedToken)] = []
        var normalized: [([UInt8], AddedToken)] = []
        var contentByID: [Int: String] = [:]
        for token in tokens {
            let content = UTF8Bytes.of(token.content)
            // `tokenizers` partitions on the `normalized` flag alone (special or not).
            if token.normalized {
                let normalizedContent = normalizer?.normalize(content) ?? content
                normalized.append((normalizedContent, token))
                if contentByID[token.id] == nil { contentByID[token.id] = UTF8Bytes.string(normalizedContent) }
            } else {
                raw.append((content, token))
                if contentByID[token.id] == nil { contentByID[token.id] = token.content }
            }
        }
        rawMatcher = TokenMatcher(raw)
        normalizedMatcher = TokenMatcher(normalized)
        specialContents = Set(tokens.filter(\.special).map { UTF8Bytes.of($0.content) })
        self.contentByID = contentByID
    }

    func isSpecial(_ content: String) -> Bool { specialContents.contains(UTF8Bytes.of(content)) }
}

/// Either a piece of text still to be tokenized or an added token already found.
enum AddedSplit {
    case text(TextSegment)
    case token(Int)
}

/// Leftmost-longest search for a set of byte patterns (a trie walked from every start position).
struct TokenMatcher: Sendable {
    private var children: [[UInt8: Int32]] = [[:]]
    private var terminals: [AddedToken?] = [nil]

    init(_ patterns: [([UInt8], AddedToken)]) {
        for (bytes, token) in patterns where !bytes.isEmpty {
            var node = 0
            for byte in bytes {
                if let next = children[node][byte] {
                    node = Int(next)
                } else {
                    children.append([:])
                    terminals.append(nil)
                    children[node][byte] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            // With duplicate contents the first entry wins.
            if terminals[node] == nil { terminals[node] = token }
        }
    }

    var isEmpty: Bool { children[0].isEmpty }

    /// Non-overlapping leftmost-longest matches in `bytes`.
    func matches(in bytes: [UInt8]) -> [(range: Range<Int>, token: AddedToken)] {
        var found: [(range: Range<Int>, token: AddedToken)] = []
        var start = 0
        let root = children[0]
        while start < bytes.count {
            guard var node = root[bytes[start]].map(Int.init) else {
                start += 1
                continue
            }
            var best: (end: Int, token: AddedToken)?
            var index = start + 1
            while true {
                if let token = terminals[node] { best = (index, token) }
                guard index < bytes.count, let next = children[node][bytes[index]] else { break }
                node = Int(next)
                index += 1
            }
            if let best {
                found.append((start..<best.end, best.token))
                start = best.end
            } else {
                start += 1
            }
        }
        return found
    }

    /// Cuts `segment` at the added tokens it contains, applying the tokens' flags.
    func split(_ segment: TextSegment) -> [AddedSplit] {
        let bytes = segment.bytes
        if bytes.isEmpty { return [] }
        if isEmpty { return [.text(segment)] }
        var out: [AddedSplit] = []
        var consumed = 0
        func text(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            out.append(.text(TextSegment(bytes: Array(bytes[range]),
                                         startsInput: segment.startsInput && range.lowerBound == 0)))
        }
        for (range, token) in matches(in: bytes) {
            var start = range.lowerBound
            var stop = range.upperBound
            if token.singleWord {
                let wordBefore = start > 0 && UTF8Bytes.isWordCharacter(UTF8Bytes.scalar(in: bytes, endingAt: start).0)
                let wordAfter = stop < bytes.count && UTF8Bytes.isWordCharacter(UTF8Bytes.scalar(in: bytes, at: stop).0)
                if wordBefore || wordAfter { continue }
            }
            if token.leftStrip {
                var newStart = start
                while newStart > 0 {
                    let (scalar, scalarStart) = UTF8Bytes.scalar(in: bytes, endingAt: newStart)
                    guard UTF8Bytes.isWhitespace(scalar) else { break }
                    newStart = scalarStart
                }
                // Whitespace already taken by the previous match stays there.
                start = max(newStart, consumed)
            }
            if token.rightStrip {
                while stop < bytes.count {
                    let (scalar, length) = UTF8Bytes.scalar(in: bytes, at: stop)
                    guard UTF8Bytes.isWhitespace(scalar) else { break }
                    stop += length
                }
            }
            text(consumed..<start)
            out.append(.token(token.id))
            consumed = stop
        }
        text(consumed..<bytes.count)
        return out
    }
}
