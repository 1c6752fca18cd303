import Foundation
import Testing
import Engine
import TestSupport
@testable import Quantization

/// `lcb generate`'s library path against what transformers produced for the fixture checkpoints.
@Suite struct EndToEndGenerationTests {
    @Test(arguments: EndToEndFixture.all)
    func promptIdsTokensAndLogitsMatchTransformers(_ fixture: EndToEndFixture) throws {
        let expected = try fixture.expected()
        let report = try CompressedGeneration.run(fixture.request(maxNewTokens: expected.greedyTokens.count))
        #expect(report.promptIds == expected.promptIds)
        #expect(report.tokens == expected.greedyTokens)
        let logits = try fixture.expectedLogits()
        // Within 1e-3 of the logits' scale: the f16 KV cache rounds K/V (transformers ran in f32).
        #expect(maxAbsDifference(report.promptLogits, logits) <= 1e-3 * max(1, logits.map(abs).max() ?? 1))
        #expect(report.kv == "fp16" && report.weights == "fp16")
        #expect(report.timings.decodeSteps == expected.greedyTokens.count - 1)
    }

    @Test func jsonHasTheDocumentedKeysAndLogitsRoundTripThroughNpy() throws {
        let fixture = EndToEndFixture.all[0]
        let report = try CompressedGeneration.run(fixture.request(maxNewTokens: 4))
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect(json["prompt_ids"] as? [Int] == report.promptIds)
        #expect(json["tokens"] as? [Int] == report.tokens)
        #expect(json["text"] as? String == report.text)
        let timings = try #require(json["timings"] as? [String: Any])
        #expect(timings["prefill_s"] is Double && timings["decode_s"] is Double)
        #expect(json["promptLogits"] == nil)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-logits-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: file) }
        try NumpyFile.write(report.promptLogits, shape: [report.promptLogits.count], to: file)
        let back = try NumpyFile.read(file)
        let logits = try fixture.expectedLogits()
        #expect(back.shape == [201] && maxAbsDifference(back.values, logits) <= 1e-3)
    }

    @Test func errorsNameTheFile() throws {
        let fixture = EndToEndFixture.all[0]
        var request = try fixture.request()
        request.images = [fixture.directory.appendingPathComponent("expected/prefill_logits.npy")]
        #expect { try CompressedGeneration.run(request) } throws: { error in
            "\(error)".contains("prefill_logits.npy") && "\(error)".contains("expected [3, 28, 28]")
        }
        request.images = [fixture.pixelFile]
        request.prompt = "<image> and <image>"
        #expect { try CompressedGeneration.run(request) } throws: { error in
            "\(error)".contains("3 <image> placeholder(s) but 1 image(s)")
        }
        let text = EndToEndFixture.all[3]
        var textRequest = try text.request()
        textRequest.images = [fixture.pixelFile]
        #expect { try CompressedGeneration.run(textRequest) } throws: { error in
            "\(error)".contains("config.json") && "\(error)".contains("text-only")
        }
    }
}

/// The three KV regimes: identical in full precision; `store` keeps the first token.
@Suite struct EndToEndRegimeTests {
    /// Residual window longer than prompt + answer: KIVI keeps everything in fp16, so a
    /// quantized cache that stores nothing quantized — the regimes' plumbing, losslessly.
    static let lossless = "group:2,group_size=32,residual=256"

    @Test(arguments: EndToEndFixture.all)
    func allRegimesAgreeInFullPrecision(_ fixture: EndToEndFixture) throws {
        let (model, prompt, stops, _) = try fixture.load()
        let baseline = try KVRegimeGeneration.generate(model: model, prompt: prompt, config: nil, maxNewTokens: 16, stopTokenIds: stops)
        let expected = try fixture.expected().greedyTokens
        #expect(baseline.output.tokens == expected)
        for regime in KVQuantizationRegime.allCases {
            var config = try #require(try QuantizationSpecParser.parseKV(Self.lossless))
            config.regime = regime
            let result = try KVRegimeGeneration.generate(model: model, prompt: prompt, config: config, maxNewTokens: 16, stopTokenIds: stops)
            #expect(result.output == baseline.output, "\(regime)")
            #expect(maxAbsDifference(result.promptLogits, baseline.promptLogits) <= 1e-4, "\(regime)")
            let cache = try #require(result.cacheTokens > 0 ? result : nil)
            #expect(cache.cacheTokens == prompt.positions + 15)
        }
    }

