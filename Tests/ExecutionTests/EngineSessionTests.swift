import Engine
import Foundation
import Planning
import Quantization
import SpecLanguage
import TestSupport
import Testing
@testable import Execution

/// The engine glue on the tiny LLaVA-Gemma fixture: the prefix split, shared prefills and copies.
@Suite struct EngineSessionTests {
    func session(weights: SpecLanguage.WeightQuantization? = nil, calibration: [CalibrationSample] = [],
                 stored: StoredQuantizedWeights? = nil) throws -> EngineSession {
        let descriptor = ModelDescriptor(name: "gemma", path: Fixtures.url("models/llava-gemma").path, template: .gemma,
                                         preprocessing: .pad)
        return try EngineSession(descriptor: descriptor, weights: weights, calibration: calibration, stored: stored)
    }

    let image = Fixtures.url("images/sources/baseline444_61x97.jpg")
    let prompt = SpecLanguage.PromptTemplate.gemma.render(userText: "What color is the shape?", hasImage: true)

    @Test func theSplitIsAtTheImageAndTheHalvesMakeTheWholePrompt() throws {
        let session = try session()
        let ids = try session.tokenize(prompt, hasImage: true)
        #expect(ids.prefix.last == session.model.imageTokenId)
        #expect(ids.prefix.filter { $0 == session.model.imageTokenId }.count == 1)
        let bos = try #require(session.tokenizer.tokenID(for: "<bos>"))
        #expect(ids.prefix.first == bos)
        #expect(ids.full.filter { $0 == bos }.count == 1)  // the template's <bos> only, none added
        #expect(!ids.question.isEmpty)
        #expect(session.tokenizer.decode(ids.question).contains("What color is the shape?"))
    }

