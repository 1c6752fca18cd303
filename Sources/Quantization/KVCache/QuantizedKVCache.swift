import Engine
internal import CKernels

/// Errors in a KV-cache configuration or in the data handed to a cache.
public struct KVCacheQuantizationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A KV cache that stores keys and values quantized as a `KVQuantizationConfig` says, and reads
/// the packed data in `attend` (dequantizing block by block into scratch).
///
/// Incoming K/V are first rounded to fp16 (what the f16 baseline cache stores), so quantization
/// acts on the same values whether a token arrives here directly (`attention` regime) or is
/// copied from a full-precision cache (`store`, `prefix`). When tokens are quantized:
/// - `uniform`, `outlier`: every appended chunk at once (a per-tensor group spans the chunk).
/// - `group` (KIVI): keys collect in an fp16 window and leave it in blocks of R tokens (so the
///   prefill quantizes its first `T − T mod R` tokens); values keep the newest R tokens in fp16 and
///   quantize each older token per token. R = 0 (no window): values are quantized on arrival,
///   keys in blocks of G tokens as soon as a group fills.
/// - `gear`, `gear-l`: keys and values both leave the window in blocks of R tokens (GEAR's
///   streaming compression with gap R), each block with its own low-rank term; the block quantized
///   by the layer's first append uses `prefillRank`.
public final class QuantizedKVCache: KVCache {
    public let config: KVQuantizationConfig
    public let layerCount: Int
    public let kvHeads: Int
    public let headDim: Int

    private var layers: [LayerState]
    private var keyScratch: [Float] = []
    private var valueScratch: [Float] = []
    private var scoreScratch: [Float] = []

    /// An empty cache; throws if the configuration does not fit the shape.
    public init(config: KVQuantizationConfig, layerCount: Int, kvHeads: Int, headDim: Int) throws {
        try Self.validate(config)
        guard layerCount > 0, kvHeads > 0, headDim > 0 else {
            throw KVCacheQuantizationError("a KV cache needs at least one layer, kv-head and channel")
        }
        self.config = config
        self.layerCount = layerCount
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.layers = Array(repeating: LayerState(), count: layerCount)
    }

    /// A cache holding the given full-precision contents (the `store`/`prefix` regimes): each
    /// layer's keys and values `[tokens, kvHeads, headDim]` are appended as one prefill chunk.
    public convenience init(
        config: KVQuantizationConfig, kvHeads: Int, headDim: Int, keys: [[Float]], values: [[Float]]
    ) throws {
        try self.init(config: config, layerCount: keys.count, kvHeads: kvHeads, headDim: headDim)
        guard keys.count == values.count else {
            throw KVCacheQuantizationError("got keys for \(keys.count) layers but values for \(values.count)")
        }
        let width = kvHeads * headDim
        for layer in 0..<keys.count {
            guard keys[layer].count == values[layer].count, keys[layer].count % width == 0 else {
                throw KVCacheQuantizationError(
                    "layer \(layer): keys (\(keys[layer].count) values) and values (\(values[layer].count)) must both be tokens × \(kvHeads) × \(headDim)")
            }
            keys[layer].withUnsafeBufferPointer { k in
                values[layer].withUnsafeBufferPointer { v in
                    append(layer: layer, keys: k, values: v, tokenCount: keys[layer].count / width)
                }
            }
        }
    }

    private init(copying other: QuantizedKVCache) {
        config = other.config
        layerCount = other.layerCount
        kvHeads = other.kvHeads
        headDim = other.headDim
        layers = other.layers
    }

    static func validate(_ config: KVQuantizationConfig) throws {
        switch config.method {
        case .uniform:
            break
        case .outlier:
            guard config.fraction >= 0, config.fraction <= 1 else {
                throw KVCacheQuantizationError("fraction must be in [0, 1], got \(config.fraction)")
            }
        case .group, .gear, .gearL:
            guard config.groupSize > 0 else {
                throw KVCacheQuantizationError("group_size must be positive, got \(config.groupSize)")
            }
            // `group` accepts R = 0 (no fp16 window); GEAR's streaming blocks need R > 0.
            let minimum = config.method == .group ? 0 : 1
            guard config.residual >= minimum, config.residual % config.groupSize == 0 else {
                throw KVCacheQuantizationError(config.method == .group
                    ? "residual must be 0 or a positive multiple of group_size (\(config.groupSize)), got \(config.residual)"
                    : "residual must be a positive multiple of group_size (\(config.groupSize)), got \(config.residual)")
            }
            if config.method != .group {
                guard config.rank >= 0, config.prefillRank >= 0, config.iterations >= 1 else {
                    throw KVCacheQuantizationError("rank and prefill_rank must be ≥ 0 and iterations ≥ 1")
                }
                guard config.fraction >= 0, config.fraction <= 1 else {
                    throw KVCacheQuantizationError("fraction must be in [0, 1], got \(config.fraction)")
                }
            }
        }
    }

    // MARK: KVCache

