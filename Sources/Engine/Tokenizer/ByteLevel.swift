/// GPT-2's byte-level alphabet: every byte is shown as a printable character so that BPE can
/// work on any input without unknown tokens.
enum ByteLevelAlphabet {
    /// The character each byte value stands for.
    static let characterForByte: [Unicode.Scalar] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var scalars = [Unicode.Scalar](repeating: " ", count: 256)
        for byte in printable { scalars[byte] = Unicode.Scalar(UInt32(byte))! }
        var next: UInt32 = 256
        for byte in 0..<256 where !printable.contains(byte) {
            scalars[byte] = Unicode.Scalar(next)!
            next += 1
            printable.append(byte)
        }
        return scalars
    }()

    /// The byte each alphabet character stands for.
    static let byteForCharacter: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in characterForByte.enumerated() { map[scalar] = UInt8(byte) }
        return map
    }()

    /// UTF-8 of `bytes` spelled in the byte-level alphabet.
    static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes { out.append(contentsOf: String(characterForByte[Int(byte)]).utf8) }
        return out
    }
}

/// GPT-2's pre-tokenizer: splits with its word regex, then maps bytes to the byte-level alphabet.
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool

    func split(_ segment: TextSegment) -> [TextSegment] {
        var bytes = segment.bytes
        if addPrefixSpace, bytes.first != 0x20 { bytes.insert(0x20, at: 0) }
        let ranges = useRegex ? Self.wordRanges(bytes) : [0..<bytes.count]
        return ranges.filter { !$0.isEmpty }.map {
            TextSegment(bytes: ByteLevelAlphabet.encode(bytes[$0]),
                        startsInput: segment.startsInput && $0.lowerBound == 0)
        }
    }

    /// Byte ranges matched by
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
    /// written out by hand (alternatives tried in order at each position, as a backtracking engine does).
    static func wordRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var scalars: [Unicode.Scalar] = []
        var offsets: [Int] = []
        var index = 0
        while index < bytes.count {
            let (scalar, length) = UTF8Bytes.scalar(in: bytes, at: index)
            scalars.append(scalar)
            offsets.append(index)
            index += length
        }
        offsets.append(bytes.count)
        enum Class { case letter, number, space, other }
        let classes: [Class] = scalars.map { scalar in
            let properties = scalar.properties
            if properties.isWhitespace { return .space }
            switch properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
            case .decimalNumber, .letterNumber, .otherNumber: return .number
            default: return .other
            }
        }
        let n = scalars.count
        var ranges: [Range<Int>] = []
        var i = 0
        func run(from start: Int, of kind: Class) -> Int {
            var end = start
            while end < n, classes[end] == kind { end += 1 }
            return end
        }
        while i < n {
            var end = i
            if scalars[i] == "'", i + 1 < n {
                let a = scalars[i + 1]
                let b: Unicode.Scalar? = i + 2 < n ? scalars[i + 2] : nil
                if a == "s" || a == "t" || a == "m" || a == "d" {
                    end = i + 2
                } else if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") {
                    end = i + 3
                }
            }
            if end == i {
                let start = (scalars[i] == " " && i + 1 < n && classes[i + 1] != .space) ? i + 1 : i
                if classes[start] != .space {
                    end = run(from: start, of: classes[start])
                } else {
                    let runEnd = run(from: i, of: .space)
                    if runEnd == n || runEnd - i < 2 {
                        end = runEnd
                    } else {
                        end = runEnd - 1
                    }
                }
            }
            ranges.append(offsets[i]..<offsets[end])
            i = end
        }
        return ranges
    }
}
