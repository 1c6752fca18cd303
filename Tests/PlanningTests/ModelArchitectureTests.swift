import Foundation
import Planning
import Testing
import TestSupport

/// Sizes read from real llava-hf config.json files, checked against transformers' own parameter
/// counts (Tools/fixtures/planning.py writes expected.json by building the model on the meta device).
@Suite struct ModelArchitectureTests {
    struct Expected: Decodable {
        let language_linear_parameters: Int
        let language_parameters_with_head: Int
        let vision_tower_parameters: Int
        let projector_parameters: Int
        let kv_elements_per_token: Int
        let image_tokens: Int
        let hidden_size: Int
        let num_hidden_layers: Int
        let intermediate_size: Int
        let vocab_size: Int
    }

    @Test(arguments: ["llava-1.5-7b", "llava-gemma-2b"])
    func sizesMatchTransformers(model: String) throws {
        let folder = Fixtures.url("planning/\(model)")
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        let architecture = try ModelArchitecture.read(checkpoint: folder)
        #expect(architecture.language.hiddenSize == expected.hidden_size)
        #expect(architecture.language.layers == expected.num_hidden_layers)
        #expect(architecture.language.intermediateSize == expected.intermediate_size)
        #expect(architecture.language.vocabSize == expected.vocab_size)
        #expect(architecture.language.linearParameters == expected.language_linear_parameters)
        #expect(architecture.language.kvElementsPerToken == expected.kv_elements_per_token)
        #expect(architecture.imageTokens == expected.image_tokens)
        #expect(architecture.projectorParameters == expected.projector_parameters)
        // The cost model leaves out norms, biases and position embeddings of the tower: < 0.5 %.
        let tower = Double(architecture.vision.parameters)
        #expect(abs(tower - Double(expected.vision_tower_parameters)) / Double(expected.vision_tower_parameters) < 0.005)
    }

    @Test func llavaDefaultsFillAPartialConfig() throws {
        // llava-1.5-7b-hf's text_config names only the vocabulary: the rest is LlamaConfig's defaults.
        let architecture = try ModelArchitecture.read(checkpoint: Fixtures.url("planning/llava-1.5-7b"))
        #expect(architecture.language.modelType == "llama")
        #expect(architecture.language.heads == 32)
        #expect(architecture.language.kvHeads == 32)
        #expect(architecture.language.headDim == 128)
        #expect(architecture.visionLayersRun == 23)
        #expect(architecture.storedDType == "f16")
        // reference/models.md: 512 KiB of f16 KV cache per token for 7B, 18 KiB for Gemma-2B.
        #expect(architecture.language.kvElementsPerToken * 2 == 512 * 1024)
        let gemma = try ModelArchitecture.read(checkpoint: Fixtures.url("planning/llava-gemma-2b"))
        #expect(gemma.language.kvElementsPerToken * 2 == 18 * 1024)
        #expect(gemma.storedDType == "bf16")
    }

    @Test func unreadableConfigsSayWhy() throws {
        #expect(throws: ModelConfigError.self) { try ModelArchitecture.read(checkpoint: URL(fileURLWithPath: "/nonexistent/model")) }
        do {
            _ = try ModelArchitecture.parse(configJSON: Data("[1, 2]".utf8), file: "m/config.json")
            Issue.record("a JSON array was accepted")
        } catch {
            #expect(error.description == "m/config.json is not a JSON object")
        }
        do {
            _ = try ModelArchitecture.parse(configJSON: Data(#"{"text_config": {"model_type": "mamba"}}"#.utf8), file: "c.json")
            Issue.record("an unknown model type without sizes was accepted")
        } catch {
            #expect(error.description.contains("hidden_size is missing"))
        }
        do {
            _ = try ModelArchitecture.parse(configJSON: Data(#"{"text_config": {"hidden_size": 0}}"#.utf8), file: "c.json")
            Issue.record("a zero hidden size was accepted")
        } catch {
            #expect(error.description.contains("must be positive"))
        }
    }

    @Test func costsScaleAsTheFormulasSay() throws {
        let architecture = try ModelArchitecture.read(checkpoint: Fixtures.url("planning/llava-1.5-7b"))
        let short = CostModel.estimatedTokens("abcd")
        #expect(short == 1)
        #expect(CostModel.estimatedTokens("abcde") == 2)
        let plan = try Planner(inspector: FixtureInspector(configFixture: "llava-1.5-7b"), samples: testSamples)
            .plan(cells(kv: [nil], datasets: [dataset("vqa")]))
        let vision = try #require(plan.jobs.first { $0.kind == .visionEncoding }?.cost)
        // CLIP ViT-L/14-336 to layer 23 of 24 plus the projector: about 0.35–0.4 TFLOP per image.
        #expect(vision.flops > 3.4e11 && vision.flops < 4.0e11)
        let prefill = try #require(plan.jobs.first { $0.kind == .prefill }?.cost)
        // ~600 tokens through 6.5 B linear parameters: 2 · 6.5e9 · 600 ≈ 7.8 TFLOP, plus attention.
        #expect(prefill.flops > 7.5e12 && prefill.flops < 9.5e12)
        let decode = try #require(plan.jobs.first { $0.kind == .decode }?.cost)
        // 8 tokens, each reading ~13 GB of f16 weights and doing 2 FLOPs per weight (plus attention).
        #expect(decode.bytes > 8 * 13e9 && decode.bytes < 8 * 15e9)
        let perToken = 2 * Double(architecture.language.linearParameters + architecture.language.hiddenSize * architecture.language.vocabSize)
        #expect(decode.flops > 8 * perToken && decode.flops < 8 * perToken * 1.1)
    }
}
