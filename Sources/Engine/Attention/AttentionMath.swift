import Dispatch

/// Where key/value element (token `t`, KV head `g`, dimension `d`) sits in a buffer:
/// `t·rowStride + g·headStride + d`.
public struct KVLayout: Sendable, Equatable {
    public var rowStride: Int
    public var headStride: Int

    public init(rowStride: Int, headStride: Int) {
        self.rowStride = rowStride
        self.headStride = headStride
    }

    /// `[tokens, kvHeads, headDim]`: the `KVCache` protocol's layout and the projections' output.
    public static func tokenMajor(kvHeads: Int, headDim: Int) -> KVLayout {
        KVLayout(rowStride: kvHeads * headDim, headStride: headDim)
    }

    /// `[kvHeads, capacity, headDim]`: each head's rows contiguous, as the caches store them, so
    /// that reading one head streams through memory instead of jumping a whole row per token.
    public static func headMajor(capacity: Int, headDim: Int) -> KVLayout {
        KVLayout(rowStride: headDim, headStride: capacity * headDim)
    }
}

/// Scaled-dot-product attention over Float32 keys and values, shared by the KV caches and the
/// vision tower.
public enum AttentionMath {
    /// `output = Σₜ softmax(q·kₜ·scale)ₜ · vₜ` over `count` rows of keys/values spaced `rowStride` apart.
    ///
    /// `scores` must hold `count` floats. Dot products and the weighted sum run on 8-wide SIMD with
    /// two accumulators; `attendOneReference` is the scalar twin.
    public static func attendOne(
        query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, rowStride: Int,
        count: Int, headDim: Int, scale: Float, scores: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        var maximum = -Float.infinity
        for t in 0..<count {
            let score = dot(query, keys + t * rowStride, headDim) * scale
            scores[t] = score
            maximum = max(maximum, score)
        }
        let inverse = 1 / exponentiate(scores, count: count, maximum: maximum)
        for d in 0..<headDim { output[d] = 0 }
        for t in 0..<count {
            accumulate(scores[t] * inverse, values + t * rowStride, into: output, headDim)
        }
    }

    /// Scalar twin of `attendOne`: accumulates in plain input order.
    public static func attendOneReference(
        query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, rowStride: Int,
        count: Int, headDim: Int, scale: Float, scores: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        var maximum = -Float.infinity
        for t in 0..<count {
            let k = keys + t * rowStride
            var dot: Float = 0
            for d in 0..<headDim { dot += query[d] * k[d] }
            let score = dot * scale
            scores[t] = score
            maximum = max(maximum, score)
        }
        let inverse = 1 / exponentiate(scores, count: count, maximum: maximum)
        for d in 0..<headDim { output[d] = 0 }
        for t in 0..<count {
            let p = scores[t] * inverse
            let v = values + t * rowStride
            for d in 0..<headDim { output[d] += p * v[d] }
        }
    }

    /// Replaces `scores[0..<count]` by `e^(score − maximum)` and returns their sum: the softmax's
    /// numerators and denominator (in input order, so every attention path rounds alike).
    @inline(__always)
    static func exponentiate(_ scores: UnsafeMutablePointer<Float>, count: Int, maximum: Float) -> Float {
        var sum: Float = 0
        for t in 0..<count {
            let e = (scores[t] - maximum).exponential
            scores[t] = e
            sum += e
        }
        return sum
    }

