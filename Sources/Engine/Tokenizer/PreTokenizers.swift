/// A piece of text on its way to the model.
struct TextSegment: Sendable {
    var bytes: [UInt8]
    /// Whether the piece begins at offset 0 of the original input (Metaspace `prepend_scheme:
    /// first` prepends `▁` only there).
    var startsInput: Bool
}

/// The `pre_tokenizer` stage: splits normalized text into words the model encodes separately.
protocol PreTokenizer: Sendable {
    func split(_ segment: TextSegment) -> [TextSegment]
}

/// Builds pre-tokenizers from their `tokenizer.json` configuration.
enum PreTokenizerFactory {
    static let supported = ["Sequence", "Metaspace", "Split", "ByteLevel", "WhitespaceSplit"]

    static func make(_ config: ConfigNode) throws -> any PreTokenizer {
        let type = try config.typeName()
        switch type {
        case "Sequence":
            return PreTokenizerSequence(stages: try config.required("pretokenizers").array().map(make))
        case "Metaspace":
            return try MetaspacePreTokenizer(config)
        case "Split":
            let invert = try config.bool("invert", default: false)
            return SplitPreTokenizer(
                pattern: try TextPattern(config.required("pattern"), stage: "pre_tokenizer Split"),
                behavior: try SplitBehavior(config.required("behavior")), invert: invert)
        case "ByteLevel":
            return ByteLevelPreTokenizer(addPrefixSpace: try config.bool("add_prefix_space", default: true),
                                         useRegex: try config.bool("use_regex", default: true))
        case "WhitespaceSplit":
            return WhitespaceSplitPreTokenizer()
        default:
            throw config.unsupported(type, section: "pre_tokenizer", supported: supported)
        }
    }
}

/// What `Split` does with the delimiters it finds (`tokenizers`' `SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable, CaseIterable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    init(_ config: ConfigNode) throws {
        let name = try config.string()
        guard let behavior = SplitBehavior(rawValue: name) else {
            throw config.unusable("one of \(SplitBehavior.allCases.map(\.rawValue).joined(separator: ", ")), found '\(name)'")
        }
        self = behavior
    }

    /// Groups the covering list of `(range, isDelimiter)` pieces into the ranges to keep.
    func apply(_ pieces: [(range: Range<Int>, isMatch: Bool)]) -> [Range<Int>] {
        switch self {
        case .removed:
            return pieces.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            return pieces.map(\.range)
        case .mergedWithPrevious:
            var out: [Range<Int>] = []
            var previousMatch = false
            for piece in pieces {
                if piece.isMatch, !previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<piece.range.upperBound
                } else {
                    out.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
            return out
        case .mergedWithNext:
            var reversed: [Range<Int>] = []
            var nextMatch = false
            for piece in pieces.reversed() {
                if piece.isMatch, !nextMatch, let last = reversed.last {
                    reversed[reversed.count - 1] = piece.range.lowerBound..<last.upperBound
                } else {
                    reversed.append(piece.range)
                }
                nextMatch = piece.isMatch
            }
            return reversed.reversed()
        case .contiguous:
            var out: [Range<Int>] = []
            var previousMatch = false
            for (index, piece) in pieces.enumerated() {
                if index > 0, piece.isMatch == previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<piece.range.upperBound
                } else {
                    out.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
            return out
        }
    }
}

/// Turns kept ranges into segments; only the first can still start the input.
func segments(of segment: TextSegment, ranges: [Range<Int>]) -> [TextSegment] {
    ranges.filter { !$0.isEmpty }.map {
        TextSegment(bytes: Array(segment.bytes[$0]), startsInput: segment.startsInput && $0.lowerBound == 0)
    }
}

/// Applies several pre-tokenizers in order, each to every piece the previous one produced.
struct PreTokenizerSequence: PreTokenizer {
    let stages: [any PreTokenizer]

    func split(_ segment: TextSegment) -> [TextSegment] {
        stages.reduce([segment]) { pieces, stage in pieces.flatMap { stage.split($0) } }
    }
}

/// SentencePiece's word boundary marker: spaces become `▁`, optionally prepended, and words are
/// split before each `▁`.
struct MetaspacePreTokenizer: PreTokenizer {
    enum PrependScheme: String, Sendable, CaseIterable { case always, first, never }

    let replacement: [UInt8]
    let prependScheme: PrependScheme
    let splitWords: Bool

    init(replacement: String = "▁", prependScheme: PrependScheme, split: Bool) {
        self.replacement = UTF8Bytes.of(replacement)
        self.prependScheme = prependScheme
        self.splitWords = split
    }

    init(_ config: ConfigNode) throws {
        let replacementNode = try config.required("replacement")
        let replacement = try replacementNode.string()
        guard replacement.unicodeScalars.count == 1 else {
            throw replacementNode.unusable("a single character, found '\(replacement)'")
        }
        let scheme: PrependScheme
        if let node = config.optional("prepend_scheme") {
            let name = try node.string()
            guard let parsed = PrependScheme(rawValue: name) else {
                throw node.unusable("one of always, first, never, found '\(name)'")
            }
            scheme = parsed
        } else {
            // Files written before `prepend_scheme` existed say `add_prefix_space`.
            scheme = try config.bool("add_prefix_space", default: true) ? .always : .never
        }
        self.init(replacement: replacement, prependScheme: scheme, split: try config.bool("split", default: true))
    }

    func split(_ segment: TextSegment) -> [TextSegment] {
        var text = segment
        text.bytes = UTF8Bytes.replacingAll([0x20], with: replacement, in: text.bytes)
        let prepend: Bool
        switch prependScheme {
        case .always: prepend = true
        case .first: prepend = segment.startsInput
        case .never: prepend = false
        }
        if prepend, !text.bytes.starts(with: replacement) {
            text.bytes = replacement + text.bytes
        }
        guard splitWords else { return text.bytes.isEmpty ? [] : [text] }
        let ranges = SplitBehavior.mergedWithNext.apply(TextPattern(literal: UTF8Bytes.string(replacement)).pieces(of: text.bytes))
        return segments(of: text, ranges: ranges)
    }
}

/// Splits on a pattern with one of the five delimiter behaviors.
struct SplitPreTokenizer: PreTokenizer {
    let pattern: TextPattern
    let behavior: SplitBehavior
    let invert: Bool

    func split(_ segment: TextSegment) -> [TextSegment] {
        var pieces = pattern.pieces(of: segment.bytes)
        if invert { pieces = pieces.map { ($0.range, !$0.isMatch) } }
        return segments(of: segment, ranges: behavior.apply(pieces))
    }
}

/// Splits on whitespace runs, dropping them.
struct WhitespaceSplitPreTokenizer: PreTokenizer {
    func split(_ segment: TextSegment) -> [TextSegment] {
        var pieces: [(range: Range<Int>, isMatch: Bool)] = []
        var index = 0
        let bytes = segment.bytes
        while index < bytes.count {
            let (scalar, length) = UTF8Bytes.scalar(in: bytes, at: index)
            let isSpace = UTF8Bytes.isWhitespace(scalar)
            if let last = pieces.last, last.isMatch == isSpace {
                pieces[pieces.count - 1].range = last.range.lowerBound..<index + length
            } else {
                pieces.append((index..<index + length, isSpace))
            }
            index += length
        }
        return segments(of: segment, ranges: SplitBehavior.removed.apply(pieces))
    }
}
