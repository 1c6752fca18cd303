/// Quantization codes bit-packed into 32-bit words (KIVI layout).
///
/// `32/b` codes share a word; code `j` of a word sits at bits `[b·j, b·j + b)`, lowest index in
/// the lowest bits. For 3 bits a word holds 10 codes in bits 0–29 and bits 30–31 are zero; codes
/// never straddle words, so unpacking is one shift and one mask for every width.
public struct PackedCodes: Sendable, Hashable {
    public let bits: QuantizationBits
    public private(set) var count: Int
    public private(set) var words: [UInt32]

    /// Packs `codes` (each in `0...L`).
    public init<C: Collection>(bits: QuantizationBits, codes: C) where C.Element == UInt8 {
        self.bits = bits
        self.count = codes.count
        let perWord = bits.codesPerWord
        var words = [UInt32](repeating: 0, count: (codes.count + perWord - 1) / perWord)
        var index = 0
        for code in codes {
            precondition(Int(code) <= bits.maxCode, "code out of range for the bit width")
            words[index / perWord] |= UInt32(code) << UInt32(bits.rawValue * (index % perWord))
            index += 1
        }
        self.words = words
    }

    /// Words needed for `count` codes of `bits`.
    public static func wordCount(_ count: Int, bits: QuantizationBits) -> Int {
        (count + bits.codesPerWord - 1) / bits.codesPerWord
    }

    /// Code at `index`.
    @inline(__always)
    public subscript(index: Int) -> Int {
        let perWord = bits.codesPerWord
        let word = words[index / perWord]
        return Int((word >> UInt32(bits.rawValue * (index % perWord))) & UInt32(bits.maxCode))
    }

    /// Appends `other`'s codes after this one's (same width).
    mutating func append(_ other: PackedCodes) {
        precondition(other.bits == bits, "cannot join codes of different widths")
        let perWord = bits.codesPerWord
        if count % perWord == 0 {
            words += other.words
            count += other.count
            return
        }
        words.reserveCapacity(Self.wordCount(count + other.count, bits: bits))
        for i in 0..<other.count {
            let index = count + i
            if index / perWord == words.count { words.append(0) }
            words[index / perWord] |= UInt32(other[i]) << UInt32(bits.rawValue * (index % perWord))
        }
        count += other.count
    }

    /// Bytes of the packed words.
    public var byteCount: Int { words.count * 4 }
}