    /// `Σᵢ a[i]·b[i]` with two 8-wide accumulators (Swift does not reorder float sums itself).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a)
        let rb = UnsafeRawPointer(b)
        var acc0 = SIMD8<Float>()
        var acc1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            acc0 = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + acc0
            acc1 = ra.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self) + acc1
            i += 16
        }
        var sum = (acc0 + acc1).sum()
        while i < n {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// `y[i] += p·x[i]` for `n` values.
    @inline(__always)
    static func accumulate(_ p: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        let rx = UnsafeRawPointer(x)
        let ry = UnsafeMutableRawPointer(y)
        let weight = SIMD8<Float>(repeating: p)
        var i = 0
        while i + 8 <= n {
            let updated = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * weight
                + ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: updated, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            y[i] += p * x[i]
            i += 1
        }
    }

    /// Multi-head attention with grouped KV heads; heads run in parallel.
    ///
    /// Layouts: queries/output `[queryCount, heads, headDim]`; keys/values as `layout` says.
    /// When `causal`, query `i` sees positions `< tokenCount − queryCount + i + 1`; otherwise all.
    ///
    /// Many queries at once (prefill, the vision tower) go through `MatMul.linear` in blocks
    /// (`blocked`); few (decode) run head by head on the cores (`perHead`).
    public static func multiHead(
        queries: UnsafePointer<Float>, queryCount: Int, heads: Int,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, layout: KVLayout, tokenCount: Int, kvHeads: Int,
        headDim: Int, causal: Bool, scale: Float, output: UnsafeMutablePointer<Float>, scratch: AttentionScratch? = nil
    ) {
        if queryCount >= matmulMinimumQueries {
            blocked(queries: queries, queryCount: queryCount, heads: heads, keys: keys, values: values, layout: layout,
                    tokenCount: tokenCount, kvHeads: kvHeads, headDim: headDim, causal: causal, scale: scale, output: output,
                    scratch: scratch)
        } else {
            perHead(queries: queries, queryCount: queryCount, heads: heads, keys: keys, values: values, layout: layout,
                    tokenCount: tokenCount, kvHeads: kvHeads, headDim: headDim, causal: causal, scale: scale, output: output)
        }
    }

    /// From this many queries on, attention is computed as matrix products.
    static let matmulMinimumQueries = 8
    /// Score rows (queries × heads of a KV group) per block of the matmul path: large enough for
    /// efficient matrix products, small enough that causal blocks skip most masked keys.
    public static let blockRows = 512

    /// Attention as two matrix products per KV head and block of queries: `S = Q·Kᵀ` (the group's
    /// heads stacked as rows, `blockRows` rows per block), a masked softmax over the rows of `S`,
    /// then `O = P·V`.
    public static func blocked(
        queries: UnsafePointer<Float>, queryCount: Int, heads: Int,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, layout: KVLayout, tokenCount: Int, kvHeads: Int,
        headDim: Int, causal: Bool, scale: Float, output: UnsafeMutablePointer<Float>, blockRows: Int = blockRows,
        scratch: AttentionScratch? = nil
    ) {
        precondition(heads % kvHeads == 0, "heads must be a multiple of kvHeads")
        let group = heads / kvHeads
        let d = headDim
        let t = tokenCount
        let queryBlock = max(1, blockRows / group)
        let maxRows = min(queryBlock, queryCount) * group
        let memory = scratch ?? AttentionScratch()
        let headKeys = memory.floats(0, count: t * d)
        let valuesT = memory.floats(1, count: t * d)
        let blockQueries = memory.floats(2, count: maxRows * d)
        let scores = memory.floats(3, count: maxRows * t)
        let blockOutput = memory.floats(4, count: maxRows * d)
        let qStride = heads * d
        for g in 0..<kvHeads {
            let groupKeys = keys + g * layout.headStride
            let groupValues = values + g * layout.headStride
            // Q·Kᵀ needs the head's keys as a dense [t, d] matrix; head-major storage already is one.
            let denseKeys: UnsafePointer<Float>
            if layout.rowStride == d {
                denseKeys = groupKeys
            } else {
                for row in 0..<t { (headKeys + row * d).update(from: groupKeys + row * layout.rowStride, count: d) }
                denseKeys = UnsafePointer(headKeys)
            }
            var blockStart = 0
            while blockStart < queryCount {
                let blockQueryCount = min(queryBlock, queryCount - blockStart)
                let rows = blockQueryCount * group
                // Keys beyond the block's last query are masked for every row of it.
                let visible = causal ? t - queryCount + blockStart + blockQueryCount : t
                for h in 0..<group {
                    for i in 0..<blockQueryCount {
                        (blockQueries + (h * blockQueryCount + i) * d)
                            .update(from: queries + (blockStart + i) * qStride + (g * group + h) * d, count: d)
                    }
                }
                MatMul.linear(blockQueries, rows: rows, weights: WeightMatrix(storage: .f32(denseKeys), outFeatures: visible, inFeatures: d),
                              bias: nil, into: scores)
                let firstPosition = t - queryCount + blockStart
                let softmax = MaskedSoftmax(scores: scores, width: visible, blockQueryCount: blockQueryCount,
                                            firstVisible: causal ? firstPosition + 1 : visible, scale: scale)
                softmax.run(rows: rows)
                for row in 0..<visible {
                    let v = groupValues + row * layout.rowStride
                    for k in 0..<d { valuesT[k * visible + row] = v[k] }
                }
                MatMul.linear(scores, rows: rows, weights: WeightMatrix(storage: .f32(valuesT), outFeatures: d, inFeatures: visible),
                              bias: nil, into: blockOutput)
                for h in 0..<group {
                    for i in 0..<blockQueryCount {
                        (output + (blockStart + i) * qStride + (g * group + h) * d)
                            .update(from: blockOutput + (h * blockQueryCount + i) * d, count: d)
                    }
                }
                blockStart += blockQueryCount
            }
        }
    }

    /// Attention head by head (heads in parallel) with the SIMD kernel `attendOne`.
    public static func perHead(
        queries: UnsafePointer<Float>, queryCount: Int, heads: Int,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, layout: KVLayout, tokenCount: Int, kvHeads: Int,
        headDim: Int, causal: Bool, scale: Float, output: UnsafeMutablePointer<Float>
    ) {
        precondition(heads % kvHeads == 0, "heads must be a multiple of kvHeads")
        let job = HeadJob(
            queries: queries, keys: keys, values: values, output: output, layout: layout, queryCount: queryCount,
            heads: heads, tokenCount: tokenCount, kvHeads: kvHeads, headDim: headDim, causal: causal, scale: scale)
        // Thread start-up costs more than tiny attention (single-token decode of small models).
        if heads > 1 && heads * queryCount * tokenCount * headDim >= 1 << 16 {
            KernelThreads.parallelFor(heads) { job.run(head: $0) }
        } else {
            for h in 0..<heads { job.run(head: h) }
        }
    }
}

