import Crypto

/// A SHA-256 digest of the canonical encoding of exactly the inputs that determine a job's output.
///
/// Two jobs with the same key compute the same thing, so the planner runs them once and the
/// result store serves either from the other's result. Keys are made in one place,
/// `ContentKey(_:)` over a `CanonicalValue`, so every key in the project is encoded the same way.
public struct ContentKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    // Four words instead of `[UInt8]`: hashing and comparing keys is on the planner's hot path.
    @usableFromInline let w0, w1, w2, w3: UInt64

    /// The key of a canonical value.
    public init(_ value: CanonicalValue) {
        var encoder = CanonicalEncoder()
        encoder.encode(value)
        self.init(digestOf: encoder.bytes)
    }

    /// The key of an object whose members the caller lists already sorted by key bytes: the same
    /// key as `ContentKey(.object(...))`, without building and sorting a dictionary (the planner
    /// makes several of these per sample and cell).
    init(sortedObject members: KeyValuePairs<String, CanonicalValue>) {
        var encoder = CanonicalEncoder()
        encoder.encodeObject(sorted: members)
        self.init(digestOf: encoder.bytes)
    }

    /// The key of bytes that already are a canonical encoding (or raw content such as a file).
    public init(digestOf bytes: [UInt8]) {
        self.init(digest: SHA256.hash(data: bytes))
    }

    /// Wraps a finished SHA-256 digest.
    public init(digest: SHA256.Digest) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { raw in
            func word(_ index: Int) -> UInt64 {
                var value: UInt64 = 0
                for byte in 0..<8 { value = value << 8 | UInt64(raw[index * 8 + byte]) }
                return value
            }
            words = (word(0), word(1), word(2), word(3))
        }
        (w0, w1, w2, w3) = words
    }

    /// Parses 64 lowercase or uppercase hex digits; nil for anything else.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var words = [UInt64](repeating: 0, count: 4)
        for (index, digit) in digits.enumerated() {
            let nibble: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            words[index / 16] = words[index / 16] << 4 | UInt64(nibble)
        }
        (w0, w1, w2, w3) = (words[0], words[1], words[2], words[3])
    }

    /// The 64 lowercase hex digits of the digest.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 60, through: 0, by: -4) {
                out.append(digits[Int((word >> UInt64(shift)) & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first 12 hex digits, enough to tell keys apart in a printed plan.
    public var short: String { String(hex.prefix(12)) }

    /// The digest is uniformly distributed, so its first word is as good a hash as all four.
    public func hash(into hasher: inout Hasher) { hasher.combine(w0) }

    /// Appends the 32 digest bytes (big-endian words) to a byte buffer.
    func appendBytes(to out: inout [UInt8]) {
        for word in [w0, w1, w2, w3] {
            withUnsafeBytes(of: word.bigEndian) { out.append(contentsOf: $0) }
        }
    }

    public var description: String { hex }

    public static func < (lhs: ContentKey, rhs: ContentKey) -> Bool {
        if lhs.w0 != rhs.w0 { return lhs.w0 < rhs.w0 }
        if lhs.w1 != rhs.w1 { return lhs.w1 < rhs.w1 }
        if lhs.w2 != rhs.w2 { return lhs.w2 < rhs.w2 }
        return lhs.w3 < rhs.w3
    }

    /// Appends the 64 hex digits to a byte buffer without building a `String`.
    func appendHex(to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 64))
        out.withUnsafeMutableBufferPointer { buffer in
            var position = start
            for word in [w0, w1, w2, w3] {
                var shift: UInt64 = 64
                while shift > 0 {
                    shift -= 4
                    let nibble = UInt8(truncatingIfNeeded: (word >> shift) & 0xF)
                    buffer[position] = nibble < 10 ? nibble &+ 48 : nibble &+ 87
                    position += 1
                }
            }
        }
    }
}

/// A value in the canonical form that content keys hash.
///
/// The encoding is canonical JSON: object keys sorted by their UTF-8 bytes, no whitespace,
/// numbers normalised so that `4`, `4.0` and `4e0` are one value, and `-0` is `0`. A
/// `ContentKey` nested in a value encodes as its hex string, so a job's key can include the keys
/// of the jobs it reads from instead of repeating their inputs.
public indirect enum CanonicalValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case key(ContentKey)
    case array([CanonicalValue])
    case object([String: CanonicalValue])

    /// An optional value: `.null` when absent.
    public static func optional<T>(_ value: T?, _ transform: (T) -> CanonicalValue) -> CanonicalValue {
        value.map(transform) ?? .null
    }
}

/// Writes `CanonicalValue`s as canonical JSON bytes.
public struct CanonicalEncoder: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(256) }

    /// Appends the canonical encoding of `value`.
    public mutating func encode(_ value: CanonicalValue) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .integer(let integer): append(String(integer))
        case .number(let number): appendNumber(number)
        case .string(let string): appendString(string)
        case .key(let key):
            bytes.append(UInt8(ascii: "\""))
            key.appendHex(to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                encode(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            // Byte order, not `String`'s Unicode order, so the encoding never depends on the
            // standard library's collation.
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (index, member) in sorted.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(member.key)
                bytes.append(UInt8(ascii: ":"))
                encode(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Appends canonical text written by hand (a fixed part of a key recipe).
    mutating func appendRaw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a key as its canonical encoding (a JSON string of hex digits).
    mutating func appendKey(_ key: ContentKey) {
        bytes.append(UInt8(ascii: "\""))
        key.appendHex(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a string as its canonical encoding.
    mutating func appendStringValue(_ string: String) { appendString(string) }

    /// Appends an object whose members are already in key-byte order (checked in debug builds).
    mutating func encodeObject(sorted members: KeyValuePairs<String, CanonicalValue>) {
        bytes.append(UInt8(ascii: "{"))
        var previous: String?
        for (index, member) in members.enumerated() {
            assert(previous.map { $0.utf8.lexicographicallyPrecedes(member.key.utf8) } ?? true, "members out of order")
            previous = member.key
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendString(member.key)
            bytes.append(UInt8(ascii: ":"))
            encode(member.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Integral values within ±2^53 print as integers; others in Swift's shortest round-trip form.
    private mutating func appendNumber(_ number: Double) {
        if number.isNaN { append("\"nan\""); return }
        if number.isInfinite { append(number < 0 ? "\"-inf\"" : "\"inf\""); return }
        if number == number.rounded(), abs(number) <= 9_007_199_254_740_992 {
            append(String(Int64(number)))
        } else {
            append(String(describing: number))
        }
    }

    private mutating func appendString(_ string: String) { Self.appendJSONString(string, to: &bytes) }

    /// Appends `string` as a JSON string literal, escaping only what JSON requires.
    static func appendJSONString(_ string: String, to bytes: inout [UInt8]) {
        func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
        bytes.append(UInt8(ascii: "\""))
        // Most strings (member names, prompts) need no escaping: copy them in one go.
        let clean = string.utf8.withContiguousStorageIfAvailable { utf8 in
            !utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        }
        if clean == true {
            bytes.append(contentsOf: string.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                append("\\u00")
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension CanonicalValue {
    /// The canonical JSON text of this value (what its `ContentKey` hashes).
    public var canonicalText: String {
        var encoder = CanonicalEncoder()
        encoder.encode(self)
        return String(decoding: encoder.bytes, as: UTF8.self)
    }
}
