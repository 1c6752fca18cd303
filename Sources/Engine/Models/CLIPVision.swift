import Foundation

/// `vision_config` of a CLIP vision tower (`clip_vision_model`).
public struct CLIPVisionConfig: Decodable, Sendable, Equatable {
    public var hiddenSize: Int = 768
    public var intermediateSize: Int = 3072
    public var numHiddenLayers: Int = 12
    public var numAttentionHeads: Int = 12
    public var numChannels: Int = 3
    public var imageSize: Int = 224
    public var patchSize: Int = 32
    public var hiddenAct: String = "quick_gelu"
    public var layerNormEps: Double = 1e-5

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numChannels = "num_channels"
        case imageSize = "image_size"
        case patchSize = "patch_size"
        case hiddenAct = "hidden_act"
        case layerNormEps = "layer_norm_eps"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? intermediateSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? numAttentionHeads
        numChannels = try c.decodeIfPresent(Int.self, forKey: .numChannels) ?? numChannels
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? imageSize
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? patchSize
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? layerNormEps
    }

    /// Patches along one side of the image.
    public var patchesPerSide: Int { imageSize / patchSize }
    /// Patch tokens plus the class token.
    public var tokenCount: Int { patchesPerSide * patchesPerSide + 1 }
    public var headDim: Int { hiddenSize / numAttentionHeads }

    func validate(file: String) throws {
        guard hiddenSize > 0, numAttentionHeads > 0, hiddenSize % numAttentionHeads == 0 else {
            throw CheckpointError(.invalidConfig, "\(file): vision_config hidden_size (\(hiddenSize)) must be a positive multiple of num_attention_heads (\(numAttentionHeads))")
        }
        guard patchSize > 0, imageSize >= patchSize, imageSize % patchSize == 0 else {
            throw CheckpointError(.invalidConfig, "\(file): vision_config image_size (\(imageSize)) must be a multiple of patch_size (\(patchSize))")
        }
        guard Activation(configName: hiddenAct) != nil else {
            throw CheckpointError(.invalidConfig, "\(file): vision_config hidden_act '\(hiddenAct)' is not supported; expected quick_gelu or gelu")
        }
    }
}

/// One pre-LN CLIP encoder layer.
public struct CLIPEncoderLayer: Sendable {
    public var layerNorm1: LayerNorm
    public var queryProjection: any LinearLayer
    public var keyProjection: any LinearLayer
    public var valueProjection: any LinearLayer
    public var outputProjection: any LinearLayer
    public var layerNorm2: LayerNorm
    public var fc1: any LinearLayer
    public var fc2: any LinearLayer
}

/// The CLIP vision transformer up to the hidden states LLaVA reads.
///
/// Conv patch embedding (no bias) as a matmul over flattened `(channel, y, x)` patches, the class
/// token first, position embeddings, `pre_layrnorm`, then pre-LN encoder layers. `post_layernorm`
/// is not applied: LLaVA takes `hidden_states[k]`, where index 0 is the embedding output.
public struct CLIPVisionTower: Sendable {
    public let config: CLIPVisionConfig
    public var patchEmbedding: any LinearLayer
    public let classEmbedding: [Float]
    public let positionEmbedding: [Float]
    public let preLayerNorm: LayerNorm
    public var layers: [CLIPEncoderLayer]
    public let activation: Activation

