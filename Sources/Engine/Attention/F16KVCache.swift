/// The full-precision baseline KV cache: keys and values stored as IEEE half ("FP16 baseline").
///
/// Storage per layer is one preallocated buffer laid out `[kvHeads, capacity, headDim]` (each
/// head's rows contiguous, so attention streams through memory) that grows in steps of
/// `growthStep` tokens, never per token. `attend` computes causal softmax attention in Float32
/// from the stored halves: decode steps widen row by row as they read, prefills widen the layer
/// once and use matrix products. Arrays are copy-on-write, so `copy()` is cheap until either
/// cache is extended, and the two never affect each other.
public final class F16KVCache: KVCache {
    public let layerCount: Int
    public let kvHeads: Int
    public let headDim: Int
    public let growthStep: Int

    private var keys: [[UInt16]]
    private var values: [[UInt16]]
    private var counts: [Int]
    /// Float32 copies of one layer's keys and values for prefill (reused across calls).
    private var widenedKeys: [Float] = []
    private var widenedValues: [Float] = []
    /// Attention's working memory; a copy gets its own.
    private let scratch = AttentionScratch()

    /// - Parameter capacity: tokens to preallocate per layer (a prompt's length, say).
    public init(layerCount: Int, kvHeads: Int, headDim: Int, capacity: Int = 0, growthStep: Int = 256) {
        precondition(layerCount > 0 && kvHeads > 0 && headDim > 0 && growthStep > 0)
        self.layerCount = layerCount
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.growthStep = growthStep
        let initial = [UInt16](repeating: 0, count: capacity * kvHeads * headDim)
        keys = Array(repeating: initial, count: layerCount)
        values = Array(repeating: initial, count: layerCount)
        counts = Array(repeating: 0, count: layerCount)
    }

    private init(copying other: F16KVCache) {
        layerCount = other.layerCount
        kvHeads = other.kvHeads
        headDim = other.headDim
        growthStep = other.growthStep
        keys = other.keys
        values = other.values
        counts = other.counts
    }

    private var tokenStride: Int { kvHeads * headDim }

    public func count(layer: Int) -> Int { counts[layer] }

    /// Tokens each layer can hold before the next growth step.
    public func capacity(layer: Int) -> Int { keys[layer].count / tokenStride }

    public func append(layer: Int, keys newKeys: UnsafeBufferPointer<Float>, values newValues: UnsafeBufferPointer<Float>, tokenCount: Int) {
        guard tokenCount > 0 else { return }
        precondition(newKeys.count >= tokenCount * tokenStride && newValues.count >= tokenCount * tokenStride, "too few keys/values")
        let needed = counts[layer] + tokenCount
        if needed > capacity(layer: layer) {
            let grown = (needed + growthStep - 1) / growthStep * growthStep
            keys[layer] = HeadMajor.regrow(keys[layer], kvHeads: kvHeads, headDim: headDim, rows: counts[layer], capacity: grown)
            values[layer] = HeadMajor.regrow(values[layer], kvHeads: kvHeads, headDim: headDim, rows: counts[layer], capacity: grown)
        }
        let capacity = capacity(layer: layer)
        let start = counts[layer]
        let (d, heads) = (headDim, kvHeads)
        keys[layer].withUnsafeMutableBufferPointer { k in
            values[layer].withUnsafeMutableBufferPointer { v in
                for j in 0..<tokenCount {
                    for g in 0..<heads {
                        let source = (j * heads + g) * d
                        let target = (g * capacity + start + j) * d
                        HalfConversion.narrow(newKeys.baseAddress! + source, into: k.baseAddress! + target, count: d)
                        HalfConversion.narrow(newValues.baseAddress! + source, into: v.baseAddress! + target, count: d)
                    }
                }
            }
        }
        counts[layer] += tokenCount
    }