    public func count(layer: Int) -> Int { layers[layer].keys.tokenCount }

    public func append(
        layer: Int, keys: UnsafeBufferPointer<Float>, values: UnsafeBufferPointer<Float>, tokenCount: Int
    ) {
        guard tokenCount > 0 else { return }
        let width = kvHeads * headDim
        precondition(keys.count >= tokenCount * width && values.count >= tokenCount * width,
                     "append: buffers smaller than tokenCount × kvHeads × headDim")
        let first = layers[layer].appends == 0
        layers[layer].keys.append(
            keys, tokens: tokenCount, width: width, plan: StreamPlan.make(config, forKeys: true), first: first,
            seedBase: (UInt64(layer), 0), shape: (kvHeads, headDim))
        layers[layer].values.append(
            values, tokens: tokenCount, width: width, plan: StreamPlan.make(config, forKeys: false), first: first,
            seedBase: (UInt64(layer), 1), shape: (kvHeads, headDim))
        layers[layer].appends += 1
    }

    public func attend(
        layer: Int, queries: UnsafeBufferPointer<Float>, queryCount: Int, heads: Int, scale: Float,
        output: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(heads % kvHeads == 0, "attend: \(heads) query heads cannot share \(kvHeads) kv-heads evenly")
        let tokens = count(layer: layer)
        let width = kvHeads * headDim
        guard tokens > 0, queryCount > 0 else {
            for i in 0..<(queryCount * heads * headDim) { output[i] = 0 }
            return
        }
        if keyScratch.count < tokens * width {
            let capacity = max(tokens * width, keyScratch.count * 2)
            keyScratch = [Float](repeating: 0, count: capacity)
            valueScratch = [Float](repeating: 0, count: capacity)
        }
        let scoreCount = tokens * heads / kvHeads
        if scoreScratch.count < scoreCount {
            scoreScratch = [Float](repeating: 0, count: max(scoreCount, scoreScratch.count * 2))
        }
        let state = layers[layer]
        keyScratch.withUnsafeMutableBufferPointer { k in
            valueScratch.withUnsafeMutableBufferPointer { v in
                scoreScratch.withUnsafeMutableBufferPointer { s in
                    state.keys.decode(into: k.baseAddress!, width: width)
                    state.values.decode(into: v.baseAddress!, width: width)
                    CausalAttention.attend(
                        keys: k.baseAddress!, values: v.baseAddress!, tokens: tokens, kvHeads: kvHeads,
                        headDim: headDim, queries: queries.baseAddress!, queryCount: queryCount, heads: heads,
                        scale: scale, output: output.baseAddress!, scores: s.baseAddress!)
                }
            }
        }
    }

    public func copy() -> any KVCache { QuantizedKVCache(copying: self) }

    public var byteCount: Int { layers.reduce(0) { $0 + $1.keys.byteCount + $1.values.byteCount } }

    // MARK: Inspection

    /// Bytes held for `layer` (keys + values, everything).
    public func byteCount(layer: Int) -> Int { layers[layer].keys.byteCount + layers[layer].values.byteCount }

    /// The keys attention reads for `layer`, `[tokens, kvHeads, headDim]`.
    public func dequantizedKeys(layer: Int) -> [Float] { layers[layer].keys.decoded(width: kvHeads * headDim) }

    /// The values attention reads for `layer`, `[tokens, kvHeads, headDim]`.
    public func dequantizedValues(layer: Int) -> [Float] { layers[layer].values.decoded(width: kvHeads * headDim) }

    /// Tokens of `layer` whose keys / values are stored quantized (the rest sit in the fp16 window).
    public func quantizedTokenCounts(layer: Int) -> (keys: Int, values: Int) {
        (layers[layer].keys.quantizedTokens, layers[layer].values.quantizedTokens)
    }
}

/// How one stream (keys or values of a layer) is quantized.
struct StreamPlan {
    enum Flush {
        /// Quantize every appended chunk.
        case immediate
        /// Collect in fp16; quantize whole blocks of R tokens from the oldest end.
        case blocks(Int)
        /// Keep the newest R tokens in fp16; quantize older tokens.
        case slidingWindow(Int)
    }

    var codec: KVChunkCodec
    var flush: Flush
    var rank: Int
    var prefillRank: Int
    var seed: UInt64

