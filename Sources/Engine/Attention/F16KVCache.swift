/// The full-precision baseline KV cache: keys and values stored as IEEE half ("FP16 baseline").
///
/// Storage per layer is one preallocated buffer laid out `[kvHeads, capacity, headDim]` (each
/// head's rows contiguous, so attention streams through memory) that grows in steps of
/// `growthStep` tokens, never per token. `attend` computes causal softmax attention in Float32
/// from the stored halves: decode steps widen row by row as they read, prefills widen the layer
/// once and use matrix products. Arrays are copy-on-write, so `copy()` is cheap until either
/// cache is extended, and the two never affect each other.
public final class F16KVCache: KVCache {
    private var storage: HeadMajorStorage<UInt16>
    /// Float32 copies of one layer's keys and values for prefill (reused across calls).
    private var widenedKeys: [Float] = []
    private var widenedValues: [Float] = []
    /// Attention's working memory; a copy gets its own.
    private let scratch = AttentionScratch()

    public var layerCount: Int { storage.layerCount }
    public var kvHeads: Int { storage.kvHeads }
    public var headDim: Int { storage.headDim }
    public var growthStep: Int { storage.growthStep }

    /// - Parameter capacity: tokens to preallocate per layer (a prompt's length, say).
    public init(layerCount: Int, kvHeads: Int, headDim: Int, capacity: Int = 0, growthStep: Int = 256) {
        storage = HeadMajorStorage(layerCount: layerCount, kvHeads: kvHeads, headDim: headDim, capacity: capacity,
                                   growthStep: growthStep)
    }

    private init(copying other: F16KVCache) { storage = other.storage }

    private var tokenStride: Int { storage.tokenStride }

    public func count(layer: Int) -> Int { storage.counts[layer] }

    /// Tokens each layer can hold before the next growth step.
    public func capacity(layer: Int) -> Int { storage.capacity(layer: layer) }

    public func append(layer: Int, keys newKeys: UnsafeBufferPointer<Float>, values newValues: UnsafeBufferPointer<Float>, tokenCount: Int) {
        storage.append(layer: layer, keys: newKeys, values: newValues, tokenCount: tokenCount) { source, target, count in
            HalfConversion.narrow(source, into: target, count: count)
        }
    }

    public func attend(
        layer: Int, queries: UnsafeBufferPointer<Float>, queryCount: Int, heads: Int, scale: Float,
        output: UnsafeMutableBufferPointer<Float>
    ) {
        guard queryCount > 0 else { return }
        let tokens = storage.counts[layer]
        precondition(queryCount <= tokens, "attend called for more queries than stored tokens")
        let capacity = capacity(layer: layer)
        if queryCount < AttentionMath.matmulMinimumQueries {
            // Decode: read the half-precision rows directly.
            storage.keys[layer].withUnsafeBufferPointer { k in
                storage.values[layer].withUnsafeBufferPointer { v in
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
            storage.keys[layer].withUnsafeBufferPointer { k in
                widenedKeys.withUnsafeMutableBufferPointer { w in
                    HalfConversion.widen(k.baseAddress! + g * capacity * headDim, into: w.baseAddress! + g * rows, count: rows)
                }
            }
            storage.values[layer].withUnsafeBufferPointer { v in
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
    public var byteCount: Int { storage.storedTokens * tokenStride * 2 * 2 }

    /// The stored keys of `layer` widened to Float32 in the protocol's `[count, kvHeads, headDim]`
    /// layout (for tests and for quantized caches that take over a full-precision prefill).
    public func keys(layer: Int) -> [Float] { tokenMajor(storage.keys[layer], layer: layer) }

    /// The stored values of `layer` widened to Float32, `[count, kvHeads, headDim]`.
    public func values(layer: Int) -> [Float] { tokenMajor(storage.values[layer], layer: layer) }

    private func tokenMajor(_ halves: [UInt16], layer: Int) -> [Float] {
        let tokens = storage.counts[layer]
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
