/// The `decoder` stage: turns token strings back into text.
///
/// Like `tokenizers`, each decoder maps the list of token strings to a new list (`decodeChain`), so
/// they compose in a `Sequence`; the final text is the concatenation.
protocol TokenDecoder: Sendable {
    func decodeChain(_ tokens: [String]) -> [String]
}

/// Builds decoders from their `tokenizer.json` configuration.
enum DecoderFactory {
    static let supported = ["Sequence", "Replace", "ByteFallback", "Fuse", "Strip", "Metaspace", "ByteLevel"]

    static func make(_ config: ConfigNode) throws -> any TokenDecoder {
        let type = try config.typeName()
        switch type {
        case "Sequence":
            return DecoderSequence(stages: try config.required("decoders").array().map(make))
        case "Replace":
            return ReplaceDecoder(pattern: try TextPattern(config.required("pattern"), stage: "decoder Replace"),
                                  content: UTF8Bytes.of(try config.string("content")))
        case "ByteFallback":
            return ByteFallbackDecoder()
        case "Fuse":
            return FuseDecoder()
        case "Strip":
            let contentNode = try config.required("content")
            let content = try contentNode.string()
            guard content.unicodeScalars.count == 1, let scalar = content.unicodeScalars.first else {
                throw contentNode.unusable("a single character, found '\(content)'")
            }
            return StripDecoder(content: scalar, start: try config.int("start"), stop: try config.int("stop"))
        case "Metaspace":
            let pre = try MetaspacePreTokenizer(config)
            return MetaspaceDecoder(replacement: UTF8Bytes.string(pre.replacement),
                                    dropsFirstReplacement: pre.prependScheme != .never)
        case "ByteLevel":
            return ByteLevelDecoder()
        default:
            throw config.unsupported(type, section: "decoder", supported: supported)
        }
    }
}

struct DecoderSequence: TokenDecoder {
    let stages: [any TokenDecoder]

    func decodeChain(_ tokens: [String]) -> [String] {
        stages.reduce(tokens) { $1.decodeChain($0) }
    }
}

/// Replaces a pattern in every token (`▁` → space).
struct ReplaceDecoder: TokenDecoder {
    let pattern: TextPattern
    let content: [UInt8]

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { UTF8Bytes.string(pattern.replacingAll(in: UTF8Bytes.of($0), with: content)) }
    }
}

/// Joins runs of `<0xXX>` tokens into the text their bytes spell; a run that is not valid UTF-8
/// becomes one U+FFFD per byte.
struct ByteFallbackDecoder: TokenDecoder {
    /// The byte a `<0xXX>` token stands for (hex parsed as Rust's `u8::from_str_radix` does).
    static func byteValue(_ token: String) -> UInt8? {
        let bytes = UTF8Bytes.of(token)
        guard bytes.count == 6, bytes.starts(with: UTF8Bytes.of("<0x")), bytes[5] == UInt8(ascii: ">") else {
            return nil
        }
        var digits = bytes[3..<5]
        if digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        var value: UInt32 = 0
        for digit in digits {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value * 16 + UInt32(digit - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value * 16 + UInt32(digit - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = value * 16 + UInt32(digit - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }
        return digits.isEmpty ? nil : UInt8(value)
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                out.append(text)
            } else {
                out.append(contentsOf: Array(repeating: "\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for token in tokens {
            if let byte = Self.byteValue(token) {
                pending.append(byte)
            } else {
                flush()
                out.append(token)
            }
        }
        flush()
        return out
    }
}

/// Concatenates all tokens into one.
struct FuseDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

/// Removes up to `start` leading and `stop` trailing copies of a character from every token.
struct StripDecoder: TokenDecoder {
    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let scalars = Array(token.unicodeScalars)
            var startCut = 0
            while startCut < min(start, scalars.count), scalars[startCut] == content { startCut += 1 }
            var stopCut = scalars.count
            var removed = 0
            while removed < stop, stopCut > startCut, scalars[stopCut - 1] == content {
                stopCut -= 1
                removed += 1
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[startCut..<stopCut])
            return String(view)
        }
    }
}

/// Turns `▁` back into spaces; with a prepend scheme, the first token loses its `▁` entirely
/// (as `tokenizers` does: every `▁` of token 0 is dropped, not only a leading one).
struct MetaspaceDecoder: TokenDecoder {
    let replacement: String
    let dropsFirstReplacement: Bool

    func decodeChain(_ tokens: [String]) -> [String] {
        let marker = UTF8Bytes.of(replacement)
        return tokens.enumerated().map { index, token in
            let with: [UInt8] = (index == 0 && dropsFirstReplacement) ? [] : [0x20]
            return UTF8Bytes.string(UTF8Bytes.replacingAll(marker, with: with, in: UTF8Bytes.of(token)))
        }
    }
}

/// Maps byte-level alphabet characters back to bytes and the bytes to text (lossy, as
/// `String::from_utf8_lossy`).
struct ByteLevelDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens {
            var mapped: [UInt8] = []
            var complete = true
            for scalar in token.unicodeScalars {
                guard let byte = ByteLevelAlphabet.byteForCharacter[scalar] else {
                    complete = false
                    break
                }
                mapped.append(byte)
            }
            bytes.append(contentsOf: complete ? mapped : UTF8Bytes.of(token))
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}
