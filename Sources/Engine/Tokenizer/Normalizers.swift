import Foundation

/// The `normalizer` stage: rewrites text before pre-tokenization (`tokenizer.json` → `normalizer`).
protocol TextNormalizer: Sendable {
    func normalize(_ text: [UInt8]) -> [UInt8]
}

/// Builds normalizers from their `tokenizer.json` configuration.
enum NormalizerFactory {
    static let supported = ["Sequence", "Prepend", "Replace", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip"]

    static func make(_ config: ConfigNode) throws -> any TextNormalizer {
        let type = try config.typeName()
        switch type {
        case "Sequence":
            return NormalizerSequence(stages: try config.required("normalizers").array().map(make))
        case "Prepend":
            return PrependNormalizer(prefix: UTF8Bytes.of(try config.string("prepend")))
        case "Replace":
            return ReplaceNormalizer(
                pattern: try TextPattern(config.required("pattern"), stage: "normalizer Replace"),
                content: UTF8Bytes.of(try config.string("content")))
        case "NFC", "NFD", "NFKC", "NFKD":
            return UnicodeNormalizer(form: UnicodeNormalizer.Form(rawValue: type) ?? .nfc)
        case "Lowercase":
            return LowercaseNormalizer()
        case "Strip":
            return StripNormalizer(left: try config.bool("strip_left", default: true),
                                   right: try config.bool("strip_right", default: true))
        default:
            throw config.unsupported(type, section: "normalizer", supported: supported)
        }
    }
}

/// Applies several normalizers in order.
struct NormalizerSequence: TextNormalizer {
    let stages: [any TextNormalizer]

    func normalize(_ text: [UInt8]) -> [UInt8] {
        stages.reduce(text) { $1.normalize($0) }
    }
}

/// Prepends a fixed string to non-empty text (Llama's `▁`).
struct PrependNormalizer: TextNormalizer {
    let prefix: [UInt8]

    func normalize(_ text: [UInt8]) -> [UInt8] {
        text.isEmpty ? text : prefix + text
    }
}

/// Replaces every match of a pattern (SentencePiece's `" "` → `"▁"`).
struct ReplaceNormalizer: TextNormalizer {
    let pattern: TextPattern
    let content: [UInt8]

    func normalize(_ text: [UInt8]) -> [UInt8] {
        pattern.replacingAll(in: text, with: content)
    }
}

/// Unicode normalization forms, through Foundation.
struct UnicodeNormalizer: TextNormalizer {
    enum Form: String, Sendable { case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD" }
    let form: Form

    func normalize(_ text: [UInt8]) -> [UInt8] {
        let string = UTF8Bytes.string(text)
        let result: String
        switch form {
        case .nfc: result = string.precomposedStringWithCanonicalMapping
        case .nfd: result = string.decomposedStringWithCanonicalMapping
        case .nfkc: result = string.precomposedStringWithCompatibilityMapping
        case .nfkd: result = string.decomposedStringWithCompatibilityMapping
        }
        return UTF8Bytes.of(result)
    }
}

/// Full Unicode lowercase mapping.
struct LowercaseNormalizer: TextNormalizer {
    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out = ""
        for scalar in UTF8Bytes.string(text).unicodeScalars {
            out += scalar.properties.lowercaseMapping
        }
        return UTF8Bytes.of(out)
    }
}

/// Removes leading and/or trailing whitespace.
struct StripNormalizer: TextNormalizer {
    let left: Bool
    let right: Bool

    func normalize(_ text: [UInt8]) -> [UInt8] {
        var start = 0
        var end = text.count
        if left {
            while start < end {
                let (scalar, length) = UTF8Bytes.scalar(in: text, at: start)
                guard UTF8Bytes.isWhitespace(scalar) else { break }
                start += length
            }
        }
        if right {
            while end > start {
                let (scalar, scalarStart) = UTF8Bytes.scalar(in: text, endingAt: end)
                guard UTF8Bytes.isWhitespace(scalar) else { break }
                end = scalarStart
            }
        }
        return Array(text[start..<end])
    }
}
