import Foundation

/// One decoder block's weights: pre-norm attention and a gated MLP, as in Llama and Gemma.
public struct DecoderLayer: Sendable {
    public var inputNorm: RMSNorm
    public var queryProjection: any LinearLayer
    public var keyProjection: any LinearLayer
    public var valueProjection: any LinearLayer
    public var outputProjection: any LinearLayer
    public var postAttentionNorm: RMSNorm
    public var gateProjection: any LinearLayer
    public var upProjection: any LinearLayer
    public var downProjection: any LinearLayer
}

/// A decoder-only language model (Llama or Gemma flavour, set by `DecoderConfig`) that runs
/// prefill and single-token decode against a `KVCache`.
///
/// Prefill and decode are separate so that one prefilled cache can be copied and continued several
/// times. Both return the logits of the last position only (the lm_head over the whole prompt
/// would cost a vocabulary-sized matmul per prompt token for nothing). Not thread-safe: it owns
/// scratch buffers reused across calls; use one instance per thread.
public final class LanguageModel {
    public let config: DecoderConfig
    /// Token embeddings `[vocab, hidden]` in their stored dtype.
    public let embeddings: Tensor
    public var layers: [DecoderLayer]
    public let finalNorm: RMSNorm
    public var lmHead: any LinearLayer
    public let rotary: RotaryEmbedding
    private var scratch = DecoderScratch()

