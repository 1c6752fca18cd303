/// How a chunk of keys or values `[tokens, kvHeads, headDim]` is divided into quantization groups.
public enum KVGroupLayout: Sendable, Hashable {
    /// One group for the whole chunk (GEAR's `uniformquantization`: one min/max over B·H·T·d).
    case perTensor
    /// One group per (token, head) vector of `headDim` values.
    case perToken
    /// FlexGen / GEAR's `groupquantization`: one group per head_dim index, shared by every token
    /// and head of the chunk (`headDim` groups).
    case headDimIndex
    /// Keys, KIVI: for each (head, channel), groups of `groupSize` consecutive tokens.
    case channelsOverTokens(groupSize: Int)
    /// Values, KIVI: for each token, groups of `groupSize` consecutive values of the flattened
    /// `kvHeads·headDim` vector (the last group of a token may be shorter).
    case tokensOverChannels(groupSize: Int)

    /// Number of groups for a chunk of the given shape.
    public func groupCount(tokens: Int, heads: Int, dim: Int) -> Int {
        switch self {
        case .perTensor: return tokens > 0 ? 1 : 0
        case .perToken: return tokens * heads
        case .headDimIndex: return tokens > 0 ? dim : 0
        case .channelsOverTokens(let g): return (tokens + g - 1) / g * heads * dim
        case .tokensOverChannels(let g): return tokens * ((heads * dim + g - 1) / g)
        }
    }

    /// Group of element (token `t`, head `h`, channel `c`).
    @inline(__always)
    public func group(t: Int, h: Int, c: Int, heads: Int, dim: Int) -> Int {
        switch self {
        case .perTensor: return 0
        case .perToken: return t * heads + h
        case .headDimIndex: return c
        case .channelsOverTokens(let g): return ((t / g) * heads + h) * dim + c
        case .tokensOverChannels(let g):
            let perToken = (heads * dim + g - 1) / g
            return t * perToken + (h * dim + c) / g
        }
    }
}

/// Which values of a KV chunk are kept exactly as sparse fp16 outliers.
public enum KVOutlierRule: Sendable, Hashable {
    case none
    /// The `⌊N·fraction/2⌋` smallest and largest of all N values of the chunk (GEAR's
    /// `outlierquantization`, dense-and-sparse).
    case perTensor(fraction: Double)
    /// Keys in GEAR: for each (head, channel) row over the chunk's T tokens, the `⌊T·fraction/2⌋`
    /// smallest and largest.
    case perChannel(fraction: Double)
    /// Values in GEAR: for each token over its `kvHeads·headDim` values, the
    /// `⌊H·d·fraction/2⌋` smallest and largest.
    case perToken(fraction: Double)

    /// Flattened positions of the outliers of a chunk.
    func select(_ x: UnsafeBufferPointer<Float>, tokens: Int, heads: Int, dim: Int) -> [Int] {
        let width = heads * dim
        switch self {
        case .none:
            return []
        case .perTensor(let fraction):
            let n = Int(Double(x.count) * fraction / 2)
            return SparseOutliers.extremes(count: x.count, n: n) { x[$0] }
        case .perChannel(let fraction):
            let n = Int(Double(tokens) * fraction / 2)
            guard n > 0 else { return [] }
            var all: [Int] = []
            for j in 0..<width {
                let rows = SparseOutliers.extremes(count: tokens, n: n) { x[$0 * width + j] }
                all.append(contentsOf: rows.map { $0 * width + j })
            }
            return all
        case .perToken(let fraction):
            let n = Int(Double(width) * fraction / 2)
            guard n > 0 else { return [] }
            var all: [Int] = []
            for t in 0..<tokens {
                let cols = SparseOutliers.extremes(count: width, n: n) { x[t * width + $0] }
                all.append(contentsOf: cols.map { t * width + $0 })
            }
            return all
        }
    }
}
