import Testing
import TestSupport
@testable import Quantization

@Suite struct ByteAccountingTests {
    /// Predicted bytes (from shapes only) equal the real cache's bytes for every method, across
    /// prefill lengths around the window and many decode steps.
    @Test(arguments: QuantizedKVCacheTests.configs)
    func kvPredictionEqualsRealCache(config: KVQuantizationConfig) throws {
        let (layers, kvHeads, headDim) = (2, 2, 16)
        let width = kvHeads * headDim
        var data = SeededGenerator(seed: 5)
        for (prefill, decoded) in [(15, 0), (16, 1), (17, 20), (40, 33)] {
            let cache = try QuantizedKVCache(config: config, layerCount: layers, kvHeads: kvHeads, headDim: headDim)
            for n in [prefill] + [Int](repeating: 1, count: decoded) {
                for layer in 0..<layers {
                    let k = data.normal(n * width), v = data.normal(n * width)
                    k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                        cache.append(layer: layer, keys: kb, values: vb, tokenCount: n)
                    } }
                }
            }
            let predicted = ByteAccounting.kvCache(
                config, prefill: prefill, decoded: decoded, layers: layers, kvHeads: kvHeads, headDim: headDim)
            #expect(predicted == cache.byteCount, "\(config.canonicalDescription) prefill \(prefill) decoded \(decoded)")
        }
    }

    @Test func fp16BaselineAndRatio() throws {
        #expect(ByteAccounting.fp16KVCache(tokens: 10, layers: 2, kvHeads: 1, headDim: 256) == 2 * 2 * 10 * 2 * 256)
        // 2-bit KIVI, G = 128, R = 128, 2,048 tokens of one 256-channel kv-head: codes 1/8 of fp16,
        // steps and minima 1/64 of fp16 per group of 128, plus the 128-token fp16 value window.
        var config = KVQuantizationConfig(method: .group, bits: .two)
        config.groupSize = 128
        let bytes = ByteAccounting.kvCache(config, prefill: 2048, decoded: 0, layers: 1, kvHeads: 1, headDim: 256)
        let keys = 2048 * 256 / 4 + 16 * 256 * 4
        let values = 1920 * 256 / 4 + 1920 * 2 * 4 + 128 * 256 * 2
        #expect(bytes == keys + values)
    }

    /// Issue 4's memory target on Gemma-2B's KV shape (one 256-channel kv-head per layer): 2-bit
    /// KIVI with G = 128 and R = 0 holds 2 + 32/128 = 2.25 bits per element at a whole number of
    /// key groups (0.140625 of fp16, within 15% of 2/16), and the 16 decoded tokens after a
    /// 2,048-token prompt wait in fp16 until their key group of 128 fills (0.1440 of fp16).
    @Test func kiviTwoBitAtTwoThousandTokens() throws {
        var config = KVQuantizationConfig(method: .group, bits: .two)
        config.groupSize = 128
        config.residual = 0
        let cache = try QuantizedKVCache(config: config, layerCount: 1, kvHeads: 1, headDim: 256)
        var data = SeededGenerator(seed: 9)
        let k = data.normal(2048 * 256), v = data.normal(2048 * 256)
        k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
            cache.append(layer: 0, keys: kb, values: vb, tokenCount: 2048)
        } }
        let f16 = ByteAccounting.fp16KVCache(tokens: 2048, layers: 1, kvHeads: 1, headDim: 256)
        // Per token: keys 64 B of codes + 256 channels × 4 B per 128 tokens; values 64 B + 2 groups × 4 B.
        #expect(cache.byteCount == 2048 * (64 + 8) * 2)
        #expect(Double(cache.byteCount) / Double(f16) == 0.140625)
        #expect(Double(cache.byteCount) / Double(f16) <= 1.15 * 2 / 16)
        #expect(cache.quantizedTokenCounts(layer: 0) == (2048, 2048))
        for _ in 0..<16 {
            let k1 = data.normal(256), v1 = data.normal(256)
            k1.withUnsafeBufferPointer { kb in v1.withUnsafeBufferPointer { vb in
                cache.append(layer: 0, keys: kb, values: vb, tokenCount: 1)
            } }
        }
        #expect(cache.quantizedTokenCounts(layer: 0) == (2048, 2064))
        #expect(cache.byteCount == 2048 * 72 + 16 * 256 * 2 + 2064 * 72)
        let ratio = Double(cache.byteCount) / Double(ByteAccounting.fp16KVCache(tokens: 2064, layers: 1, kvHeads: 1, headDim: 256))
        #expect(abs(ratio - 0.143956) < 1e-6)
        // R = 128 at 2,048 tokens: all keys in whole blocks, the newest 128 values in fp16.
        config.residual = 128
        let windowed = ByteAccounting.kvCache(config, prefill: 2048, decoded: 0, layers: 1, kvHeads: 1, headDim: 256)
        #expect(windowed == 2048 * 72 + 1920 * 72 + 128 * 512)
        #expect(abs(Double(windowed) / Double(f16) - 0.167480) < 1e-6)
    }

    @Test func weightPredictionEqualsRealLayer() throws {
        var data = SeededGenerator(seed: 6)
        let (outF, inF) = (24, 100)
        let w = data.normal(outF * inF, scale: 0.1)
        let x = data.normal(30 * inF)
        for text in ["rtn:4,group_size=32", "rtn:3,scope=per_channel", "rtn:8,scope=per_tensor",
                     "outlier:4,outlier_fraction=0.02", "outlier:2,outlier_fraction=0.001", "gptq:4,group_size=25", "awq:4,group_size=20"] {
            let config = try #require(try QuantizationSpecParser.parseWeights(text))
            for bias in [false, true] {
                let b: [Float]? = bias ? [Float](repeating: 0.5, count: outF) : nil
                let layer: QuantizedLinear
                switch config.method {
                case .gptq: layer = try GPTQ.quantize(w, outFeatures: outF, inFeatures: inF, bias: b, calibration: x, samples: 30, config: config)
                case .awq:
                    layer = try AWQ.quantize(weights: [w], outFeatures: [outF], inFeatures: inF, biases: [b], calibration: x,
                                             samples: 30, config: config).layers[0].removingInputScale()
                default: layer = try WeightQuantizer.quantize(w, outFeatures: outF, inFeatures: inF, bias: b, config: config)
                }
                #expect(ByteAccounting.linear(config, outFeatures: outF, inFeatures: inF, hasBias: bias) == layer.byteCount, "\(text)")
            }
        }
    }
}
