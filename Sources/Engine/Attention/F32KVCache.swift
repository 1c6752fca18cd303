/// A KV cache that keeps keys and values in Float32: the exact reference the f16 baseline and
/// the quantized caches are measured against (and what transformers' float32 runs hold).
///
/// Same growth policy as `F16KVCache`: per-layer buffers grown in steps of `growthStep` tokens;
/// copy-on-write arrays make `copy()` independent.
public final class F32KVCache: KVCache {
    public let layerCount: Int
    public let kvHeads: Int
    public let headDim: Int
    public let growthStep: Int

    private var keys: [[Float]]
    private var values: [[Float]]
    private var counts: [Int]

    public init(layerCount: Int, kvHeads: Int, headDim: Int, capacity: Int = 0, growthStep: Int = 256) {
        precondition(layerCount > 0 && kvHeads > 0 && headDim > 0 && growthStep > 0)
        self.layerCount = layerCount
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.growthStep = growthStep
        let initial = [Float](repeating: 0, count: capacity * kvHeads * headDim)
        keys = Array(repeating: initial, count: layerCount)
        values = Array(repeating: initial, count: layerCount)
        counts = Array(repeating: 0, count: layerCount)
    }

    private init(copying other: F32KVCache) {
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

    public func append(layer: Int, keys newKeys: UnsafeBufferPointer<Float>, values newValues: UnsafeBufferPointer<Float>, tokenCount: Int) {
        guard tokenCount > 0 else { return }
        let stride = tokenStride
        precondition(newKeys.count >= tokenCount * stride && newValues.count >= tokenCount * stride, "too few keys/values")
        let needed = (counts[layer] + tokenCount) * stride
        if needed > keys[layer].count {
            let tokens = counts[layer] + tokenCount
            let extra = (tokens + growthStep - 1) / growthStep * growthStep * stride - keys[layer].count
            keys[layer].append(contentsOf: repeatElement(0, count: extra))
            values[layer].append(contentsOf: repeatElement(0, count: extra))
        }
        let offset = counts[layer] * stride
        keys[layer].withUnsafeMutableBufferPointer { k in
            (k.baseAddress! + offset).update(from: newKeys.baseAddress!, count: tokenCount * stride)
        }
        values[layer].withUnsafeMutableBufferPointer { v in
            (v.baseAddress! + offset).update(from: newValues.baseAddress!, count: tokenCount * stride)
        }
        counts[layer] += tokenCount
    }

    public func attend(
        layer: Int, queries: UnsafeBufferPointer<Float>, queryCount: Int, heads: Int, scale: Float,
        output: UnsafeMutableBufferPointer<Float>
    ) {
        guard queryCount > 0 else { return }
        precondition(queryCount <= counts[layer], "attend called for more queries than stored tokens")
        keys[layer].withUnsafeBufferPointer { k in
            values[layer].withUnsafeBufferPointer { v in
                AttentionMath.multiHead(
                    queries: queries.baseAddress!, queryCount: queryCount, heads: heads, keys: k.baseAddress!,
                    values: v.baseAddress!, tokenCount: counts[layer], kvHeads: kvHeads, headDim: headDim,
                    causal: true, scale: scale, output: output.baseAddress!)
            }
        }
    }

    public func copy() -> any KVCache { F32KVCache(copying: self) }

    /// Bytes of the stored keys and values (4 bytes each).
    public var byteCount: Int { counts.reduce(0, +) * tokenStride * 2 * 4 }
}
