import Foundation

/// `config.json` of a `llava` checkpoint: a CLIP vision tower, a projector and a Llama or Gemma
/// language model, in the transformers 4.x or 5.x form.
public struct LlavaConfig: Sendable {
    public enum FeatureSelection: String, Sendable, Equatable {
        /// Drop the class token (LLaVA-1.5, LLaVA-Gemma).
        case `default`
        /// Keep every token, class token included.
        case full
    }

    public var text: DecoderConfig
    public var vision: CLIPVisionConfig
    /// The `<image>` placeholder id (`image_token_index` in 4.x, also `image_token_id`).
    public var imageTokenId: Int
    /// Hidden-state indices of the vision tower whose features are used (concatenated when several);
    /// negative values count from the end as in Python.
    public var visionFeatureLayers: [Int]
    public var featureSelection: FeatureSelection
    public var projectorActivation: Activation
    public var projectorBias: Bool
    /// Whether the output projection may be the token embedding (top-level or text_config flag).
    public var tieWordEmbeddings: Bool

    /// Non-negative indices into the tower's `numHiddenLayers + 1` hidden states.
    public var resolvedFeatureLayers: [Int] {
        visionFeatureLayers.map { $0 < 0 ? vision.numHiddenLayers + 1 + $0 : $0 }
    }

    /// Image embeddings one `<image>` placeholder expands to.
    public var imageTokenCount: Int {
        vision.patchesPerSide * vision.patchesPerSide + (featureSelection == .full ? 1 : 0)
    }

    /// Decodes the top-level object; `textConfig` is decoded by the registry for its `model_type`.
    init(json: [String: Any], text: DecoderConfig, textTie: Bool, file: String) throws {
        self.text = text
        let visionJSON = json["vision_config"] as? [String: Any] ?? [:]
        let visionType = visionJSON["model_type"] as? String ?? "clip_vision_model"
        guard visionType == "clip_vision_model" else {
            throw CheckpointError(
                .unsupportedModelType,
                "\(file): vision_config model_type '\(visionType)' is not supported; lcb runs clip_vision_model towers")
        }
        if visionJSON.isEmpty {
            // LlavaConfig's default tower: CLIP ViT-L/14-336.
            var v = CLIPVisionConfig()
            (v.hiddenSize, v.intermediateSize, v.numHiddenLayers, v.numAttentionHeads, v.imageSize, v.patchSize) =
                (1024, 4096, 24, 16, 336, 14)
            vision = v
        } else {
            vision = try JSONDecoder().decode(CLIPVisionConfig.self, from: JSONSerialization.data(withJSONObject: visionJSON))
        }
        try vision.validate(file: file)
        // LlavaConfig maps image_token_id to image_token_index; either may be written.
        if let value = json["image_token_id"] ?? json["image_token_index"] {
            guard let id = value as? Int else {
                throw CheckpointError(.invalidConfig, "\(file): image_token_index must be an integer token id")
            }
            imageTokenId = id
        } else {
            imageTokenId = 32000
        }
        switch json["vision_feature_layer"] {
        case nil: visionFeatureLayers = [-2]
        case let single as Int: visionFeatureLayers = [single]
        case let list as [Int] where !list.isEmpty: visionFeatureLayers = list
        default:
            throw CheckpointError(.invalidConfig, "\(file): vision_feature_layer must be an integer or a list of integers")
        }
        let strategy = json["vision_feature_select_strategy"] as? String ?? "default"
        guard let selection = FeatureSelection(rawValue: strategy) else {
            throw CheckpointError(.invalidConfig, "\(file): vision_feature_select_strategy '\(strategy)' is not one of default, full")
        }
        featureSelection = selection
        let activationName = json["projector_hidden_act"] as? String ?? "gelu"
        guard let activation = Activation(configName: activationName) else {
            throw CheckpointError(.invalidConfig, "\(file): projector_hidden_act '\(activationName)' is not supported; expected gelu")
        }
        projectorActivation = activation
        projectorBias = json["multimodal_projector_bias"] as? Bool ?? true
        tieWordEmbeddings = (json["tie_word_embeddings"] as? Bool ?? false) || textTie
        for layer in resolvedFeatureLayers where layer < 0 || layer > vision.numHiddenLayers {
            throw CheckpointError(
                .invalidConfig,
                "\(file): vision_feature_layer \(visionFeatureLayers) is outside the tower's \(vision.numHiddenLayers + 1) hidden states")
        }
    }
}

/// Per-image embeddings ready to splice into a prompt: `[count, dimension]` row-major.
public struct ImageFeatures: Sendable, Equatable {
    public var count: Int
    public var dimension: Int
    public var values: [Float]

    public init(count: Int, dimension: Int, values: [Float]) {
        precondition(values.count == count * dimension, "values must hold count × dimension floats")
        self.count = count
        self.dimension = dimension
        self.values = values
    }
}

