import Foundation
import Testing
import TestSupport
@testable import Engine

/// The engine against transformers on every fixture checkpoint: prefill logits, greedy tokens,
/// vision features.
@Suite struct ModelOutputTests {
    /// With a Float32 cache the engine computes what transformers computes in float32.
    @Test(arguments: ModelFixture.all.map(ModelFixture.init(name:)))
    func prefillLogitsMatchTransformers(fixture: ModelFixture) throws {
        let model = try Model(directory: fixture.directory)
        let inputs = try fixture.inputs()
        let images = fixture.isMultimodal
            ? [try model.imageFeatures(pixelValues: try fixture.array("pixel_values").values)] : []
        let embeddings = try model.inputEmbeddings(tokens: inputs.promptIds, images: images)
        #expect(embeddings.count == inputs.expandedLength * model.language.config.hiddenSize)
        let cache = model.language.makeReferenceCache()
        let logits = try model.prefill(tokens: inputs.promptIds, images: images, cache: cache)
        let expected = try fixture.array("prefill_logits").values
        #expect(logits.count == expected.count)
        #expect(maxAbsDifference(logits, expected) <= 1e-3)
        #expect(cache.count(layer: 0) == inputs.expandedLength)
    }

    /// The f16 baseline cache rounds keys and values to half precision (relative error ≤ 2⁻¹¹), so
    /// its logits differ from float32 by a few 10⁻⁴ of their scale — and no more.
    @Test(arguments: ModelFixture.all.map(ModelFixture.init(name:)))
    func f16CacheLogitsStayCloseToFloat32(fixture: ModelFixture) throws {
        let model = try Model(directory: fixture.directory)
        let inputs = try fixture.inputs()
        let images = fixture.isMultimodal
            ? [try model.imageFeatures(pixelValues: try fixture.array("pixel_values").values)] : []
        let logits = try model.prefill(tokens: inputs.promptIds, images: images, cache: model.makeCache())
        let expected = try fixture.array("prefill_logits").values
        let scale = expected.map(abs).max() ?? 1
        #expect(maxAbsDifference(logits, expected) <= 2e-3 * scale)
    }

    @Test(arguments: ModelFixture.all.map(ModelFixture.init(name:)))
    func greedyTokensMatchTransformers(fixture: ModelFixture) throws {
        let model = try Model(directory: fixture.directory)
        let inputs = try fixture.inputs()
        let images = fixture.isMultimodal
            ? [try model.imageFeatures(pixelValues: try fixture.array("pixel_values").values)] : []
        let cache = model.makeCache()
        let logits = try model.prefill(tokens: inputs.promptIds, images: images, cache: cache)
        let output = try model.generateGreedy(cache: cache, firstLogits: logits, maxNewTokens: 16)
        #expect(output.tokens == inputs.greedyTokens)
        #expect(model.eosTokenIds == [inputs.eosTokenId])
    }

    @Test(arguments: ModelFixture.multimodal.map(ModelFixture.init(name:)))
    func visionFeaturesMatchTransformers(fixture: ModelFixture) throws {
        let model = try Model(directory: fixture.directory)
        let vision = try #require(model.vision)
        let pixels = try fixture.array("pixel_values")
        #expect(pixels.shape == [3, vision.config.vision.imageSize, vision.config.vision.imageSize])
        let selected = try vision.selectedFeatures(pixelValues: pixels.values)
        let expectedSelected = try fixture.array("vision_features")
        #expect([selected.count, selected.dimension] == expectedSelected.shape)
        #expect(maxAbsDifference(selected.values, expectedSelected.values) <= 1e-4)
        let projected = try vision.project(selected)
        let expectedProjected = try fixture.array("image_features")
        #expect([projected.count, projected.dimension] == expectedProjected.shape)
        #expect(maxAbsDifference(projected.values, expectedProjected.values) <= 1e-4)
        #expect(projected.count == vision.config.imageTokenCount)
    }