    @Test func aPrefixPrefillContinuedWithTheQuestionEqualsOnePass() throws {
        let session = try session()
        let ids = try session.tokenize(prompt, hasImage: true)
        let features = try session.visionFeatures(image: image)
        let whole = try session.makeCache(kv: nil)
        let logitsWhole = try session.prefill(ids.full, images: [features], cache: whole)
        let prefix = try session.makeCache(kv: nil)
        _ = try session.prefill(ids.prefix, images: [features], cache: prefix)
        let continued = try session.quantizedCopy(of: prefix, kv: nil)
        let logitsSplit = try session.prefill(ids.question, images: [], cache: continued)
        let difference = zip(logitsWhole, logitsSplit).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-4)
        let settings = GenerationSettings(maxNewTokens: 6)
        let a = try session.generate(cache: whole, firstLogits: logitsWhole, generation: settings)
        let b = try session.generate(cache: continued, firstLogits: logitsSplit, generation: settings)
        #expect(a.tokens == b.tokens)
        #expect(a.text == b.text)
        // The prefix cache was copied, never continued.
        #expect(prefix.count(layer: 0) == ids.prefix.count - 1 + features.tokens)
    }

    @Test func aQuantizedCopyIsSmallerAndLeavesTheOriginalAlone() throws {
        let session = try session()
        let ids = try session.tokenize(prompt, hasImage: true)
        let features = try session.visionFeatures(image: image)
        let cache = try session.makeCache(kv: nil)
        let logits = try session.prefill(ids.full, images: [features], cache: cache)
        let before = cache.count(layer: 0)
        let kv = KVCacheQuantization(method: .uniform(scope: .perToken), bits: 2, regime: .store)
        let quantized = try session.quantizedCopy(of: cache, kv: kv)
        #expect(quantized.count(layer: 0) == before)
        #expect(quantized.byteCount < cache.byteCount / 2)
        let answer = try session.generate(cache: quantized, firstLogits: logits, generation: GenerationSettings(maxNewTokens: 4))
        #expect(!answer.tokens.isEmpty)
        #expect(cache.count(layer: 0) == before)
        // Under `store` the first token comes from the full-precision prefill.
        let reference = try session.generate(cache: cache.copy(), firstLogits: logits, generation: GenerationSettings(maxNewTokens: 1))
        #expect(answer.tokens.first == reference.tokens.first)
    }

    /// The spec's `method: group` defaults (G=128, R=0) give a cache Quantization accepts, under
    /// every regime: R = 0 is "no full-precision window", not an error at run time.
    @Test(arguments: [KVRegime.store, .prefix, .attention])
    func theSpecsGroupDefaultsRun(regime: KVRegime) throws {
        let session = try session()
        let kv = KVCacheQuantization(method: .group(.groupDefaults), bits: 2, regime: regime)
        #expect(GroupKVParameters.groupDefaults.residual == 0)
        #expect(try EngineSession.kvConfig(kv).residual == 0)
        let ids = try session.tokenize(prompt, hasImage: true)
        let features = try session.visionFeatures(image: image)
        let cache = try session.makeCache(kv: regime == .attention ? kv : nil)
        let logits = try session.prefill(ids.full, images: [features], cache: cache)
        let quantized = regime == .attention ? cache : try session.quantizedCopy(of: cache, kv: kv)
        let answer = try session.generate(cache: quantized, firstLogits: logits, generation: GenerationSettings(maxNewTokens: 3))
        #expect(!answer.tokens.isEmpty)
        #expect(quantized.byteCount < cache.count(layer: 0) * 2 * 2 * quantized.layerCount * quantized.kvHeads * quantized.headDim)
    }

    @Test func stopStringsCutTheAnswer() throws {
        let session = try session()
        let ids = try session.tokenize(prompt, hasImage: true)
        let features = try session.visionFeatures(image: image)
        let cache = try session.makeCache(kv: nil)
        let logits = try session.prefill(ids.full, images: [features], cache: cache)
        let free = try session.generate(cache: cache.copy(), firstLogits: logits, generation: GenerationSettings(maxNewTokens: 12))
        guard free.text.count >= 4 else { return }
        let stop = String(free.text.dropFirst(2).prefix(2))
        let cut = try session.generate(cache: cache.copy(), firstLogits: logits,
                                       generation: GenerationSettings(maxNewTokens: 12, stop: [stop]))
        #expect(!cut.text.contains(stop))
        #expect(free.text.hasPrefix(cut.text))
        #expect(cut.tokens.count <= free.tokens.count)
    }

    /// Every linear layer of a session's model: name, packed or not, dequantized weights and input scale.
    func layerBits(_ session: EngineSession) -> [String: [UInt32]] {
        var out: [String: [UInt32]] = [:]
        for (name, layer) in ModelWeightQuantization.linearLayers(of: session.model) {
            guard let packed = layer as? QuantizedLinear else { continue }
            out[name] = packed.dequantizedWeights().map(\.bitPattern) + (packed.inputScale ?? []).map(\.bitPattern)
        }
        return out
    }

    /// A cache hit reloads AWQ layers that answer bit for bit like the fresh quantization — the
    /// layers keep their scales (nothing is folded into norms the cache does not hold).
    @Test(arguments: [
        WeightMethod.awq(AWQParameters(groupSize: 16, grid: 5, calibration: "c")),
        .gptq(GPTQParameters(groupSize: 16, damp: 0.05, block: 8, calibration: "c")),
    ])
    func storedCalibratedLayersReproduceTheFreshModel(method: WeightMethod) throws {
        let weights = SpecLanguage.WeightQuantization(method: method, bits: 3, targets: [.lm, .lmHead, .projector])
        let calibration = [CalibrationSample(userText: "What shape is this?", image: image),
                           CalibrationSample(userText: "Name the colour.", image: nil)]
        let stored = StoredQuantizedWeights(cache: ArtifactCache(root: temporaryFolder()), key: "weights-key")
        let fresh = try session(weights: weights, calibration: calibration, stored: stored)
        let reloaded = try session(weights: weights, calibration: [], stored: stored)
        #expect(!fresh.loadedStoredWeights && reloaded.loadedStoredWeights)
        // The projector was quantized and stored with the language model.
        let freshLayers = layerBits(fresh)
        #expect(freshLayers.keys.contains("multi_modal_projector.linear_1") && freshLayers.keys.contains("lm_head"))
        #expect(freshLayers.keys.contains { $0.hasPrefix("vision_tower.") } == false)
        #expect(freshLayers == layerBits(reloaded))
        #expect(fresh.weightBytes == reloaded.weightBytes)
        // Norms are those of the checkpoint in both (no folded scales to lose).
        let plain = try session()
        for (a, b) in zip(fresh.model.language.layers, plain.model.language.layers) {
            #expect(a.inputNorm.scale == b.inputNorm.scale && a.postAttentionNorm.scale == b.postAttentionNorm.scale)
        }
        let ids = try fresh.tokenize(prompt, hasImage: true)
        let featuresA = try fresh.visionFeatures(image: image)
        let featuresB = try reloaded.visionFeatures(image: image)
        #expect(featuresA.values.map(\.bitPattern) == featuresB.values.map(\.bitPattern))
        let logitsA = try fresh.prefill(ids.full, images: [featuresA], cache: try fresh.makeCache(kv: nil))
        let logitsB = try reloaded.prefill(ids.full, images: [featuresB], cache: try reloaded.makeCache(kv: nil))
        #expect(logitsA.map(\.bitPattern) == logitsB.map(\.bitPattern))
    }

    /// Stored layers that are not exactly the configuration's targets are recomputed, not half-used.
    @Test func storedLayersForOtherTargetsAreRecomputed() throws {
        let method = WeightMethod.gptq(GPTQParameters(groupSize: 16, calibration: "c"))
        let calibration = [CalibrationSample(userText: "What shape is this?", image: image)]
        let stored = StoredQuantizedWeights(cache: ArtifactCache(root: temporaryFolder()), key: "same-key")
        _ = try session(weights: .init(method: method, bits: 4, targets: [.lm]), calibration: calibration, stored: stored)
        let wider = try session(weights: .init(method: method, bits: 4, targets: [.lm, .projector]), calibration: calibration,
                                stored: stored)
        #expect(!wider.loadedStoredWeights)
        #expect(layerBits(wider).keys.contains("multi_modal_projector.linear_1"))
        let again = try session(weights: .init(method: method, bits: 4, targets: [.lm, .projector]), calibration: [], stored: stored)
        #expect(again.loadedStoredWeights && layerBits(again) == layerBits(wider))
    }

    /// `projector` and `vision_tower` targets quantize the vision path the features come from.
    @Test func visionTargetsChangeTheVisionFeatures() throws {
        let plain = try session()
        let lmOnly = try session(weights: .init(method: .rtn(scope: .perGroup, groupSize: 16), bits: 3, targets: [.lm]))
        let projector = try session(weights: .init(method: .rtn(scope: .perGroup, groupSize: 16), bits: 3, targets: [.lm, .projector]))
        let tower = try session(weights: .init(method: .rtn(scope: .perGroup, groupSize: 16), bits: 3, targets: [.visionTower]))
        let base = try plain.visionFeatures(image: image).values
        #expect(try lmOnly.visionFeatures(image: image).values == base)
        #expect(try projector.visionFeatures(image: image).values != base)
        #expect(try tower.visionFeatures(image: image).values != base)
        // weightBytes counts what the library counts: every linear layer, vision included.
        #expect(plain.weightBytes == ModelWeightQuantization.linearBytes(of: plain.model))
        #expect(projector.weightBytes < lmOnly.weightBytes && lmOnly.weightBytes < plain.weightBytes)
        #expect(tower.weightBytes < plain.weightBytes)
    }

    @Test func aMissingCheckpointIsNamed() {
        let descriptor = ModelDescriptor(name: "x", path: "/nonexistent/model", template: .gemma)
        #expect {
            _ = try EngineSession(descriptor: descriptor, weights: nil, calibration: [])
        } throws: { error in
            "\(error)".contains("/nonexistent/model/config.json")
        }
    }
}