/// LLaVA's image path: the CLIP tower, feature selection, and the `linear_1 → GELU → linear_2`
/// projector into the language model's embedding space.
///
/// Its output depends only on the vision weights, the projector and the pixels, which is why the
/// runner computes it once per image and caches it (`ImageFeatures` is a plain value).
public struct LlavaVisionEncoder: Sendable {
    public let config: LlavaConfig
    public var tower: CLIPVisionTower
    public var projector1: any LinearLayer
    public var projector2: any LinearLayer

    public init(config: LlavaConfig, weights: CheckpointWeights) throws {
        self.config = config
        let deepest = config.resolvedFeatureLayers.max() ?? config.vision.numHiddenLayers
        tower = try CLIPVisionTower(config: config.vision, weights: weights, layerLimit: deepest)
        let inWidth = config.vision.hiddenSize * config.visionFeatureLayers.count
        let h = config.text.hiddenSize
        projector1 = try weights.linear("multi_modal_projector.linear_1", out: h, in: inWidth, bias: config.projectorBias)
        projector2 = try weights.linear("multi_modal_projector.linear_2", out: h, in: h, bias: config.projectorBias)
    }

    /// The selected tower hidden states `[imageTokenCount, visionHidden × layers]` before the projector.
    public func selectedFeatures(pixelValues: [Float]) throws -> ImageFeatures {
        let layers = config.resolvedFeatureLayers
        let states = try tower.hiddenStates(pixelValues: pixelValues, at: layers)
        let h = config.vision.hiddenSize
        let skip = config.featureSelection == .default ? 1 : 0
        let rows = config.vision.tokenCount - skip
        let width = h * layers.count
        var values = [Float](repeating: 0, count: rows * width)
        for (l, state) in states.enumerated() {
            for r in 0..<rows {
                for i in 0..<h { values[r * width + l * h + i] = state[(r + skip) * h + i] }
            }
        }
        return ImageFeatures(count: rows, dimension: width, values: values)
    }

    /// Image embeddings `[imageTokenCount, textHidden]` for pixel values `[3, size, size]` (CHW, normalised).
    public func imageFeatures(pixelValues: [Float]) throws -> ImageFeatures {
        try project(selectedFeatures(pixelValues: pixelValues))
    }

    /// The projector alone.
    public func project(_ selected: ImageFeatures) throws -> ImageFeatures {
        guard selected.dimension == projector1.inFeatures else {
            throw GenerationError.imageFeatureShape("features have width \(selected.dimension); the projector takes \(projector1.inFeatures)")
        }
        let rows = selected.count
        let h = projector1.outFeatures
        var hidden = [Float](repeating: 0, count: rows * h)
        var output = [Float](repeating: 0, count: rows * projector2.outFeatures)
        selected.values.withUnsafeBufferPointer { input in
            hidden.withUnsafeMutableBufferPointer { hiddenBuffer in
                projector1.apply(input, rows: rows, into: hiddenBuffer)
                config.projectorActivation.apply(hiddenBuffer.baseAddress!, count: rows * h)
                output.withUnsafeMutableBufferPointer { out in
                    projector2.apply(UnsafeBufferPointer(hiddenBuffer), rows: rows, into: out)
                }
            }
        }
        return ImageFeatures(count: rows, dimension: projector2.outFeatures, values: output)
    }

    /// Replaces linear layers of the tower and the projector; names as in the checkpoint's
    /// canonical layout (`vision_tower.encoder.layers.3.self_attn.q_proj`, `…mlp.fc1`,
    /// `vision_tower.embeddings.patch_embedding`, `multi_modal_projector.linear_1`).
    public mutating func replaceLinearLayers(_ transform: (String, any LinearLayer) throws -> any LinearLayer) rethrows {
        tower.patchEmbedding = try transform("vision_tower.embeddings.patch_embedding", tower.patchEmbedding)
        for i in tower.layers.indices {
            let p = "vision_tower.encoder.layers.\(i)."
            tower.layers[i].queryProjection = try transform(p + "self_attn.q_proj", tower.layers[i].queryProjection)
            tower.layers[i].keyProjection = try transform(p + "self_attn.k_proj", tower.layers[i].keyProjection)
            tower.layers[i].valueProjection = try transform(p + "self_attn.v_proj", tower.layers[i].valueProjection)
            tower.layers[i].outputProjection = try transform(p + "self_attn.out_proj", tower.layers[i].outputProjection)
            tower.layers[i].fc1 = try transform(p + "mlp.fc1", tower.layers[i].fc1)
            tower.layers[i].fc2 = try transform(p + "mlp.fc2", tower.layers[i].fc2)
        }
        projector1 = try transform("multi_modal_projector.linear_1", projector1)
        projector2 = try transform("multi_modal_projector.linear_2", projector2)
    }

    public var parameterCount: Int {
        tower.parameterCount + projector1.inFeatures * projector1.outFeatures + projector2.inFeatures * projector2.outFeatures
            + (config.projectorBias ? projector1.outFeatures + projector2.outFeatures : 0)
    }
}
