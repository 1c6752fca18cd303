/// The synthetic suite's only source of randomness: SplitMix64 (Steele, Lea and Flood 2014).
///
/// The suite must come out byte-identical for a seed on every machine and Swift release, so it
/// never touches the system generator nor the standard library's `random(in:using:)` (whose
/// algorithm is not a documented contract); every draw goes through the methods below.
public struct SyntheticRandom: Sendable {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    /// A generator for one named part of a seeded whole, independent of every other part.
    ///
    /// Deriving streams by name keeps, say, the spatial probe's scenes the same when another
    /// probe's size or logic changes.
    public init(seed: UInt64, stream: String, index: Int = 0) {
        var mixer = SyntheticRandom(seed: seed)
        var value = mixer.next()
        for byte in stream.utf8 {
            var step = SyntheticRandom(seed: value ^ UInt64(byte))
            value = step.next()
        }
        var indexed = SyntheticRandom(seed: value ^ UInt64(bitPattern: Int64(index)))
        generator = SplitMix64(seed: indexed.next())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 { generator.next() }

    /// A uniform integer in `0 ..< bound` (`bound` > 0), without modulo bias (rejection sampling).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "below(_:) needs a positive bound")
        let limit = UInt64(bound)
        let threshold = (0 &- limit) % limit  // 2^64 mod bound: values under it are rejected
        while true {
            let value = next()
            if value >= threshold { return Int(value % limit) }
        }
    }

    /// A uniform integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// A uniform element of a non-empty collection.
    public mutating func element<C: RandomAccessCollection>(of collection: C) -> C.Element where C.Index == Int {
        collection[collection.startIndex + below(collection.count)]
    }

    /// `items` in a uniformly random order (Fisher–Yates).
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var result = items
        var index = result.count - 1
        while index > 0 {
            result.swapAt(index, below(index + 1))
            index -= 1
        }
        return result
    }

    /// True with probability `numerator / denominator`.
    public mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
        below(denominator) < numerator
    }
}