    @Test(arguments: KVQuantizationMethod.allCases)
    func storeKeepsTheFirstTokenAndPrefillLogits(_ method: KVQuantizationMethod) throws {
        for fixture in EndToEndFixture.pair {
            let (model, prompt, stops, _) = try fixture.load()
            let baseline = try KVRegimeGeneration.generate(model: model, prompt: prompt, config: nil, maxNewTokens: 6, stopTokenIds: stops)
            var config = KVQuantizationConfig(method: method, bits: .two)
            config.groupSize = 8
            config.residual = 8
            #expect(config.regime == .store)
            let stored = try KVRegimeGeneration.generate(model: model, prompt: prompt, config: config, maxNewTokens: 6, stopTokenIds: stops)
            #expect(stored.output.tokens.first == baseline.output.tokens.first)
            #expect(stored.promptLogits == baseline.promptLogits)
            // The attention regime really does see quantized K/V during prefill.
            config.regime = .attention
            let attention = try KVRegimeGeneration.prefill(model: model, prompt: prompt, config: config)
            #expect(maxAbsDifference(attention.logits, baseline.promptLogits) > 1e-3)
        }
    }

    @Test func sharedPrefillFeedsManyConfigurationsAndStaysUnchanged() throws {
        let fixture = EndToEndFixture.all[0]
        let (model, prompt, stops, tokens) = try fixture.load()
        #expect(prompt.prefixPositions == tokens.imagePrefix.count - 1 + 16)
        for regime in [KVQuantizationRegime.store, .prefix] {
            let shared = try KVRegimeGeneration.sharedPrefill(model: model, prompt: prompt, regime: regime)
            let covered = shared.cache.count(layer: 0)
            var results: [[Int]] = []
            for text in ["uniform:2", "group:4,group_size=8,residual=8", "gear:2,group_size=8,residual=8", "fp16"] {
                var config = try QuantizationSpecParser.parseKV(text)
                config?.regime = regime
                let continued = try KVRegimeGeneration.continue(shared, model: model, prompt: prompt, config: config)
                let one = try KVRegimeGeneration.decode(model: model, prefilled: continued, promptPositions: prompt.positions,
                                                        maxNewTokens: 8, stopTokenIds: stops)
                let direct = try KVRegimeGeneration.generate(model: model, prompt: prompt, config: config, maxNewTokens: 8, stopTokenIds: stops)
                #expect(one.output == direct.output, "\(text) \(regime)")
                results.append(one.output.tokens)
            }
            #expect(shared.cache.count(layer: 0) == covered)
            #expect(covered == (regime == .store ? prompt.positions : prompt.prefixPositions))
        }
        #expect(throws: KVCacheQuantizationError.self) {
            try KVRegimeGeneration.sharedPrefill(model: model, prompt: prompt, regime: .attention)
        }
    }
}

