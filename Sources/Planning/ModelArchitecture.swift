import Foundation

/// The sizes of a LLaVA checkpoint that the cost model needs, read from its config.json.
///
/// llava-hf configs write only the fields that differ from the Hugging Face defaults of their
/// `model_type`, so missing fields take those defaults (`LlamaConfig`, `GemmaConfig`,
/// `CLIPVisionConfig`), as transformers does.
public struct ModelArchitecture: Sendable, Hashable {
    /// The language model's sizes.
    public struct LanguageModel: Sendable, Hashable {
        public var modelType: String
        public var hiddenSize: Int
        public var layers: Int
        public var heads: Int
        public var kvHeads: Int
        public var headDim: Int
        public var intermediateSize: Int
        public var vocabSize: Int

        /// Parameters of the decoder layers' linears (what weight quantization acts on).
        public var linearParameters: Int {
            let attention = hiddenSize * headDim * (2 * heads + 2 * kvHeads)
            let mlp = 3 * hiddenSize * intermediateSize
            return layers * (attention + mlp)
        }

        /// Elements of K and V stored per token, over all layers.
        public var kvElementsPerToken: Int { 2 * layers * kvHeads * headDim }
    }

    /// The vision tower's sizes.
    public struct VisionTower: Sendable, Hashable {
        public var modelType: String
        public var hiddenSize: Int
        public var layers: Int
        public var heads: Int
        public var intermediateSize: Int
        public var imageSize: Int
        public var patchSize: Int

        /// Patches per image, i.e. (image_size / patch_size)².
        public var patches: Int { let side = imageSize / max(patchSize, 1); return side * side }

        /// Parameters of the encoder's linears and the patch embedding.
        public var parameters: Int {
            layers * (4 * hiddenSize * hiddenSize + 2 * hiddenSize * intermediateSize) + 3 * patchSize * patchSize * hiddenSize
        }
    }

    public var language: LanguageModel
    public var vision: VisionTower
    /// The encoder layer whose hidden states feed the projector (negative counts from the end).
    public var visionFeatureLayer: Int
    /// `default` drops the CLS token, `full` keeps it.
    public var keepsClassToken: Bool
    /// Bytes per weight element as stored (`torch_dtype`).
    public var bytesPerWeight: Int
    /// The stored dtype in the spec's spelling (`f16`, `bf16`, `f32`): what `dtype: auto` means.
    public var storedDType: String

    /// Embeddings one image contributes to the prompt.
    public var imageTokens: Int { vision.patches + (keepsClassToken ? 1 : 0) }

    /// Encoder layers run to reach the feature layer.
    public var visionLayersRun: Int {
        visionFeatureLayer < 0 ? vision.layers + 1 + visionFeatureLayer : visionFeatureLayer
    }

    /// Projector parameters (`linear_1`: vision → LM hidden, `linear_2`: LM hidden → LM hidden, with biases).
    public var projectorParameters: Int {
        vision.hiddenSize * language.hiddenSize + language.hiddenSize * language.hiddenSize + 2 * language.hiddenSize
    }
}

/// Why a config.json could not be read; its text names the file and the problem.
public struct ModelConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
}

