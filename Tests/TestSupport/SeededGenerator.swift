/// A small seeded generator (SplitMix64, Steele, Lea and Flood 2014) for reproducible test data.
///
/// Every failure reproduces from its seed. Not the generator under test anywhere: libraries
/// that need one own theirs.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` roughly normal values (a sum of four uniforms, centred), times `scale`.
    public mutating func normal(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in
            var s: Float = 0
            for _ in 0..<4 { s += Float(next() >> 40) * 0x1p-24 }
            return (s - 2) * 1.7 * scale
        }
    }
}