/// 8-bit KV and 8-bit weights leave greedy answers unchanged; weights really are replaced.
///
/// The fixtures are random models whose greedy answers pass near-ties (llava-gemma's smallest
/// top-2 margin is 0.003), where any rounding — even 8-bit — may pick the other token and the
/// free-running answer then diverges. So: exact greedy tokens on llava-llama (clear margins), and
/// on every fixture, teacher-forced along the FP16 answer, the same arg-max at every position whose
/// FP16 top-2 margin is at least 0.05, and a mean KL below 10⁻³ nats.
@Suite struct EndToEndQuantizationTests {
    static func check(_ fixture: EndToEndFixture, model: Model, prompt: RegimePrompt, kv: KVQuantizationConfig?,
                      label: String, reference: [[Float]]) throws {
        let expected = try fixture.expected().greedyTokens
        let logits = try NextTokenDivergence.teacherForcedLogits(model: model, prompt: prompt, kv: kv, continuation: expected)
        for (position, (ref, got)) in zip(reference, logits).enumerated() {
            let sorted = ref.sorted(by: >)
            guard sorted[0] - sorted[1] >= 0.05 else { continue }
            #expect(GreedyDecoding.argmax(got) == expected[position], "\(fixture) \(label) position \(position)")
        }
        #expect(NextTokenDivergence.meanKL(reference: reference, candidate: logits) < 1e-3, "\(fixture) \(label)")
    }

    @Test(arguments: KVQuantizationMethod.allCases)
    func eightBitKVKeepsGreedyTokens(_ method: KVQuantizationMethod) throws {
        for fixture in EndToEndFixture.all {
            let (model, prompt, stops, _) = try fixture.load()
            let expected = try fixture.expected().greedyTokens
            let reference = try NextTokenDivergence.teacherForcedLogits(model: model, prompt: prompt, kv: nil, continuation: expected)
            for regime in KVQuantizationRegime.allCases {
                var config = KVQuantizationConfig(method: method, bits: .eight)
                config.groupSize = 8
                config.residual = 8
                config.regime = regime
                try Self.check(fixture, model: model, prompt: prompt, kv: config, label: config.canonicalDescription, reference: reference)
                if fixture.name == "llava-llama" {
                    let result = try KVRegimeGeneration.generate(model: model, prompt: prompt, config: config, maxNewTokens: 16, stopTokenIds: stops)
                    #expect(result.output.tokens == expected, "\(fixture) \(config.canonicalDescription)")
                }
            }
        }
    }

    @Test(arguments: ["rtn:8", "rtn:8,scope=per_channel", "outlier:8", "gptq:8,group_size=32"])
    func eightBitWeightsKeepGreedyTokens(_ text: String) throws {
        for fixture in EndToEndFixture.all {
            let expected = try fixture.expected().greedyTokens
            let (reference, prompt, _, tokens) = try fixture.load()
            let referenceLogits = try NextTokenDivergence.teacherForcedLogits(model: reference, prompt: prompt, kv: nil, continuation: expected)
            let (model, _, _, _) = try fixture.load()
            let pixels = fixture.hasImage ? [try NumpyFile.read(fixture.pixelFile).values] : []
            try ModelWeightQuantization.apply(
                try #require(try QuantizationSpecParser.parseWeights(text)), to: model,
                calibration: [CalibrationPrompt(tokens: tokens.ids, pixelValues: pixels)])
            try Self.check(fixture, model: model, prompt: prompt, kv: nil, label: text, reference: referenceLogits)
            if fixture.name == "llava-llama" {
                let report = try CompressedGeneration.run(fixture.request(weights: text))
                #expect(report.tokens == expected, "\(fixture) \(text)")
            }
        }
    }