    /// The prefill split in two (prefix, then the rest against the stored prefix) gives the same
    /// logits as one pass: the `prefix` regime of shared prefill relies on it.
    @Test func prefillInTwoPartsEqualsOnePass() throws {
        let fixture = ModelFixture(name: "llava-llama")
        let model = try Model(directory: fixture.directory)
        let inputs = try fixture.inputs()
        let image = try model.imageFeatures(pixelValues: try fixture.array("pixel_values").values)
        let embeddings = try model.inputEmbeddings(tokens: inputs.promptIds, images: [image])
        let h = model.language.config.hiddenSize
        let split = 20 * h
        let cache = model.language.makeReferenceCache()
        _ = try model.language.prefill(embeddings: Array(embeddings[..<split]), cache: cache)
        let logits = try model.language.prefill(embeddings: Array(embeddings[split...]), cache: cache)
        #expect(maxAbsDifference(logits, try fixture.array("prefill_logits").values) <= 1e-3)
    }

    /// The transformers-4 behaviour for LLaVA-Gemma: image features scaled like token embeddings.
    @Test func imageFeatureScalingOption() throws {
        let fixture = ModelFixture(name: "llava-gemma")
        let model = try Model(directory: fixture.directory)
        let inputs = try fixture.inputs()
        let image = try model.imageFeatures(pixelValues: try fixture.array("pixel_values").values)
        let plain = try model.inputEmbeddings(tokens: inputs.promptIds, images: [image])
        model.scalesImageFeatures = true
        let scaled = try model.inputEmbeddings(tokens: inputs.promptIds, images: [image])
        let h = model.language.config.hiddenSize
        let imageId = try #require(model.imageTokenId)
        let start = try #require(inputs.promptIds.firstIndex(of: imageId)) * h
        let scale = Float(Double(h).squareRoot())
        #expect(scaled[start] == plain[start] * scale)
        #expect(scaled[start + image.values.count - 1] == plain[start + image.values.count - 1] * scale)
        #expect(scaled[..<start] == plain[..<start])
        #expect(scaled[(start + image.values.count)...] == plain[(start + image.values.count)...])
    }

