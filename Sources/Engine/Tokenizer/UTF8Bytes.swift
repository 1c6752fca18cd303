import Foundation

/// Byte-level helpers over UTF-8 text.
///
/// The tokenizer works on `[UInt8]` rather than `String`: Hugging Face `tokenizers` (Rust) compares
/// text byte for byte and walks it by Unicode scalar, while Swift `String` compares by canonical
/// equivalence and walks by grapheme cluster. Bytes keep the two in agreement.
enum UTF8Bytes {
    /// The bytes of `text`.
    @inline(__always)
    static func of(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// A `String` made of valid UTF-8 `bytes` (the pipeline only ever holds valid UTF-8).
    @inline(__always)
    static func string(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Number of bytes in the scalar that starts with `lead`.
    @inline(__always)
    static func scalarLength(lead: UInt8) -> Int {
        if lead < 0x80 { return 1 }
        if lead < 0xE0 { return 2 }
        if lead < 0xF0 { return 3 }
        return 4
    }

    /// The scalar starting at `index` and its byte length.
    static func scalar(in bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int) {
        let lead = bytes[index]
        let length = min(scalarLength(lead: lead), bytes.count - index)
        var value: UInt32
        switch length {
        case 1: value = UInt32(lead)
        case 2: value = UInt32(lead & 0x1F)
        case 3: value = UInt32(lead & 0x0F)
        default: value = UInt32(lead & 0x07)
        }
        if length > 1 {
            for k in 1..<length { value = value << 6 | UInt32(bytes[index + k] & 0x3F) }
        }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }

    /// The scalar that ends just before `end` and where it starts.
    static func scalar(in bytes: [UInt8], endingAt end: Int) -> (Unicode.Scalar, Int) {
        var start = end - 1
        while start > 0, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        return (scalar(in: bytes, at: start).0, start)
    }

    /// Whether `pattern` occurs in `bytes` at `index`.
    @inline(__always)
    static func matches(_ bytes: [UInt8], at index: Int, _ pattern: [UInt8]) -> Bool {
        guard index + pattern.count <= bytes.count else { return false }
        for k in 0..<pattern.count where bytes[index + k] != pattern[k] { return false }
        return true
    }

    /// Start offsets of the non-overlapping occurrences of `pattern`, left to right.
    static func occurrences(of pattern: [UInt8], in bytes: [UInt8]) -> [Int] {
        guard !pattern.isEmpty, pattern.count <= bytes.count else { return [] }
        var found: [Int] = []
        var index = 0
        let first = pattern[0]
        while index <= bytes.count - pattern.count {
            if bytes[index] == first, matches(bytes, at: index, pattern) {
                found.append(index)
                index += pattern.count
            } else {
                index += 1
            }
        }
        return found
    }

    /// `bytes` with every non-overlapping occurrence of `pattern` replaced by `replacement`.
    static func replacingAll(_ pattern: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        let hits = occurrences(of: pattern, in: bytes)
        if hits.isEmpty { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + hits.count * max(0, replacement.count - pattern.count))
        var last = 0
        for hit in hits {
            out.append(contentsOf: bytes[last..<hit])
            out.append(contentsOf: replacement)
            last = hit + pattern.count
        }
        out.append(contentsOf: bytes[last...])
        return out
    }

    /// Rust's `char::is_whitespace`: the Unicode White_Space property.
    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace }

    /// A word character as the regex class `\w` defines it (Unicode TR18): alphabetic, marks,
    /// decimal digits, connector punctuation and join controls. `single_word` added tokens use it.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            return true
        default:
            return false
        }
    }
}

/// A token's UTF-8 bytes as a dictionary key, hashed and compared as raw memory (much faster than
/// `[UInt8]`'s element-by-element hashing for vocabularies of 256k entries).
struct TokenBytes: Hashable, Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    init(_ text: String) { bytes = Array(text.utf8) }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (lhs: TokenBytes, rhs: TokenBytes) -> Bool {
        guard lhs.bytes.count == rhs.bytes.count else { return false }
        return lhs.bytes.withUnsafeBytes { left in
            rhs.bytes.withUnsafeBytes { right in
                left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
            }
        }
    }
}