    /// Loads from canonical `vision_tower.…` names; only the first `layerLimit` layers are read.
    public init(config: CLIPVisionConfig, weights: CheckpointWeights, layerLimit: Int? = nil) throws {
        let c = config
        let h = c.hiddenSize
        let p = "vision_tower."
        self.config = config
        activation = Activation(configName: c.hiddenAct) ?? .quickGELU
        let patch = try weights.tensor(p + "embeddings.patch_embedding.weight", shape: [h, c.numChannels, c.patchSize, c.patchSize])
        patchEmbedding = DenseLinear(weight: patch, bias: nil)
        classEmbedding = try weights.vector(p + "embeddings.class_embedding", count: h)
        positionEmbedding = try weights.tensor(p + "embeddings.position_embedding.weight", shape: [c.tokenCount, h]).floats()
        let eps = Float(c.layerNormEps)
        func layerNorm(_ name: String) throws -> LayerNorm {
            LayerNorm(weight: try weights.vector(name + ".weight", count: h), bias: try weights.vector(name + ".bias", count: h), epsilon: eps)
        }
        preLayerNorm = try layerNorm(p + "pre_layrnorm")
        var layers: [CLIPEncoderLayer] = []
        for i in 0..<min(layerLimit ?? c.numHiddenLayers, c.numHiddenLayers) {
            let l = "\(p)encoder.layers.\(i)."
            layers.append(CLIPEncoderLayer(
                layerNorm1: try layerNorm(l + "layer_norm1"),
                queryProjection: try weights.linear(l + "self_attn.q_proj", out: h, in: h, bias: true),
                keyProjection: try weights.linear(l + "self_attn.k_proj", out: h, in: h, bias: true),
                valueProjection: try weights.linear(l + "self_attn.v_proj", out: h, in: h, bias: true),
                outputProjection: try weights.linear(l + "self_attn.out_proj", out: h, in: h, bias: true),
                layerNorm2: try layerNorm(l + "layer_norm2"),
                fc1: try weights.linear(l + "mlp.fc1", out: c.intermediateSize, in: h, bias: true),
                fc2: try weights.linear(l + "mlp.fc2", out: h, in: c.intermediateSize, bias: true)))
        }
        self.layers = layers
    }

    /// Hidden states `[tokenCount, hidden]` at each index in `indices` (0 = embeddings after
    /// `pre_layrnorm`, k = output of layer k), for pixel values `[channels, size, size]` (CHW).
    public func hiddenStates(pixelValues: [Float], at indices: [Int]) throws -> [[Float]] {
        let c = config
        let h = c.hiddenSize
        let side = c.imageSize
        guard pixelValues.count == c.numChannels * side * side else {
            throw GenerationError.imageFeatureShape(
                "pixel values hold \(pixelValues.count) floats; the vision tower needs \(c.numChannels)×\(side)×\(side)")
        }
        guard let deepest = indices.max(), deepest <= layers.count, (indices.min() ?? 0) >= 0 else {
            throw GenerationError.imageFeatureShape("hidden-state indices \(indices) outside 0...\(layers.count)")
        }
        let tokens = c.tokenCount
        let grid = c.patchesPerSide
        let patchWidth = c.numChannels * c.patchSize * c.patchSize
        var patches = [Float](repeating: 0, count: (tokens - 1) * patchWidth)
        for py in 0..<grid {
            for px in 0..<grid {
                let row = (py * grid + px) * patchWidth
                var k = 0
                for channel in 0..<c.numChannels {
                    for y in 0..<c.patchSize {
                        let source = channel * side * side + (py * c.patchSize + y) * side + px * c.patchSize
                        for x in 0..<c.patchSize {
                            patches[row + k] = pixelValues[source + x]
                            k += 1
                        }
                    }
                }
            }
        }
        var x = [Float](repeating: 0, count: tokens * h)
        x.withUnsafeMutableBufferPointer { out in
            patches.withUnsafeBufferPointer { input in
                patchEmbedding.apply(input, rows: tokens - 1, into: UnsafeMutableBufferPointer(rebasing: out[h...]))
            }
            for i in 0..<h { out[i] = classEmbedding[i] }
            for i in 0..<tokens * h { out[i] += positionEmbedding[i] }
        }
        x.withUnsafeMutableBufferPointer { buffer in
            preLayerNorm.apply(buffer.baseAddress!, rows: tokens, into: buffer.baseAddress!)
        }
        var states: [Int: [Float]] = [:]
        if indices.contains(0) { states[0] = x }
        var buffers = CLIPScratch(tokens: tokens, hidden: h, intermediate: c.intermediateSize)
        for (index, layer) in layers.prefix(deepest).enumerated() {
            x.withUnsafeMutableBufferPointer { residual in
                forward(layer, residual: residual, tokens: tokens, scratch: &buffers)
            }
            if indices.contains(index + 1) { states[index + 1] = x }
        }
        return indices.map { states[$0] ?? [] }
    }

