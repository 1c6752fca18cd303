import Engine

/// A KV cache whose stored keys and values can be read back as Float32, `[tokens, kvHeads, headDim]`.
///
/// The engine's `F16KVCache` already has `keys(layer:)` and `values(layer:)`; declaring
/// `extension F16KVCache: ReadableKVCache {}` where both modules are imported lets the `store` and
/// `prefix` regimes hand a full-precision prefill to `QuantizedKVCache(config:copying:)`.
public protocol ReadableKVCache: KVCache {
    func keys(layer: Int) -> [Float]
    func values(layer: Int) -> [Float]
}

extension QuantizedKVCache: ReadableKVCache {
    /// The keys attention reads (dequantized), as `ReadableKVCache` asks.
    public func keys(layer: Int) -> [Float] { dequantizedKeys(layer: layer) }

    /// The values attention reads (dequantized).
    public func values(layer: Int) -> [Float] { dequantizedValues(layer: layer) }

    /// A quantized cache holding `source`'s contents (one prefill chunk per layer); `source` is
    /// left unchanged.
    public convenience init(config: KVQuantizationConfig, copying source: some ReadableKVCache) throws {
        try self.init(
            config: config, kvHeads: source.kvHeads, headDim: source.headDim,
            keys: (0..<source.layerCount).map { source.keys(layer: $0) },
            values: (0..<source.layerCount).map { source.values(layer: $0) })
    }
}
