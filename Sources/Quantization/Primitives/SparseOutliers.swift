/// Values kept exactly (as fp16) next to a quantized dense part: the "sparse" of dense-and-sparse.
///
/// Indices are positions in the flattened tensor, ascending; values are fp16.
public struct SparseOutliers: Sendable, Hashable {
    public private(set) var indices: [UInt32]
    public private(set) var values: [Float16]

    public init() {
        indices = []
        values = []
    }

    /// Keeps `source[i]` (rounded to fp16) for every `i` in `positions`.
    init(positions: [Int], source: UnsafeBufferPointer<Float>) {
        let sorted = positions.sorted()
        indices = sorted.map { UInt32($0) }
        values = sorted.map { Float16(source[$0]) }
    }

    public var count: Int { indices.count }

    /// Appends `other`'s outliers with their indices shifted by `offset`.
    mutating func append(_ other: SparseOutliers, offset: Int) {
        indices += other.indices.map { $0 + UInt32(offset) }
        values += other.values
    }

    /// fp16 value + 32-bit index per outlier.
    public var byteCount: Int { indices.count * (2 + 4) }

    /// Positions of the `n` smallest and `n` largest of `count` values read by `value(i)`.
    ///
    /// Ties go to the lower index (a stable sort), so the choice is deterministic. `n` is capped at
    /// `count/2` so the two sets never overlap.
    static func extremes(count: Int, n: Int, value: (Int) -> Float) -> [Int] {
        let n = min(n, count / 2)
        guard n > 0 else { return [] }
        var order = Array(0..<count)
        let keys = order.map(value)
        order.sort { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        return Array(order[0..<n]) + Array(order[(count - n)...])
    }
}