    private func forward(_ layer: CLIPEncoderLayer, residual x: UnsafeMutableBufferPointer<Float>, tokens: Int, scratch s: inout CLIPScratch) {
        let h = config.hiddenSize
        let n = tokens * h
        s.withBuffers { normed, q, k, v, attention, projected, hidden in
            layer.layerNorm1.apply(x.baseAddress!, rows: tokens, into: normed.baseAddress!)
            let input = UnsafeBufferPointer(normed)
            layer.queryProjection.apply(input, rows: tokens, into: q)
            layer.keyProjection.apply(input, rows: tokens, into: k)
            layer.valueProjection.apply(input, rows: tokens, into: v)
            AttentionMath.multiHead(
                queries: q.baseAddress!, queryCount: tokens, heads: config.numAttentionHeads, keys: k.baseAddress!,
                values: v.baseAddress!, layout: .tokenMajor(kvHeads: config.numAttentionHeads, headDim: config.headDim),
                tokenCount: tokens, kvHeads: config.numAttentionHeads, headDim: config.headDim,
                causal: false, scale: 1 / Float(config.headDim).squareRoot(), output: attention.baseAddress!)
            layer.outputProjection.apply(UnsafeBufferPointer(attention), rows: tokens, into: projected)
            for i in 0..<n { x[i] += projected[i] }
            layer.layerNorm2.apply(x.baseAddress!, rows: tokens, into: normed.baseAddress!)
            layer.fc1.apply(input, rows: tokens, into: hidden)
            activation.apply(hidden.baseAddress!, count: tokens * config.intermediateSize)
            layer.fc2.apply(UnsafeBufferPointer(hidden), rows: tokens, into: projected)
            for i in 0..<n { x[i] += projected[i] }
        }
    }

    public var parameterCount: Int {
        let h = config.hiddenSize
        var count = patchEmbedding.inFeatures * h + classEmbedding.count + positionEmbedding.count + 2 * h
        for layer in layers {
            count += 4 * h  // two layer norms
            for projection in [layer.queryProjection, layer.keyProjection, layer.valueProjection, layer.outputProjection, layer.fc1, layer.fc2] {
                count += projection.inFeatures * projection.outFeatures + projection.outFeatures
            }
        }
        return count
    }
}

/// Per-call buffers of the vision tower, allocated once per image.
struct CLIPScratch {
    private var normed, q, k, v, attention, projected: [Float]
    private var hidden: [Float]

    init(tokens: Int, hidden width: Int, intermediate: Int) {
        normed = [Float](repeating: 0, count: tokens * width)
        q = normed
        k = normed
        v = normed
        attention = normed
        projected = normed
        hidden = [Float](repeating: 0, count: tokens * intermediate)
    }

    mutating func withBuffers(
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>,
                 UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>,
                 UnsafeMutableBufferPointer<Float>) -> Void
    ) {
        normed.withUnsafeMutableBufferPointer { a in
            q.withUnsafeMutableBufferPointer { b in
                k.withUnsafeMutableBufferPointer { c in
                    v.withUnsafeMutableBufferPointer { d in
                        attention.withUnsafeMutableBufferPointer { e in
                            projected.withUnsafeMutableBufferPointer { f in
                                hidden.withUnsafeMutableBufferPointer { g in body(a, b, c, d, e, f, g) }
                            }
                        }
                    }
                }
            }
        }
    }
}