    @Test func replacesExactlyTheTargetsAndCountsBytes() throws {
        let fixture = EndToEndFixture.all[0]
        let model = try Model(directory: fixture.directory)
        let before = ModelWeightQuantization.linearBytes(of: model)
        let config = try #require(try QuantizationSpecParser.parseWeights("rtn:4,group_size=16,targets=lm+projector"))
        let summary = try ModelWeightQuantization.apply(config, to: model)
        let layers = ModelWeightQuantization.linearLayers(of: model)
        for (name, layer) in layers {
            let target = ModelWeightQuantization.target(ofLayer: name)
            #expect((layer is QuantizedLinear) == (target == .lm || target == .projector), "\(name)")
        }
        #expect(summary.layers.count == 2 * 7 + 2)
        #expect(summary.bytesAfter == layers.filter { $0.layer is QuantizedLinear }.reduce(0) { $0 + $1.layer.byteCount })
        #expect(ModelWeightQuantization.linearBytes(of: model) == before - summary.bytesBefore + summary.bytesAfter)
        // Each layer equals the quantizer applied to the checkpoint matrix alone.
        let fresh = try Model(directory: fixture.directory)
        let dense = try #require(fresh.language.layers[1].downProjection as? DenseLinear)
        let direct = try WeightQuantizer.quantize(dense.weights, config: config)
        let applied = try #require(model.language.layers[1].downProjection as? QuantizedLinear)
        #expect(applied.dequantizedWeights() == direct.dequantizedWeights())
        #expect(throws: WeightQuantizationError.self) { try ModelWeightQuantization.apply(config, to: model) }
    }

    @Test func awqFoldsScalesIntoNormsWithoutChangingTheFunction() throws {
        // Folding 1/s into the RMSNorm must equal keeping it as the layer's input scale.
        let fixture = EndToEndFixture.all[1]
        let (model, prompt, stops, tokens) = try fixture.load()
        let config = try #require(try QuantizationSpecParser.parseWeights("awq:4,group_size=16"))
        let pixels = try NumpyFile.read(fixture.pixelFile).values
        let summary = try ModelWeightQuantization.apply(
            config, to: model, calibration: [CalibrationPrompt(tokens: tokens.ids, pixelValues: [pixels])])
        #expect(summary.foldedLayers.count == 2 * 5)
        #expect(summary.calibrationRows == prompt.positions)
        let q = try #require(model.language.layers[0].queryProjection as? QuantizedLinear)
        #expect(q.inputScale == nil)
        let down = try #require(model.language.layers[0].downProjection as? QuantizedLinear)
        #expect(down.inputScale != nil)
        // Same function as an unfolded AWQ run: recompute layer 0's q/k/v unfolded and compare outputs.
        let fresh = try Model(directory: fixture.directory)
        let recorded = try ModelWeightQuantization.record(
            model: fresh, layers: ["layers.0.self_attn.q_proj"], calibration: [CalibrationPrompt(tokens: tokens.ids, pixelValues: [pixels])],
            maxRows: 512)
        let x = try #require(recorded["layers.0.self_attn.q_proj"])
        let dense = try #require(fresh.language.layers[0].queryProjection as? DenseLinear)
        let unfolded = try AWQ.quantize(
            weights: [fresh.language.layers[0].queryProjection, fresh.language.layers[0].keyProjection,
                      fresh.language.layers[0].valueProjection].map { ($0 as! DenseLinear).weights.floats() },
            outFeatures: [dense.outFeatures, 32, 32], inFeatures: 32, calibration: x, samples: x.count / 32,
            config: config, clipLayers: [false, false, true])
        // x already went through the unscaled norm; the folded norm divides it by s.
        let s = unfolded.scales
        let foldedInput = x.enumerated().map { $0.element / s[$0.offset % 32] }
        let viaFold = q.applyReference(foldedInput, rows: x.count / 32)
        let viaScale = unfolded.layers[0].applyReference(x, rows: x.count / 32)
        #expect(maxAbsDifference(viaFold, viaScale) <= 1e-4 * (viaScale.map(abs).max() ?? 1))
        let result = try KVRegimeGeneration.generate(model: model, prompt: prompt, config: nil, maxNewTokens: 4, stopTokenIds: stops)
        #expect(result.output.tokens.count == 4)
    }
    /// Without folding, every layer keeps its `1/s` and the norms stay as loaded: the packed layers
    /// alone carry the quantized model (what the runner caches). Same function as the folded model.
    @Test func awqWithoutFoldingKeepsScalesInTheLayers() throws {
        let fixture = EndToEndFixture.all[1]
        let (model, prompt, stops, tokens) = try fixture.load()
        let (folded, _, _, _) = try fixture.load()
        let (plain, _, _, _) = try fixture.load()
        var config = WeightQuantizationConfig(method: .awq, bits: .four)
        config.groupSize = 16
        let pixels = try NumpyFile.read(fixture.pixelFile).values
        let calibration = [CalibrationPrompt(tokens: tokens.ids, pixelValues: [pixels])]
        let summary = try ModelWeightQuantization.apply(config, to: model, calibration: calibration, foldScales: false)
        try ModelWeightQuantization.apply(config, to: folded, calibration: calibration)
        #expect(summary.foldedLayers.isEmpty)
        for (name, layer) in ModelWeightQuantization.linearLayers(of: model) where ModelWeightQuantization.target(ofLayer: name) == .lm {
            #expect((layer as? QuantizedLinear)?.inputScale != nil, "\(name)")
        }
        for (a, b) in zip(model.language.layers, plain.language.layers) {
            #expect(a.inputNorm.scale == b.inputNorm.scale && a.postAttentionNorm.scale == b.postAttentionNorm.scale)
        }
        // The same quantized weights as the folded run, the scale kept instead of folded.
        let q = try #require(model.language.layers[0].queryProjection as? QuantizedLinear)
        let qFolded = try #require(folded.language.layers[0].queryProjection as? QuantizedLinear)
        #expect(q.dequantizedWeights() == qFolded.dequantizedWeights())
        let a = try NextTokenDivergence.teacherForcedLogits(model: model, prompt: prompt, kv: nil, continuation: [])
        let b = try NextTokenDivergence.teacherForcedLogits(model: folded, prompt: prompt, kv: nil, continuation: [])
        #expect(maxAbsDifference(a.flatMap { $0 }, b.flatMap { $0 }) <= 1e-3 * (b.flatMap { $0 }.map(abs).max() ?? 1))
        let result = try KVRegimeGeneration.generate(model: model, prompt: prompt, config: nil, maxNewTokens: 4, stopTokenIds: stops)
        #expect(result.output.tokens.count == 4)
    }

