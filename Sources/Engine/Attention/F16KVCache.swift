/// The full-precision baseline KV cache: keys and values stored as IEEE half ("FP16 baseline").
///
/// Storage per layer is one preallocated buffer of `[capacity, kvHeads, headDim]` half values that
/// grows in steps of `growthStep` tokens, never per token. `attend` computes causal softmax
/// attention in Float32 from the stored halves: decode steps widen row by row as they read,
/// prefills widen the layer once and use matrix products. Arrays are copy-on-write,
/// so `copy()` is cheap until either cache is extended, and the two never affect each other.
public final class F16KVCache: KVCache {
    public let layerCount: Int
    public let kvHeads: Int
    public let headDim: Int
    public let growthStep: Int

    private var keys: [[UInt16]]
    private var values: [[UInt16]]
    private var counts: [Int]
    /// Float32 copies of one layer's keys and values for `attend` (reused across calls).
    private var widenedKeys: [Float] = []
    private var widenedValues: [Float] = []

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
        let stride = tokenStride
        guard tokenCount > 0 else { return }
        precondition(newKeys.count >= tokenCount * stride && newValues.count >= tokenCount * stride, "too few keys/values")
        let needed = (counts[layer] + tokenCount) * stride
        if needed > keys[layer].count {
            let tokens = counts[layer] + tokenCount
            let grown = (tokens + growthStep - 1) / growthStep * growthStep
            let extra = grown * stride - keys[layer].count
            keys[layer].append(contentsOf: repeatElement(0, count: extra))
            values[layer].append(contentsOf: repeatElement(0, count: extra))
        }
        let offset = counts[layer] * stride
        keys[layer].withUnsafeMutableBufferPointer { k in
            HalfConversion.narrow(newKeys.baseAddress!, into: k.baseAddress! + offset, count: tokenCount * stride)
        }
        values[layer].withUnsafeMutableBufferPointer { v in
            HalfConversion.narrow(newValues.baseAddress!, into: v.baseAddress! + offset, count: tokenCount * stride)
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
        if queryCount < AttentionMath.matmulMinimumQueries {
            // Decode: read the half-precision rows directly.
            keys[layer].withUnsafeBufferPointer { k in
                values[layer].withUnsafeBufferPointer { v in
                    HalfAttention.attend(
                        queries: queries.baseAddress!, queryCount: queryCount, heads: heads, keys: k.baseAddress!,
                        values: v.baseAddress!, tokenCount: tokens, kvHeads: kvHeads, headDim: headDim, scale: scale,
                        output: output.baseAddress!)
                }
            }
            return
        }
        // Prefill: widen once, then attention as matrix products.
        let elements = tokens * tokenStride
        if widenedKeys.count < elements {
            widenedKeys = [Float](repeating: 0, count: elements + growthStep * tokenStride)
            widenedValues = widenedKeys
        }
        keys[layer].withUnsafeBufferPointer { k in
            widenedKeys.withUnsafeMutableBufferPointer { w in
                HalfConversion.widen(k.baseAddress!, into: w.baseAddress!, count: elements)
            }
        }
        values[layer].withUnsafeBufferPointer { v in
            widenedValues.withUnsafeMutableBufferPointer { w in
                HalfConversion.widen(v.baseAddress!, into: w.baseAddress!, count: elements)
            }
        }
        widenedKeys.withUnsafeBufferPointer { k in
            widenedValues.withUnsafeBufferPointer { v in
                AttentionMath.multiHead(
                    queries: queries.baseAddress!, queryCount: queryCount, heads: heads, keys: k.baseAddress!,
                    values: v.baseAddress!, tokenCount: tokens, kvHeads: kvHeads, headDim: headDim, causal: true,
                    scale: scale, output: output.baseAddress!)
            }
        }
    }

    public func copy() -> any KVCache { F16KVCache(copying: self) }

    /// Bytes of the stored keys and values (2 bytes each); capacity beyond `count` is not counted.
    public var byteCount: Int { counts.reduce(0, +) * tokenStride * 2 * 2 }

    /// The stored keys of `layer` widened to Float32, `[count, kvHeads, headDim]` (for tests and
    /// for quantized caches that take over a full-precision prefill).
    public func keys(layer: Int) -> [Float] { widened(keys[layer], tokens: counts[layer]) }

    /// The stored values of `layer` widened to Float32, `[count, kvHeads, headDim]`.
    public func values(layer: Int) -> [Float] { widened(values[layer], tokens: counts[layer]) }

    private func widened(_ halves: [UInt16], tokens: Int) -> [Float] {
        let n = tokens * tokenStride
        return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            halves.withUnsafeBufferPointer { h in
                if n > 0 { HalfConversion.widen(h.baseAddress!, into: buffer.baseAddress!, count: n) }
            }
            initialized = n
        }
    }
}
