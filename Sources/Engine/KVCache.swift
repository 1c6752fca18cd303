/// Per-layer key/value storage that a decoder's attention reads.
///
/// The engine computes keys (after RoPE) and values for new tokens, hands them to the cache with
/// `append`, then asks the cache to `attend` for the same layer. The cache owns the attention
/// read so that packed caches (Quantization) can dequantize on the fly and keep full-precision
/// windows as their method says. The full-precision cache lives in this target; quantized ones
/// implement the same protocol in the Quantization target.
///
/// Layouts (row-major, Float32): keys and values `[tokens, kvHeads, headDim]`; queries and output
/// `[queryCount, heads, headDim]`. Query `i` of a call sits at absolute position
/// `count(layer) - queryCount + i` (after the append) and attends causally to positions ≤ itself.
/// Heads share KV heads in groups of `heads / kvHeads` (GQA/MQA).
public protocol KVCache: AnyObject {
    /// Number of decoder layers this cache holds.
    var layerCount: Int { get }
    var kvHeads: Int { get }
    var headDim: Int { get }

    /// Tokens stored for `layer`.
    func count(layer: Int) -> Int

    /// Stores keys and values of `tokenCount` new tokens for `layer`.
    func append(layer: Int, keys: UnsafeBufferPointer<Float>, values: UnsafeBufferPointer<Float>, tokenCount: Int)

    /// `softmax(q·Kᵀ·scale, causal) · V` for the newest `queryCount` positions of `layer`.
    func attend(
        layer: Int, queries: UnsafeBufferPointer<Float>, queryCount: Int, heads: Int, scale: Float,
        output: UnsafeMutableBufferPointer<Float>)

    /// An independent copy: continuing the copy never changes this cache (shared prefill relies on it).
    func copy() -> any KVCache

    /// Bytes the cache holds now (codes, scales, outliers, windows — everything), for memory reports.
    var byteCount: Int { get }
}