    public init(config: DecoderConfig, embeddings: Tensor, layers: [DecoderLayer], finalNorm: RMSNorm, lmHead: any LinearLayer) {
        self.config = config
        self.embeddings = embeddings
        self.layers = layers
        self.finalNorm = finalNorm
        self.lmHead = lmHead
        isTied = Self.sharesStorage(lmHead, embeddings)
        rotary = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, positionScale: config.ropePositionScale)
    }

    /// Loads the decoder from canonical names `language_model.…` and `lm_head.weight`.
    ///
    /// - Parameter tied: use the embeddings as the output projection when `lm_head.weight` is absent.
    public convenience init(config: DecoderConfig, weights: CheckpointWeights, tied: Bool) throws {
        let c = config
        let prefix = "language_model."
        let embeddings = try weights.tensor(prefix + "embed_tokens.weight", shape: [c.vocabSize, c.hiddenSize])
        let addsOne = c.normStyle == .onePlusWeight
        func norm(_ name: String) throws -> RMSNorm {
            RMSNorm(weight: try weights.vector(name, count: c.hiddenSize), epsilon: c.rmsNormEpsilon, addsOne: addsOne)
        }
        var layers: [DecoderLayer] = []
        for i in 0..<c.layerCount {
            let p = "\(prefix)layers.\(i)."
            let q = c.heads * c.headDim
            let kv = c.kvHeads * c.headDim
            layers.append(DecoderLayer(
                inputNorm: try norm(p + "input_layernorm.weight"),
                queryProjection: try weights.linear(p + "self_attn.q_proj", out: q, in: c.hiddenSize, bias: c.attentionBias),
                keyProjection: try weights.linear(p + "self_attn.k_proj", out: kv, in: c.hiddenSize, bias: c.attentionBias),
                valueProjection: try weights.linear(p + "self_attn.v_proj", out: kv, in: c.hiddenSize, bias: c.attentionBias),
                outputProjection: try weights.linear(p + "self_attn.o_proj", out: c.hiddenSize, in: q, bias: c.attentionBias),
                postAttentionNorm: try norm(p + "post_attention_layernorm.weight"),
                gateProjection: try weights.linear(p + "mlp.gate_proj", out: c.intermediateSize, in: c.hiddenSize, bias: c.mlpBias),
                upProjection: try weights.linear(p + "mlp.up_proj", out: c.intermediateSize, in: c.hiddenSize, bias: c.mlpBias),
                downProjection: try weights.linear(p + "mlp.down_proj", out: c.hiddenSize, in: c.intermediateSize, bias: c.mlpBias)))
        }
        let lmHead: any LinearLayer
        if weights.contains("lm_head.weight") || !tied {
            lmHead = try weights.linear("lm_head", out: c.vocabSize, in: c.hiddenSize, bias: false)
        } else {
            lmHead = DenseLinear(weight: embeddings, bias: nil)
        }
        self.init(config: config, embeddings: embeddings, layers: layers,
                  finalNorm: try norm(prefix + "norm.weight"), lmHead: lmHead)
    }

    /// A fresh f16 cache shaped for this model.
    public func makeCache(capacity: Int = 0) -> F16KVCache {
        F16KVCache(layerCount: config.layerCount, kvHeads: config.kvHeads, headDim: config.headDim, capacity: capacity)
    }

    /// A fresh Float32 cache: exact attention, the reference for the f16 and quantized caches.
    public func makeReferenceCache(capacity: Int = 0) -> F32KVCache {
        F32KVCache(layerCount: config.layerCount, kvHeads: config.kvHeads, headDim: config.headDim, capacity: capacity)
    }

    /// Looks up token embeddings (with Gemma's √hidden scale), `[ids.count, hidden]`.
    public func embed(_ ids: [Int]) throws -> [Float] {
        let h = config.hiddenSize
        var result = [Float](repeating: 0, count: ids.count * h)
        try result.withUnsafeMutableBufferPointer { out in
            for (row, id) in ids.enumerated() {
                guard id >= 0 && id < config.vocabSize else {
                    throw GenerationError.tokenOutOfRange(id: id, vocabularySize: config.vocabSize)
                }
                embeddings.copyElements(from: id * h, count: h, into: out.baseAddress! + row * h)
            }
            if let scale = config.embeddingScale {
                for i in 0..<out.count { out[i] *= scale }
            }
        }
        return result
    }

    /// Runs the prompt tokens through the model, appending to `cache`; returns the last position's logits.
    public func prefill(tokens: [Int], cache: any KVCache) throws -> [Float] {
        try prefill(embeddings: embed(tokens), cache: cache)
    }

    /// Runs precomputed input embeddings `[n, hidden]` (token embeddings already scaled, image
    /// features spliced in) through the model; returns the last position's logits `[vocab]`.
    public func prefill(embeddings inputs: [Float], cache: any KVCache) throws -> [Float] {
        let h = config.hiddenSize
        guard !inputs.isEmpty, inputs.count % h == 0 else {
            throw GenerationError.emptyInput
        }
        try check(cache)
        return forward(inputs, rows: inputs.count / h, cache: cache)
    }

    /// Feeds one generated token; returns the logits for the next.
    public func decode(token: Int, cache: any KVCache) throws -> [Float] {
        try check(cache)
        return forward(try embed([token]), rows: 1, cache: cache)
    }

    private func check(_ cache: any KVCache) throws {
        guard cache.layerCount == config.layerCount, cache.kvHeads == config.kvHeads, cache.headDim == config.headDim else {
            throw GenerationError.cacheMismatch(
                "cache has \(cache.layerCount) layers × \(cache.kvHeads) KV heads × \(cache.headDim); model needs \(config.layerCount) × \(config.kvHeads) × \(config.headDim)")
        }
    }

    /// The decoder stack over `rows` new positions; returns the last row's logits.
    private func forward(_ inputs: [Float], rows: Int, cache: any KVCache) -> [Float] {
        let c = config
        let h = c.hiddenSize
        let qWidth = c.heads * c.headDim
        let kvWidth = c.kvHeads * c.headDim
        let start = cache.count(layer: 0)
        scratch.reserve(rows: rows, hidden: h, query: qWidth, kv: kvWidth, intermediate: c.intermediateSize)
        let s = scratch
        let x = s.residual
        x.baseAddress!.update(from: inputs, count: rows * h)
        let scale = 1 / Float(c.headDim).squareRoot()
        let half = c.headDim / 2
        rotary.angles(start: start, count: rows, cos: s.cosines.baseAddress!, sin: s.sines.baseAddress!)
        for (index, layer) in layers.enumerated() {
            layer.inputNorm.apply(x.baseAddress!, rows: rows, into: s.normed.baseAddress!)
            let normed = UnsafeBufferPointer(s.normed)
            layer.queryProjection.apply(normed, rows: rows, into: s.queries)
            layer.keyProjection.apply(normed, rows: rows, into: s.keys)
            layer.valueProjection.apply(normed, rows: rows, into: s.values)
            for r in 0..<rows {
                let cos = s.cosines.baseAddress! + r * half
                let sin = s.sines.baseAddress! + r * half
                rotary.apply(s.queries.baseAddress! + r * qWidth, heads: c.heads, cos: cos, sin: sin)
                rotary.apply(s.keys.baseAddress! + r * kvWidth, heads: c.kvHeads, cos: cos, sin: sin)
            }
            cache.append(layer: index, keys: UnsafeBufferPointer(s.keys), values: UnsafeBufferPointer(s.values), tokenCount: rows)
            cache.attend(layer: index, queries: UnsafeBufferPointer(s.queries), queryCount: rows, heads: c.heads,
                         scale: scale, output: s.attention)
            layer.outputProjection.apply(UnsafeBufferPointer(s.attention), rows: rows, into: s.projected)
            Self.add(s.projected.baseAddress!, into: x.baseAddress!, count: rows * h)

            layer.postAttentionNorm.apply(x.baseAddress!, rows: rows, into: s.normed.baseAddress!)
            layer.gateProjection.apply(normed, rows: rows, into: s.gate)
            layer.upProjection.apply(normed, rows: rows, into: s.up)
            c.activation.applyGated(s.gate.baseAddress!, up: s.up.baseAddress!, count: rows * c.intermediateSize)
            layer.downProjection.apply(UnsafeBufferPointer(s.gate), rows: rows, into: s.projected)
            Self.add(s.projected.baseAddress!, into: x.baseAddress!, count: rows * h)
        }
        let last = x.baseAddress! + (rows - 1) * h
        finalNorm.apply(last, rows: 1, into: s.normed.baseAddress!)
        var logits = [Float](repeating: 0, count: c.vocabSize)
        logits.withUnsafeMutableBufferPointer { out in
            lmHead.apply(UnsafeBufferPointer(rebasing: s.normed[0..<h]), rows: 1, into: out)
        }
        return logits
    }

    /// `x[i] += y[i]`: the residual connection.
    static func add(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// Replaces linear layers, e.g. with quantized ones; `transform` gets each layer's name
    /// (`layers.3.self_attn.q_proj`, `layers.3.mlp.down_proj`, `lm_head`) and returns its replacement.
    public func replaceLinearLayers(_ transform: (String, any LinearLayer) throws -> any LinearLayer) rethrows {
        for i in layers.indices {
            let p = "layers.\(i)."
            layers[i].queryProjection = try transform(p + "self_attn.q_proj", layers[i].queryProjection)
            layers[i].keyProjection = try transform(p + "self_attn.k_proj", layers[i].keyProjection)
            layers[i].valueProjection = try transform(p + "self_attn.v_proj", layers[i].valueProjection)
            layers[i].outputProjection = try transform(p + "self_attn.o_proj", layers[i].outputProjection)
            layers[i].gateProjection = try transform(p + "mlp.gate_proj", layers[i].gateProjection)
            layers[i].upProjection = try transform(p + "mlp.up_proj", layers[i].upProjection)
            layers[i].downProjection = try transform(p + "mlp.down_proj", layers[i].downProjection)
        }
        lmHead = try transform("lm_head", lmHead)
    }

    /// Parameters of the decoder, lm_head counted only when it is not the tied embedding.
    public var parameterCount: Int {
        // Embeddings, two norms per layer and the final norm.
        var count = embeddings.elementCount + config.hiddenSize * (2 * layers.count + 1)
        for layer in layers {
            for projection in [layer.queryProjection, layer.keyProjection, layer.valueProjection, layer.outputProjection,
                               layer.gateProjection, layer.upProjection, layer.downProjection] {
                count += projection.inFeatures * projection.outFeatures
            }
        }
        if !isTied { count += lmHead.inFeatures * lmHead.outFeatures }
        return count
    }

    /// Whether the output projection was loaded as the embedding matrix itself (stays true when a
    /// quantizer later replaces `lmHead`, so parameter counts do not change).
    public let isTied: Bool

    private static func sharesStorage(_ layer: any LinearLayer, _ tensor: Tensor) -> Bool {
        guard let dense = layer as? DenseLinear, dense.weights.byteCount == tensor.byteCount else { return false }
        switch dense.weights.storage {
        case .f32(let p): return UnsafeRawPointer(p) == tensor.data
        case .f16(let p): return UnsafeRawPointer(p) == tensor.data
        case .bf16(let p): return UnsafeRawPointer(p) == tensor.data
        }
    }
}

