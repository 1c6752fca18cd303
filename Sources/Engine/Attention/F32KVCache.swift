/// A KV cache that keeps keys and values in Float32: the exact reference the f16 baseline and
/// the quantized caches are measured against (and what transformers' float32 runs hold).
///
/// Same storage as `F16KVCache` (`HeadMajorStorage`): per layer `[kvHeads, capacity, headDim]`,
/// grown in steps of `growthStep` tokens; copy-on-write arrays make `copy()` independent.
public final class F32KVCache: KVCache {
    private var storage: HeadMajorStorage<Float>
    /// Attention's working memory; a copy gets its own.
    private let scratch = AttentionScratch()

    public var layerCount: Int { storage.layerCount }
    public var kvHeads: Int { storage.kvHeads }
    public var headDim: Int { storage.headDim }
    public var growthStep: Int { storage.growthStep }

    public init(layerCount: Int, kvHeads: Int, headDim: Int, capacity: Int = 0, growthStep: Int = 256) {
        storage = HeadMajorStorage(layerCount: layerCount, kvHeads: kvHeads, headDim: headDim, capacity: capacity,
                                   growthStep: growthStep)
    }

    private init(copying other: F32KVCache) { storage = other.storage }

    public func count(layer: Int) -> Int { storage.counts[layer] }

    public func append(layer: Int, keys newKeys: UnsafeBufferPointer<Float>, values newValues: UnsafeBufferPointer<Float>, tokenCount: Int) {
        storage.append(layer: layer, keys: newKeys, values: newValues, tokenCount: tokenCount) { source, target, count in
            target.update(from: source, count: count)
        }
    }

    public func attend(
        layer: Int, queries: UnsafeBufferPointer<Float>, queryCount: Int, heads: Int, scale: Float,
        output: UnsafeMutableBufferPointer<Float>
    ) {
        guard queryCount > 0 else { return }
        let tokens = storage.counts[layer]
        precondition(queryCount <= tokens, "attend called for more queries than stored tokens")
        let layout = KVLayout.headMajor(capacity: storage.capacity(layer: layer), headDim: headDim)
        storage.keys[layer].withUnsafeBufferPointer { k in
            storage.values[layer].withUnsafeBufferPointer { v in
                AttentionMath.multiHead(
                    queries: queries.baseAddress!, queryCount: queryCount, heads: heads, keys: k.baseAddress!,
                    values: v.baseAddress!, layout: layout, tokenCount: tokens, kvHeads: kvHeads, headDim: headDim,
                    causal: true, scale: scale, output: output.baseAddress!, scratch: scratch)
            }
        }
    }

    public func copy() -> any KVCache { F32KVCache(copying: self) }

    /// Bytes of the stored keys and values (4 bytes each).
    public var byteCount: Int { storage.storedTokens * storage.tokenStride * 2 * 4 }
}