extension ModelArchitecture {
    /// Reads `config.json` in a checkpoint folder.
    public static func read(checkpoint folder: URL) throws(ModelConfigError) -> ModelArchitecture {
        let file = folder.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ModelConfigError(description: "\(file.path) does not exist")
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw ModelConfigError(description: "cannot read \(file.path): \(error.localizedDescription)")
        }
        return try parse(configJSON: data, file: file.path)
    }

    /// Parses the text of a LLaVA `config.json`.
    public static func parse(configJSON data: Data, file: String) throws(ModelConfigError) -> ModelArchitecture {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelConfigError(description: "\(file) is not a JSON object")
        }
        let text = root["text_config"] as? [String: Any] ?? [:]
        let vision = root["vision_config"] as? [String: Any] ?? [:]
        let textType = text["model_type"] as? String ?? "llama"
        let visionType = vision["model_type"] as? String ?? "clip_vision_model"
        // A config without `vision_config` gets LlavaConfig's built-in CLIP ViT-L/14-336.
        let visionDefaults = vision.isEmpty ? llavaDefaultVision : (visionDefaultsByType[visionType] ?? [:])
        guard let textDefaults = languageDefaultsByType[textType] ?? (text.isEmpty ? nil : [:]) else {
            throw ModelConfigError(description: "\(file): text_config.model_type '\(textType)' is not known")
        }

        func int(_ dict: [String: Any], _ defaults: [String: Int], _ key: String, section: String) throws(ModelConfigError) -> Int {
            if let value = dict[key] as? Int { return value }
            if let value = dict[key] as? Double, value == value.rounded() { return Int(value) }
            if let value = defaults[key] { return value }
            throw ModelConfigError(description: "\(file): \(section).\(key) is missing and model_type has no default for it")
        }

        let hidden = try int(text, textDefaults, "hidden_size", section: "text_config")
        let heads = try int(text, textDefaults, "num_attention_heads", section: "text_config")
        let lm = LanguageModel(
            modelType: textType, hiddenSize: hidden,
            layers: try int(text, textDefaults, "num_hidden_layers", section: "text_config"),
            heads: heads,
            kvHeads: (text["num_key_value_heads"] as? Int) ?? textDefaults["num_key_value_heads"] ?? heads,
            headDim: (text["head_dim"] as? Int) ?? textDefaults["head_dim"] ?? hidden / max(heads, 1),
            intermediateSize: try int(text, textDefaults, "intermediate_size", section: "text_config"),
            vocabSize: (text["vocab_size"] as? Int) ?? (root["vocab_size"] as? Int) ?? textDefaults["vocab_size"] ?? 32000)
        let tower = VisionTower(
            modelType: visionType,
            hiddenSize: try int(vision, visionDefaults, "hidden_size", section: "vision_config"),
            layers: try int(vision, visionDefaults, "num_hidden_layers", section: "vision_config"),
            heads: try int(vision, visionDefaults, "num_attention_heads", section: "vision_config"),
            intermediateSize: try int(vision, visionDefaults, "intermediate_size", section: "vision_config"),
            imageSize: try int(vision, visionDefaults, "image_size", section: "vision_config"),
            patchSize: try int(vision, visionDefaults, "patch_size", section: "vision_config"))
        guard lm.hiddenSize > 0, lm.layers > 0, lm.heads > 0, lm.kvHeads > 0, lm.headDim > 0,
              tower.hiddenSize > 0, tower.layers > 0, tower.patchSize > 0, tower.imageSize >= tower.patchSize else {
            throw ModelConfigError(description: "\(file): sizes must be positive (hidden, layers, heads, patch, image size)")
        }
        let dtype = (text["torch_dtype"] as? String) ?? (root["torch_dtype"] as? String) ?? (root["dtype"] as? String) ?? "float16"
        return ModelArchitecture(
            language: lm, vision: tower,
            visionFeatureLayer: root["vision_feature_layer"] as? Int ?? -2,
            keepsClassToken: (root["vision_feature_select_strategy"] as? String) == "full",
            bytesPerWeight: dtype == "float32" ? 4 : 2,
            storedDType: ["float32": "f32", "bfloat16": "bf16", "float16": "f16"][dtype] ?? dtype)
    }

    // Hugging Face defaults (transformers LlamaConfig, GemmaConfig, CLIPVisionConfig, LlavaConfig).
    private static let languageDefaultsByType: [String: [String: Int]] = [
        "llama": ["hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                  "intermediate_size": 11008, "vocab_size": 32000],
        "gemma": ["hidden_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
                  "num_key_value_heads": 16, "head_dim": 256, "intermediate_size": 24576, "vocab_size": 256000],
    ]
    private static let visionDefaultsByType: [String: [String: Int]] = [
        "clip_vision_model": ["hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                              "intermediate_size": 3072, "image_size": 224, "patch_size": 32],
    ]
    private static let llavaDefaultVision: [String: Int] = [
        "hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
        "intermediate_size": 4096, "image_size": 336, "patch_size": 14,
    ]
}
