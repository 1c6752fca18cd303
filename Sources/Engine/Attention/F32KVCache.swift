/// A KV cache that keeps keys and values in Float32: the exact reference the f16 baseline and
/// the quantized caches are measured against (and what transformers' float32 runs hold).
///
/// Same storage policy as `F16KVCache`: per layer `[kvHeads, capacity, headDim]`, grown in steps
/// of `growthStep` tokens; copy-on-write arrays make `copy()` independent.
public final class F32KVCache: KVCache {
    public let layerCount: Int
    public let kvHeads: Int
    public let headDim: Int
    public let growthStep: Int

    private var keys: [[Float]]
    private var values: [[Float]]
    private var counts: [Int]
    /// Attention's working memory; a copy gets its own.
    private let scratch = AttentionScratch()

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

    private func capacity(layer: Int) -> Int { keys[layer].count / tokenStride }

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
                        (k.baseAddress! + target).update(from: newKeys.baseAddress! + source, count: d)
                        (v.baseAddress! + target).update(from: newValues.baseAddress! + source, count: d)
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
        precondition(queryCount <= counts[layer], "attend called for more queries than stored tokens")
        let layout = KVLayout.headMajor(capacity: capacity(layer: layer), headDim: headDim)
        keys[layer].withUnsafeBufferPointer { k in
            values[layer].withUnsafeBufferPointer { v in
                AttentionMath.multiHead(
                    queries: queries.baseAddress!, queryCount: queryCount, heads: heads, keys: k.baseAddress!,
                    values: v.baseAddress!, layout: layout, tokenCount: counts[layer], kvHeads: kvHeads, headDim: headDim,
                    causal: true, scale: scale, output: output.baseAddress!, scratch: scratch)
            }
        }
    }

    public func copy() -> any KVCache { F32KVCache(copying: self) }

    /// Bytes of the stored keys and values (4 bytes each).
    public var byteCount: Int { counts.reduce(0, +) * tokenStride * 2 * 4 }
}