/// Row-wise `softmax(scale · s)` over a block of score rows `[group × blockQueryCount, width]`
/// where row `h·blockQueryCount + i` sees its first `firstVisible + i` entries (capped at `width`);
/// the rest become 0 so that the following `P·V` product ignores them.
private struct MaskedSoftmax: @unchecked Sendable {
    let scores: UnsafeMutablePointer<Float>
    let width: Int
    let blockQueryCount: Int
    let firstVisible: Int
    let scale: Float

    func run(rows: Int) {
        let job = self
        Parallel.forRanges(rows * width) { range in
            // Split by elements, processed by whole rows: row r belongs to the chunk holding its start.
            let first = (range.lowerBound + width - 1) / width
            let last = min(rows, (range.upperBound + width - 1) / width)
            for row in first..<max(first, last) { job.row(row) }
        }
    }

    func row(_ row: Int) {
        let s = scores + row * width
        let count = min(width, firstVisible + row % blockQueryCount)
        var maximum = -Float.infinity
        for j in 0..<count {
            s[j] *= scale
            maximum = max(maximum, s[j])
        }
        let inverse = 1 / AttentionMath.exponentiate(s, count: count, maximum: maximum)
        for j in 0..<count { s[j] *= inverse }
        for j in count..<width { s[j] = 0 }
    }
}

/// The pointers and sizes of one multi-head attention call; each head writes a disjoint slice of
/// `output` and only reads the rest, so heads may run on different threads.
private struct HeadJob: @unchecked Sendable {
    let queries: UnsafePointer<Float>
    let keys: UnsafePointer<Float>
    let values: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let layout: KVLayout
    let queryCount, heads, tokenCount, kvHeads, headDim: Int
    let causal: Bool
    let scale: Float

    func run(head h: Int) {
        let kvHead = h / (heads / kvHeads)
        let queryStride = heads * headDim
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(tokenCount, 1))
        defer { scores.deallocate() }
        for i in 0..<queryCount {
            let visible = causal ? tokenCount - queryCount + i + 1 : tokenCount
            AttentionMath.attendOne(
                query: queries + i * queryStride + h * headDim, keys: keys + kvHead * layout.headStride,
                values: values + kvHead * layout.headStride, rowStride: layout.rowStride, count: visible, headDim: headDim,
                scale: scale, scores: scores, output: output + i * queryStride + h * headDim)
        }
    }
}

extension Float {
    /// `eˢᵉˡᶠ` through `fastExp` (softmax inputs are ≤ 0 after the max is subtracted).
    @inline(__always) var exponential: Float { fastExp(self) }
}