    public func attend(
        layer: Int, queries: UnsafeBufferPointer<Float>, queryCount: Int, heads: Int, scale: Float,
        output: UnsafeMutableBufferPointer<Float>
    ) {
        guard queryCount > 0 else { return }
        let tokens = counts[layer]
        precondition(queryCount <= tokens, "attend called for more queries than stored tokens")
        let capacity = capacity(layer: layer)
        if queryCount < AttentionMath.matmulMinimumQueries {
            // Decode: read the half-precision rows directly.
            keys[layer].withUnsafeBufferPointer { k in
                values[layer].withUnsafeBufferPointer { v in
                    HalfAttention.attend(
                        queries: queries.baseAddress!, queryCount: queryCount, heads: heads, keys: k.baseAddress!,
                        values: v.baseAddress!, layout: .headMajor(capacity: capacity, headDim: headDim), tokenCount: tokens,
                        kvHeads: kvHeads, headDim: headDim, scale: scale, output: output.baseAddress!, scratch: scratch)
                }
            }
            return
        }
        // Prefill: widen the stored rows once (compact [kvHeads, tokens, headDim]), then matrix products.
        let elements = tokens * tokenStride
        if widenedKeys.count < elements {
            widenedKeys = [Float](repeating: 0, count: elements + growthStep * tokenStride)
            widenedValues = widenedKeys
        }
        let rows = tokens * headDim
        for g in 0..<kvHeads {
            keys[layer].withUnsafeBufferPointer { k in
                widenedKeys.withUnsafeMutableBufferPointer { w in
                    HalfConversion.widen(k.baseAddress! + g * capacity * headDim, into: w.baseAddress! + g * rows, count: rows)
                }
            }
            values[layer].withUnsafeBufferPointer { v in
                widenedValues.withUnsafeMutableBufferPointer { w in
                    HalfConversion.widen(v.baseAddress! + g * capacity * headDim, into: w.baseAddress! + g * rows, count: rows)
                }
            }
        }
        widenedKeys.withUnsafeBufferPointer { k in
            widenedValues.withUnsafeBufferPointer { v in
                AttentionMath.multiHead(
                    queries: queries.baseAddress!, queryCount: queryCount, heads: heads, keys: k.baseAddress!,
                    values: v.baseAddress!, layout: .headMajor(capacity: tokens, headDim: headDim), tokenCount: tokens,
                    kvHeads: kvHeads, headDim: headDim, causal: true, scale: scale, output: output.baseAddress!,
                    scratch: scratch)
            }
        }
    }

    public func copy() -> any KVCache { F16KVCache(copying: self) }

    /// Bytes of the stored keys and values (2 bytes each); capacity beyond `count` is not counted.
    public var byteCount: Int { counts.reduce(0, +) * tokenStride * 2 * 2 }

    /// The stored keys of `layer` widened to Float32 in the protocol's `[count, kvHeads, headDim]`
    /// layout (for tests and for quantized caches that take over a full-precision prefill).
    public func keys(layer: Int) -> [Float] { tokenMajor(keys[layer], layer: layer) }

    /// The stored values of `layer` widened to Float32, `[count, kvHeads, headDim]`.
    public func values(layer: Int) -> [Float] { tokenMajor(values[layer], layer: layer) }

    private func tokenMajor(_ halves: [UInt16], layer: Int) -> [Float] {
        let tokens = counts[layer]
        let capacity = capacity(layer: layer)
        let d = headDim
        var result = [Float](repeating: 0, count: tokens * tokenStride)
        halves.withUnsafeBufferPointer { h in
            result.withUnsafeMutableBufferPointer { out in
                for t in 0..<tokens {
                    for g in 0..<kvHeads {
                        HalfConversion.widen(h.baseAddress! + (g * capacity + t) * d, into: out.baseAddress! + (t * kvHeads + g) * d, count: d)
                    }
                }
            }
        }
        return result
    }
}

/// Re-laying out head-major storage when its capacity grows.
enum HeadMajor {
    /// `[kvHeads, capacity, headDim]` buffer with the first `rows` rows of each head copied from `old`.
    static func regrow<Element: Numeric>(_ old: [Element], kvHeads: Int, headDim: Int, rows: Int, capacity: Int) -> [Element] {
        let oldCapacity = old.count / (kvHeads * headDim)
        var grown = [Element](repeating: 0, count: kvHeads * capacity * headDim)
        old.withUnsafeBufferPointer { source in
            grown.withUnsafeMutableBufferPointer { target in
                for g in 0..<kvHeads where rows > 0 {
                    (target.baseAddress! + g * capacity * headDim)
                        .update(from: source.baseAddress! + g * oldCapacity * headDim, count: rows * headDim)
                }
            }
        }
        return grown
    }
}
