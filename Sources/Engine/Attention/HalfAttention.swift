import Dispatch

/// Attention for a few queries (decode) straight from half-precision keys and values.
///
/// Each stored row is widened once into a small buffer and used by every query head of its KV
/// group, so a decode step reads the f16 cache once instead of widening the whole history to a
/// Float32 copy first. KV heads run in parallel when there is enough work.
enum HalfAttention {
    static func attend(
        queries: UnsafePointer<Float>, queryCount: Int, heads: Int,
        keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>, tokenCount: Int, kvHeads: Int, headDim: Int,
        scale: Float, output: UnsafeMutablePointer<Float>
    ) {
        precondition(heads % kvHeads == 0, "heads must be a multiple of kvHeads")
        let job = HalfGroupJob(
            queries: queries, keys: keys, values: values, output: output, queryCount: queryCount, heads: heads,
            tokenCount: tokenCount, kvHeads: kvHeads, headDim: headDim, scale: scale)
        if kvHeads > 1 && heads * queryCount * tokenCount * headDim >= 1 << 16 {
            DispatchQueue.concurrentPerform(iterations: kvHeads) { job.run(kvHead: $0) }
        } else {
            for g in 0..<kvHeads { job.run(kvHead: g) }
        }
    }
}

/// One KV head's share of `HalfAttention.attend`: its group of query heads × the queries.
private struct HalfGroupJob: @unchecked Sendable {
    let queries: UnsafePointer<Float>
    let keys: UnsafePointer<UInt16>
    let values: UnsafePointer<UInt16>
    let output: UnsafeMutablePointer<Float>
    let queryCount, heads, tokenCount, kvHeads, headDim: Int
    let scale: Float

    func run(kvHead g: Int) {
        let group = heads / kvHeads
        let d = headDim
        let rowStride = kvHeads * d
        let queryStride = heads * d
        let lanes = group * queryCount  // lane = i * group + h
        let row = UnsafeMutablePointer<Float>.allocate(capacity: d)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: lanes * tokenCount)
        defer {
            row.deallocate()
            scores.deallocate()
        }
        func visible(_ i: Int) -> Int { tokenCount - queryCount + i + 1 }
        func query(_ i: Int, _ h: Int) -> UnsafePointer<Float> { queries + i * queryStride + (g * group + h) * d }
        func out(_ i: Int, _ h: Int) -> UnsafeMutablePointer<Float> { output + i * queryStride + (g * group + h) * d }

        for t in 0..<tokenCount {
            HalfConversion.widen(keys + t * rowStride + g * d, into: row, count: d)
            for i in 0..<queryCount where t < visible(i) {
                for h in 0..<group {
                    scores[(i * group + h) * tokenCount + t] = AttentionMath.dot(query(i, h), row, d) * scale
                }
            }
        }
        for i in 0..<queryCount {
            for h in 0..<group {
                let s = scores + (i * group + h) * tokenCount
                let count = visible(i)
                var maximum = -Float.infinity
                for t in 0..<count { maximum = max(maximum, s[t]) }
                var sum: Float = 0
                for t in 0..<count {
                    let e = (s[t] - maximum).exponential
                    s[t] = e
                    sum += e
                }
                let inverse = 1 / sum
                for t in 0..<count { s[t] *= inverse }
                let o = out(i, h)
                for k in 0..<d { o[k] = 0 }
            }
        }
        for t in 0..<tokenCount {
            HalfConversion.widen(values + t * rowStride + g * d, into: row, count: d)
            for i in 0..<queryCount where t < visible(i) {
                for h in 0..<group {
                    AttentionMath.accumulate(scores[(i * group + h) * tokenCount + t], row, into: out(i, h), d)
                }
            }
        }
    }
}
