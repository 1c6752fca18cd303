import Dispatch

/// Attention for a few queries (decode) straight from half-precision keys and values.
///
/// Each stored row is widened once into a small buffer and used by every query head of its KV
/// group, so a decode step reads the f16 cache once instead of widening the whole history to a
/// Float32 copy first. KV heads run in parallel when there is enough work.
enum HalfAttention {
    static func attend(
        queries: UnsafePointer<Float>, queryCount: Int, heads: Int,
        keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>, layout: KVLayout, tokenCount: Int, kvHeads: Int,
        headDim: Int, scale: Float, output: UnsafeMutablePointer<Float>, scratch: AttentionScratch
    ) {
        precondition(heads % kvHeads == 0, "heads must be a multiple of kvHeads")
        // Per KV head: its rows widened [tokenCount, headDim] and its score lanes [group·queries, tokenCount].
        let rowsPerHead = max(1, tokenCount * headDim)
        let scoresPerHead = max(1, heads / kvHeads * queryCount * tokenCount)
        let job = HalfGroupJob(
            queries: queries, keys: keys, values: values, output: output, layout: layout, queryCount: queryCount, heads: heads,
            tokenCount: tokenCount, kvHeads: kvHeads, headDim: headDim, scale: scale,
            rowBuffers: scratch.floats(0, count: kvHeads * rowsPerHead), rowsPerHead: rowsPerHead,
            scoreBuffers: scratch.floats(1, count: kvHeads * scoresPerHead), scoresPerHead: scoresPerHead)
        if kvHeads > 1 && heads * queryCount * tokenCount * headDim >= 1 << 16 {
            KernelThreads.parallelFor(kvHeads) { job.run(kvHead: $0) }
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
    let layout: KVLayout
    let queryCount, heads, tokenCount, kvHeads, headDim: Int
    let scale: Float
    let rowBuffers: UnsafeMutablePointer<Float>
    let rowsPerHead: Int
    let scoreBuffers: UnsafeMutablePointer<Float>
    let scoresPerHead: Int

    func run(kvHead g: Int) {
        let group = heads / kvHeads
        let d = headDim
        let queryStride = heads * d
        let lanes = group * queryCount  // lane = i * group + h
        // The head's keys (then values) widened in one streaming pass: [tokenCount, headDim].
        let rows = rowBuffers + g * rowsPerHead
        let scores = scoreBuffers + g * scoresPerHead
        precondition(lanes * tokenCount <= scoresPerHead)
        func visible(_ i: Int) -> Int { tokenCount - queryCount + i + 1 }
        func query(_ i: Int, _ h: Int) -> UnsafePointer<Float> { queries + i * queryStride + (g * group + h) * d }
        func out(_ i: Int, _ h: Int) -> UnsafeMutablePointer<Float> { output + i * queryStride + (g * group + h) * d }

        widenRows(keys + g * layout.headStride, into: rows)
        for t in 0..<tokenCount {
            let key = rows + t * d
            for i in 0..<queryCount where t < visible(i) {
                for h in 0..<group {
                    scores[(i * group + h) * tokenCount + t] = AttentionMath.dot(query(i, h), key, d) * scale
                }
            }
        }
        for i in 0..<queryCount {
            for h in 0..<group {
                let s = scores + (i * group + h) * tokenCount
                let count = visible(i)
                var maximum = -Float.infinity
                for t in 0..<count { maximum = max(maximum, s[t]) }
                let inverse = 1 / AttentionMath.exponentiate(s, count: count, maximum: maximum)
                for t in 0..<count { s[t] *= inverse }
                let o = out(i, h)
                for k in 0..<d { o[k] = 0 }
            }
        }
        widenRows(values + g * layout.headStride, into: rows)
        for t in 0..<tokenCount {
            let value = rows + t * d
            for i in 0..<queryCount where t < visible(i) {
                for h in 0..<group {
                    AttentionMath.accumulate(scores[(i * group + h) * tokenCount + t], value, into: out(i, h), d)
                }
            }
        }
    }

    /// Widens `tokenCount` rows of one head into a dense `[tokenCount, headDim]` buffer.
    private func widenRows(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>) {
        if layout.rowStride == headDim {
            HalfConversion.widen(source, into: destination, count: tokenCount * headDim)
        } else {
            for t in 0..<tokenCount {
                HalfConversion.widen(source + t * layout.rowStride, into: destination + t * headDim, count: headDim)
            }
        }
    }
}