    /// The storage plan of a method for keys or values.
    static func make(_ c: KVQuantizationConfig, forKeys: Bool) -> StreamPlan {
        switch c.method {
        case .uniform:
            let layout: KVGroupLayout = c.scope == .perTensor ? .perTensor : .perToken
            return StreamPlan(codec: KVChunkCodec(bits: c.bits, layout: layout), flush: .immediate, rank: 0, prefillRank: 0, seed: c.seed)
        case .outlier:
            return StreamPlan(
                codec: KVChunkCodec(bits: c.bits, layout: .perTensor, outliers: .perTensor(fraction: c.fraction)),
                flush: .immediate, rank: 0, prefillRank: 0, seed: c.seed)
        case .group where c.variant == .flexgen:
            return StreamPlan(codec: KVChunkCodec(bits: c.bits, layout: .headDimIndex), flush: .immediate,
                              rank: 0, prefillRank: 0, seed: c.seed)
        case .group:
            // R = 0: values are quantized as they arrive; a key group spans G tokens, so keys
            // leave the fp16 window as soon as G of them are there (at most G − 1 stay fp16).
            return forKeys
                ? StreamPlan(codec: KVChunkCodec(bits: c.bits, layout: .channelsOverTokens(groupSize: c.groupSize)),
                             flush: .blocks(c.residual == 0 ? c.groupSize : c.residual), rank: 0, prefillRank: 0, seed: c.seed)
                : StreamPlan(codec: KVChunkCodec(bits: c.bits, layout: .tokensOverChannels(groupSize: c.groupSize)),
                             flush: .slidingWindow(c.residual), rank: 0, prefillRank: 0, seed: c.seed)
        case .gear, .gearL:
            let fraction = c.method == .gear ? c.fraction : 0
            let codec = forKeys
                ? KVChunkCodec(bits: c.bits, layout: .channelsOverTokens(groupSize: c.groupSize),
                               outliers: fraction > 0 ? .perChannel(fraction: fraction) : .none, iterations: c.iterations)
                : KVChunkCodec(bits: c.bits, layout: .tokensOverChannels(groupSize: c.groupSize),
                               outliers: fraction > 0 ? .perToken(fraction: fraction) : .none, iterations: c.iterations)
            return StreamPlan(codec: codec, flush: .blocks(c.residual), rank: c.rank, prefillRank: c.prefillRank, seed: c.seed)
        }
    }
}

/// Per-layer storage.
struct LayerState {
    var keys = KVStream()
    var values = KVStream()
    var appends = 0
}

/// Keys or values of one layer: quantized blocks (oldest first) followed by an fp16 window.
struct KVStream {
    var blocks: [PackedKVBlock] = []
    var quantizedTokens = 0
    /// `[windowTokens, width]` fp16.
    var window: [Float16] = []
    var windowTokens = 0
    var blocksEncoded: UInt64 = 0

    var tokenCount: Int { quantizedTokens + windowTokens }

    var byteCount: Int { blocks.reduce(0) { $0 + $1.byteCount } + window.count * 2 }

    mutating func append(
        _ x: UnsafeBufferPointer<Float>, tokens: Int, width: Int, plan: StreamPlan, first: Bool,
        seedBase: (layer: UInt64, stream: UInt64), shape: (heads: Int, dim: Int)
    ) {
        for i in 0..<(tokens * width) { window.append(Float16(x[i])) }
        windowTokens += tokens
        let flushCount: Int
        switch plan.flush {
        case .immediate: flushCount = windowTokens
        case .blocks(let r): flushCount = windowTokens / r * r
        case .slidingWindow(let r): flushCount = max(windowTokens - r, 0)
        }
        guard flushCount > 0 else { return }
        let chunk = window[0..<(flushCount * width)].map { Float($0) }
        let seed = SplitMix64.mix(plan.seed, seedBase.layer, seedBase.stream, blocksEncoded)
        var block = plan.codec.encode(
            chunk, tokens: flushCount, heads: shape.heads, dim: shape.dim,
            rank: first ? plan.prefillRank : plan.rank, seed: seed)
        blocksEncoded += 1
        window.removeFirst(flushCount * width)
        windowTokens -= flushCount
        quantizedTokens += flushCount
        // A one-token per-tensor group is the token's whole vector: relabel it so consecutive
        // decode tokens can share one block.
        if block.tokens == 1, block.layout == .perTensor {
            block = block.relabeled(.tokensOverChannels(groupSize: width))
        }
        if blocks.isEmpty || !blocks[blocks.count - 1].absorb(block) {
            blocks.append(block)
        }
    }

    func decode(into out: UnsafeMutablePointer<Float>, width: Int) {
        var offsets: [Int] = []
        offsets.reserveCapacity(blocks.count)
        var offset = 0
        for block in blocks {
            offsets.append(offset)
            offset += block.tokens * width
        }
        // Blocks decode into disjoint rows: a long cache is decoded on the kernels' threads.
        if blocks.count > 1, offset >= 1 << 16 {
            KernelThreads.parallelFor(blocks.count) { blocks[$0].decode(into: out + offsets[$0]) }
        } else {
            for (block, start) in zip(blocks, offsets) { block.decode(into: out + start) }
        }
        window.withUnsafeBufferPointer { src in
            src.withMemoryRebound(to: UInt16.self) { bits in
                if let from = bits.baseAddress { lcb_quant_half_to_float(from, out + offset, window.count) }
            }
        }
    }

    func decoded(width: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: tokenCount * width) { buffer, count in
            if let base = buffer.baseAddress { decode(into: base, width: width) }
            count = tokenCount * width
        }
    }
}