/// Scratch buffers of one forward pass, grown to the largest row count seen and then reused.
final class DecoderScratch {
    private(set) var rows = 0
    var residual = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var normed = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var queries = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var keys = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var values = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var attention = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var projected = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var gate = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var up = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var cosines = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    var sines = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)

    func reserve(rows needed: Int, hidden: Int, query: Int, kv: Int, intermediate: Int) {
        guard needed > rows else { return }
        release()
        rows = needed
        func make(_ width: Int) -> UnsafeMutableBufferPointer<Float> {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: needed * width)
            buffer.initialize(repeating: 0)
            return buffer
        }
        residual = make(hidden)
        normed = make(hidden)
        queries = make(query)
        keys = make(kv)
        values = make(kv)
        attention = make(query)
        projected = make(hidden)
        gate = make(intermediate)
        up = make(intermediate)
        // RoPE angles: half a head per position (query width is at least a head).
        cosines = make(query / 2 + 1)
        sines = make(query / 2 + 1)
    }

    private func release() {
        for buffer in [residual, normed, queries, keys, values, attention, projected, gate, up, cosines, sines] where buffer.baseAddress != nil {
            buffer.deallocate()
        }
    }

    deinit { release() }
}

/// Errors from running a model on user input (token ids, feature counts).
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    case tokenOutOfRange(id: Int, vocabularySize: Int)
    case emptyInput
    case cacheMismatch(String)
    case imageCountMismatch(placeholders: Int, images: Int)
    case imageFeatureShape(String)
    case notMultimodal

    public var description: String {
        switch self {
        case .tokenOutOfRange(let id, let size):
            "token id \(id) is outside the vocabulary (0..<\(size)); the tokenizer does not match the model"
        case .emptyInput:
            "the prompt is empty; give at least one token"
        case .cacheMismatch(let detail):
            "the KV cache does not fit the model: \(detail)"
        case .imageCountMismatch(let placeholders, let images):
            "the prompt has \(placeholders) image placeholder token(s) but \(images) image(s) were given"
        case .imageFeatureShape(let detail):
            "image features do not fit the model: \(detail)"
        case .notMultimodal:
            "this model has no vision tower; remove the image or use a LLaVA checkpoint"
        }
    }
}