    /// A prompt a Hugging Face processor already expanded (N image tokens) gives the same inputs.
    @Test func expandedPlaceholderRunsAreAccepted() throws {
        let fixture = ModelFixture(name: "llava-llama")
        let model = try Model(directory: fixture.directory)
        let inputs = try fixture.inputs()
        let image = try model.imageFeatures(pixelValues: try fixture.array("pixel_values").values)
        let imageId = try #require(model.imageTokenId)
        let expanded = inputs.promptIds.flatMap { $0 == imageId ? Array(repeating: imageId, count: image.count) : [$0] }
        #expect(expanded.count == inputs.expandedLength)
        #expect(try model.inputEmbeddings(tokens: expanded, images: [image])
                == model.inputEmbeddings(tokens: inputs.promptIds, images: [image]))
        #expect(throws: GenerationError.self) { try model.inputEmbeddings(tokens: [1, imageId, imageId, 5], images: [image]) }
        #expect(throws: GenerationError.imageCountMismatch(placeholders: 2, images: 1)) {
            try model.inputEmbeddings(tokens: [1, imageId, 5, imageId], images: [image])
        }
        #expect(throws: GenerationError.notMultimodal) {
            try Model(directory: Fixtures.url("models/gemma-text-f16")).inputEmbeddings(tokens: [2], images: [image])
        }
    }

    @Test func generationConfigEosTakesPrecedence() throws {
        let scratch = try ScratchCheckpoint(copying: "gemma-text-f16")
        defer { scratch.remove() }
        #expect(try Model(directory: scratch.directory).eosTokenIds == [1])
        try Data(#"{"eos_token_id": [1, 107], "bos_token_id": 2}"#.utf8).write(to: scratch.url("generation_config.json"))
        #expect(try Model(directory: scratch.directory).eosTokenIds == [1, 107])
        try Data("nonsense".utf8).write(to: scratch.url("generation_config.json"))
        #expect(throws: CheckpointError.self) { try Model(directory: scratch.directory) }
    }

    /// Quantizers swap layers through `replaceLinearLayers`; a wrapper that delegates must leave
    /// outputs unchanged and see every projection once.
    @Test func replacingLinearLayersReachesEveryProjection() throws {
        struct Counting: LinearLayer {
            let inner: any LinearLayer
            var inFeatures: Int { inner.inFeatures }
            var outFeatures: Int { inner.outFeatures }
            var byteCount: Int { inner.byteCount }
            func apply(_ input: UnsafeBufferPointer<Float>, rows: Int, into output: UnsafeMutableBufferPointer<Float>) {
                inner.apply(input, rows: rows, into: output)
            }
        }
        let fixture = ModelFixture(name: "llava-llama")
        let model = try Model(directory: fixture.directory)
        let factsBefore = model.facts
        var names: [String] = []
        model.language.replaceLinearLayers { name, layer in
            names.append(name)
            return Counting(inner: layer)
        }
        model.vision?.replaceLinearLayers { name, layer in
            names.append(name)
            return Counting(inner: layer)
        }
        let c = model.language.config
        #expect(names.count == 7 * c.layerCount + 1 + 1 + 6 * (model.facts.visionLayersUsed ?? 0) + 2)
        #expect(names.contains("layers.1.mlp.down_proj") && names.contains("lm_head"))
        #expect(names.contains("vision_tower.encoder.layers.1.self_attn.out_proj") && names.contains("multi_modal_projector.linear_2"))
        #expect(model.language.layers[0].queryProjection is Counting)
        #expect(model.facts.totalParameters == factsBefore.totalParameters)
        let inputs = try fixture.inputs()
        let image = try model.imageFeatures(pixelValues: try fixture.array("pixel_values").values)
        let logits = try model.prefill(tokens: inputs.promptIds, images: [image], cache: model.language.makeReferenceCache())
        #expect(maxAbsDifference(logits, try fixture.array("prefill_logits").values) <= 1e-3)
    }

    /// The one-call pipeline gives what the separate steps give.
    @Test(arguments: ["llava-gemma", "gemma-text-f16"])
    func generateRunsThePipeline(name: String) throws {
        let fixture = ModelFixture(name: name)
        let model = try Model(directory: fixture.directory)
        let inputs = try fixture.inputs()
        let pixels = fixture.isMultimodal ? [try fixture.array("pixel_values").values] : []
        let result = try model.generate(tokens: inputs.promptIds, pixelValues: pixels, maxNewTokens: 16)
        #expect(result.output.tokens == inputs.greedyTokens)
        #expect(result.promptPositions == inputs.expandedLength)
        #expect(result.promptLogits.count == model.language.config.vocabSize)
        let expected = try fixture.array("prefill_logits").values
        #expect(maxAbsDifference(result.promptLogits, expected) <= 2e-3 * (expected.map(abs).max() ?? 1))
        #expect(result.timings.decodeSteps == inputs.greedyTokens.count - 1)
        #expect(result.timings.prefillSeconds > 0 && result.timings.decodeSeconds > 0)
        #expect((result.timings.visionSeconds > 0) == fixture.isMultimodal)
    }

    /// Two placeholders take two images, in order.
    @Test func twoImagesFillTwoPlaceholdersInOrder() throws {
        let fixture = ModelFixture(name: "llava-llama")
        let model = try Model(directory: fixture.directory)
        let imageId = try #require(model.imageTokenId)
        let pixels = try fixture.array("pixel_values").values
        let first = try model.imageFeatures(pixelValues: pixels)
        let second = try model.imageFeatures(pixelValues: pixels.map { -$0 })
        #expect(first != second)
        let h = model.language.config.hiddenSize
        let embeddings = try model.inputEmbeddings(tokens: [1, imageId, 5, imageId], images: [first, second])
        #expect(embeddings.count == (2 + 2 * first.count) * h)
        #expect(Array(embeddings[h..<(h + first.values.count)]) == first.values)
        let secondStart = (2 + first.count) * h
        #expect(Array(embeddings[secondStart...]) == second.values)
        #expect(Array(embeddings[(secondStart - h)..<secondStart]) == (try model.language.embed([5])))
    }
}