    /// GPTQ's `block` and `damp` reach the quantizer: each layer equals `GPTQ.quantize` with them.
    @Test func gptqBlockAndDampReachTheQuantizer() throws {
        let fixture = EndToEndFixture.all[0]
        let (model, _, _, tokens) = try fixture.load()
        let (fresh, _, _, _) = try fixture.load()
        var config = WeightQuantizationConfig(method: .gptq, bits: .three)
        config.groupSize = 16
        config.block = 8
        config.damp = 0.2
        let pixels = fixture.hasImage ? [try NumpyFile.read(fixture.pixelFile).values] : []
        let calibration = [CalibrationPrompt(tokens: tokens.ids, pixelValues: pixels)]
        try ModelWeightQuantization.apply(config, to: model, calibration: calibration)
        let name = "layers.1.mlp.down_proj"
        let x = try #require(try ModelWeightQuantization.record(model: fresh, layers: [name], calibration: calibration, maxRows: 512)[name])
        let dense = try #require(fresh.language.layers[1].downProjection as? DenseLinear)
        let direct = try GPTQ.quantize(dense.weights.floats(), outFeatures: dense.outFeatures, inFeatures: dense.inFeatures,
                                       bias: dense.bias, calibration: x, samples: x.count / dense.inFeatures, config: config,
                                       blocksize: 8, damp: 0.2)
        let defaults = try GPTQ.quantize(dense.weights.floats(), outFeatures: dense.outFeatures, inFeatures: dense.inFeatures,
                                         bias: dense.bias, calibration: x, samples: x.count / dense.inFeatures, config: config)
        let applied = try #require(model.language.layers[1].downProjection as? QuantizedLinear)
        #expect(applied.dequantizedWeights() == direct.dequantizedWeights())
        #expect(applied.dequantizedWeights() != defaults.dequantizedWeights())
    }
}
