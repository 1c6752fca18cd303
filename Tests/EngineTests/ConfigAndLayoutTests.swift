import Foundation
import Testing
import TestSupport
@testable import Engine

@Suite struct ConfigTests {
    private func resolve(_ json: String) throws -> ModelConfig {
        try ModelRegistry.config(data: Data(json.utf8), file: "config.json")
    }

    @Test func ropeThetaIsReadFromBothForms() throws {
        let v5 = try resolve(#"{"model_type": "llama", "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}}"#)
        let v4 = try resolve(#"{"model_type": "llama", "rope_theta": 250000.0, "rope_scaling": null}"#)
        let linear = try resolve(#"{"model_type": "llama", "rope_theta": 10000, "rope_scaling": {"type": "linear", "factor": 2.0}}"#)
        #expect(v5.text.ropeTheta == 500000)
        #expect(v4.text.ropeTheta == 250000)
        #expect(linear.text.ropePositionScale == 2)
        #expect(try resolve(#"{"model_type": "llama"}"#).text.ropeTheta == 10000)
    }

    /// Partial text_config sections (as llava-hf/llava-1.5-7b-hf ships) rely on transformers' defaults.
    @Test func llavaDefaultsAreLlava15() throws {
        let config = try resolve(#"""
            {"model_type": "llava", "image_token_index": 32000,
             "text_config": {"model_type": "llama", "vocab_size": 32064, "rms_norm_eps": 1e-05},
             "vision_config": {"model_type": "clip_vision_model", "hidden_size": 1024, "image_size": 336,
                               "intermediate_size": 4096, "num_attention_heads": 16, "num_hidden_layers": 24,
                               "patch_size": 14, "projection_dim": 768}}
            """#)
        guard case .llava(let llava) = config else { Issue.record("not llava"); return }
        #expect(llava.text.layerCount == 32 && llava.text.hiddenSize == 4096 && llava.text.kvHeads == 32)
        #expect(llava.text.headDim == 128 && llava.text.activation == .silu && llava.text.normStyle == .weight)
        #expect(llava.text.vocabSize == 32064 && llava.text.rmsNormEpsilon == 1e-5)
        #expect(llava.vision.hiddenAct == "quick_gelu")
        #expect(llava.imageTokenCount == 576)
        #expect(llava.resolvedFeatureLayers == [23])
        #expect(llava.featureSelection == .default && llava.projectorActivation == .gelu && llava.projectorBias)
        #expect(llava.text.kvBytesPerTokenF16 == 512 * 1024)
    }

    @Test func gemmaLegacyGeluMeansTanh() throws {
        let legacy = try resolve(#"{"model_type": "gemma", "hidden_act": "gelu"}"#)
        let v4 = try resolve(#"{"model_type": "gemma", "hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh"}"#)
        let v5 = try resolve(#"{"model_type": "gemma", "hidden_act": "gelu_pytorch_tanh"}"#)
        for config in [legacy, v4, v5] { #expect(config.text.activation == .geluTanh) }
        // Gemma-2B shape: MQA with head_dim 256, 18 KiB of f16 KV per token.
        let gemma2B = try resolve(#"""
            {"model_type": "gemma", "hidden_size": 2048, "num_hidden_layers": 18, "num_attention_heads": 8,
             "num_key_value_heads": 1, "head_dim": 256, "intermediate_size": 16384}
            """#)
        #expect(gemma2B.text.kvBytesPerTokenF16 == 18 * 1024)
        #expect(gemma2B.text.embeddingScale == Float(Double(2048).squareRoot()))
        #expect(gemma2B.text.normStyle == .onePlusWeight && gemma2B.text.tieWordEmbeddings)
        #expect(gemma2B.text.bosTokenId == 2 && gemma2B.text.eosTokenIds == [1])
    }

    /// transformers ties a LLaVA model's embeddings when its text config does, and a Gemma text
    /// config ties by default.
    @Test func llavaTyingFollowsTheTextConfigDefault() throws {
        func tied(_ json: String) throws -> Bool? {
            guard case .llava(let llava) = try resolve(json) else { return nil }
            return llava.tieWordEmbeddings
        }
        #expect(try tied(#"{"model_type": "llava", "text_config": {"model_type": "gemma"}}"#) == true)
        #expect(try tied(#"{"model_type": "llava", "text_config": {"model_type": "llama"}}"#) == false)
        #expect(try tied(#"{"model_type": "llava", "text_config": {"model_type": "llama", "tie_word_embeddings": true}}"#) == true)
        #expect(try tied(#"{"model_type": "llava", "tie_word_embeddings": true, "text_config": {"model_type": "llama"}}"#) == true)
    }

    @Test func imageTokenIdAndIndexAreSynonyms() throws {
        for key in ["image_token_id", "image_token_index"] {
            guard case .llava(let llava) = try resolve(#"{"model_type": "llava", "\#(key)": 256000}"#) else {
                Issue.record("not llava"); continue
            }
            #expect(llava.imageTokenId == 256000)
        }
    }

    @Test func eosMayBeAList() throws {
        #expect(try resolve(#"{"model_type": "llama", "eos_token_id": [2, 7]}"#).text.eosTokenIds == [2, 7])
    }

    @Test(arguments: [
        (#"{"model_type": "llama", "num_attention_heads": 6, "num_key_value_heads": 4}"#, "multiple of num_key_value_heads"),
        (#"{"model_type": "llava", "vision_feature_select_strategy": "cls"}"#, "'cls'"),
        (#"{"model_type": "llava", "vision_feature_layer": -40}"#, "outside the tower"),
        (#"{"model_type": "llava", "vision_config": {"model_type": "siglip_vision_model"}}"#, "siglip_vision_model"),
        (#"{"hidden_size": 4}"#, "no \"model_type\""),
        ("[1, 2]", "not a JSON object"),
    ])
    func invalidConfigsAreRejected(json: String, fragment: String) {
        let error = #expect(throws: CheckpointError.self) { try resolve(json) }
        #expect(error?.message.contains(fragment) == true)
        #expect(error?.message.hasPrefix("config.json: ") == true)
    }
}

@Suite struct TensorNameTests {
    @Test(arguments: [
        ("model.language_model.layers.3.mlp.up_proj.weight", "language_model.layers.3.mlp.up_proj.weight"),
        ("language_model.model.layers.3.mlp.up_proj.weight", "language_model.layers.3.mlp.up_proj.weight"),
        ("language_model.lm_head.weight", "lm_head.weight"),
        ("lm_head.weight", "lm_head.weight"),
        ("vision_tower.vision_model.encoder.layers.0.mlp.fc1.bias", "vision_tower.encoder.layers.0.mlp.fc1.bias"),
        ("model.vision_tower.encoder.layers.0.mlp.fc1.bias", "vision_tower.encoder.layers.0.mlp.fc1.bias"),
        ("vision_tower.embeddings.class_embedding", "vision_tower.embeddings.class_embedding"),
        ("model.multi_modal_projector.linear_1.weight", "multi_modal_projector.linear_1.weight"),
        ("multi_modal_projector.linear_2.bias", "multi_modal_projector.linear_2.bias"),
    ])
    func llavaLayoutsMapToOneName(stored: String, canonical: String) {
        #expect(TensorNames.canonical(stored, textOnly: false) == canonical)
    }

    @Test func textOnlyModelPrefixIsTheLanguageModel() {
        #expect(TensorNames.canonical("model.norm.weight", textOnly: true) == "language_model.norm.weight")
        #expect(TensorNames.canonical("lm_head.weight", textOnly: true) == "lm_head.weight")
    }
}

/// Loading the fixture checkpoints: layouts, dtypes, tying, shards, facts.
@Suite struct CheckpointLoadingTests {
    @Test func transformers4LayoutAndBF16Load() throws {
        let model = try Model(directory: Fixtures.url("models/llava-llama-v4-bf16"))
        #expect(model.weights.files[0].entries.keys.contains("language_model.model.embed_tokens.weight"))
        #expect(model.weights.files[0].entries.keys.contains { $0.hasPrefix("vision_tower.vision_model.") })
        #expect(model.language.embeddings.dtype == .bf16)
        #expect(model.language.config.ropeTheta == 50000)
        #expect(model.vision?.config.visionFeatureLayers == [-3, -1])
        #expect(model.vision?.projector1.inFeatures == 64)
        #expect(!model.language.isTied)
        let facts = model.facts
        #expect(facts.storage.keys.sorted() == ["BF16"])
        #expect(facts.storage["BF16"]?.bytes == facts.storage["BF16"].map { $0.elements * 2 })
        // Only the layers up to the deepest feature layer are read (all 3 here: −1 is the last).
        #expect(facts.visionLayersUsed == 3)
    }

    @Test func transformers5LayoutLoadsUntied() throws {
        let model = try Model(directory: Fixtures.url("models/llava-llama"))
        #expect(model.weights.files[0].entries.keys.contains("lm_head.weight") || model.weights.files[0].entries.keys.contains("language_model.lm_head.weight"))
        #expect(!model.language.isTied)
        #expect(model.language.embeddings.dtype == .f32)
        // Feature layer −2 of a 3-layer tower: two layers run, the last is never loaded.
        #expect(model.facts.visionLayersUsed == 2)
        #expect(model.facts.imageTokenCount == 16)
    }

    @Test func gemmaLlavaIsTiedWithFullSelection() throws {
        let model = try Model(directory: Fixtures.url("models/llava-gemma"))
        #expect(model.language.isTied)
        #expect(model.language.config.kvHeads == 1 && model.language.config.headDim == 32)
        #expect(model.vision?.config.featureSelection == .full)
        #expect(model.facts.imageTokenCount == 17)
        #expect(model.facts.kvBytesPerTokenF16 == 2 * 2 * 1 * 32 * 2)
    }

    @Test func shardedCheckpointReadsBothShards() throws {
        let model = try Model(directory: Fixtures.url("models/llama-text-sharded"))
        #expect(model.weights.files.count == 2)
        #expect(model.language.isTied)
        #expect(model.vision == nil && model.imageTokenId == nil)
        let names = Set(model.weights.names)
        #expect(names.contains("language_model.embed_tokens.weight") && names.contains("language_model.norm.weight"))
        // Tied: parameters are counted once. 2 layers of hidden 32, MLP 64, 4 heads × 8, no GQA.
        let c = model.language.config
        let perLayer = 4 * 32 * 32 + 3 * 32 * 64 + 2 * 32
        #expect(model.facts.languageParameters == c.vocabSize * 32 + 2 * perLayer + 32)
        #expect(model.facts.totalParameters == model.facts.storage["F32"]?.elements)
    }

    @Test func f16WeightsLoadAndParametersMatchStorage() throws {
        let model = try Model(directory: Fixtures.url("models/gemma-text-f16"))
        #expect(model.language.embeddings.dtype == .f16)
        #expect(model.facts.storage.keys.sorted() == ["F16"])
        #expect(model.facts.totalParameters == model.facts.storage["F16"]?.elements)
    }

    @Test(arguments: ModelFixture.multimodal)
    func llavaParameterCountsMatchStoredElements(name: String) throws {
        let model = try Model(directory: Fixtures.url("models/\(name)"))
        let facts = model.facts
        let stored = facts.storage.values.reduce(0) { $0 + $1.elements }
        // The checkpoint also holds the tower's post_layernorm and any layers past the feature layer.
        let vision = try #require(model.vision).config.vision
        let h = vision.hiddenSize
        let perLayer = 4 * (h * h + h) + 2 * h * vision.intermediateSize + vision.intermediateSize + h + 4 * h
        let unused = 2 * h + (vision.numHiddenLayers - (facts.visionLayersUsed ?? 0)) * perLayer
        #expect(facts.totalParameters + unused == stored)
    }
}

@Suite struct ModelReportTests {
    @Test func textReportStatesShapeParametersAndKVCost() throws {
        let model = try Model(directory: Fixtures.url("models/llava-gemma"))
        let report = model.facts.textReport(directory: "Tests/Fixtures/models/llava-gemma")
        let lines = report.split(separator: "\n").map(String.init)
        #expect(lines[1] == "architecture:   llava (CLIP vision tower → projector → gemma)")
        #expect(lines[2] == "language model: 2 layers, hidden 32, 4 heads / 1 KV heads (MQA), head_dim 32, MLP 96, vocab 201, tied embeddings")
        #expect(lines.contains("vision:         2 CLIP layers used, 17 image tokens per image"))
        #expect(lines.last == "KV cache (f16): 256 bytes per token (256 B)")
        #expect(report.contains("  F32         "))
    }

    @Test func numbersFormatLocaleIndependently() {
        #expect(ModelFacts.grouped(2_050_000_000) == "2,050,000,000")
        #expect(ModelFacts.grouped(999) == "999")
        #expect(ModelFacts.bytes(18 * 1024) == "18.0 KiB")
        #expect(ModelFacts.bytes(4_100_000_000) == "3.8 GiB")
    }

    @Test func jsonCarriesTheSameFacts() throws {
        let facts = try Model(directory: Fixtures.url("models/llama-text-sharded")).facts
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(facts)) as? [String: Any]
        #expect(json?["kv_bytes_per_token_f16"] as? Int == facts.kvBytesPerTokenF16)
        #expect(json?["total_parameters"] as? Int == facts.totalParameters)
        #expect(json?["tied_embeddings"] as? Bool == true)
    }
}
