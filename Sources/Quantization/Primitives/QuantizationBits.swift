/// A supported code width: 2, 3, 4 or 8 bits per quantized value.
public enum QuantizationBits: Int, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case two = 2
    case three = 3
    case four = 4
    case eight = 8

    /// `L = 2^b − 1`, the largest code (the correct level count; see docs on GEAR's `b²−1`).
    public var maxCode: Int { (1 << rawValue) - 1 }

    /// Codes stored per 32-bit word: `32 / b` rounded down (10 for 3 bits; the top 2 bits unused).
    public var codesPerWord: Int { 32 / rawValue }

    public var description: String { String(rawValue) }
}
