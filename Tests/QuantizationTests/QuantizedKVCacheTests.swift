import Engine
import Testing
import TestSupport
@testable import Quantization

@Suite struct QuantizedKVCacheTests {
    /// KIVI's residual-window rules (written literally in the fixture script: prefill T = R−1, R,
    /// R+1, 2R, 2R+3 followed by ten decode steps) give the same stored values here.
    @Test func kiviWindowsMatchTheAuthorsRules() throws {
        for w in ReferenceFixture.shared.kivi_windows {
            var config = KVQuantizationConfig(method: .group, bits: QuantizationBits(rawValue: w.bits)!)
            config.groupSize = w.group_size
            config.residual = w.residual
            let cache = try QuantizedKVCache(config: config, layerCount: 1, kvHeads: w.heads, headDim: w.dim)
            let keys = ReferenceFixture.floats(w.keys), values = ReferenceFixture.floats(w.values)
            let width = w.heads * w.dim
            var position = 0
            for (step, n) in w.steps.enumerated() {
                keys.withUnsafeBufferPointer { k in
                    values.withUnsafeBufferPointer { v in
                        cache.append(layer: 0, keys: UnsafeBufferPointer(rebasing: k[(position * width)...]),
                                     values: UnsafeBufferPointer(rebasing: v[(position * width)...]), tokenCount: n)
                    }
                }
                position += n
                let counts = cache.quantizedTokenCounts(layer: 0)
                let r = w.residual
                if step == 0 {
                    // Prefill: keys quantize T − T mod R; values all but the last R.
                    #expect(counts.keys == n - n % r)
                    #expect(counts.values == max(n - r, 0))
                }
                #expect(position - counts.keys < r)  // the key buffer never reaches R
                #expect(position - counts.values == min(position, r))  // values keep the newest R
            }
            #expect(cache.count(layer: 0) == position)
            #expect(cache.dequantizedKeys(layer: 0) == ReferenceFixture.floats(w.expected_keys), "prefill \(w.steps[0])")
            #expect(cache.dequantizedValues(layer: 0) == ReferenceFixture.floats(w.expected_values), "prefill \(w.steps[0])")
            #expect(cache.quantizedTokenCounts(layer: 0) == (w.quantized_keys, w.quantized_values))
        }
    }

    static let configs: [KVQuantizationConfig] = {
        var out: [KVQuantizationConfig] = []
        for bits in QuantizationBits.allCases {
            var u = KVQuantizationConfig(method: .uniform, bits: bits)
            out.append(u)
            u.scope = .perToken
            out.append(u)
            out.append(KVQuantizationConfig(method: .outlier, bits: bits))
            var g = KVQuantizationConfig(method: .group, bits: bits)
            g.groupSize = 8; g.residual = 16
            out.append(g)
            g.variant = .flexgen
            out.append(g)
            for m in [KVQuantizationMethod.gear, .gearL] {
                var c = KVQuantizationConfig(method: m, bits: bits)
                c.groupSize = 8; c.residual = 16; c.fraction = m == .gear ? 0.1 : 0
                out.append(c)
            }
        }
        return out
    }()

    /// attend reads the packed data and equals reference attention over the dequantized K/V, for
    /// prefill (many queries), decode (one query), and GQA.
    @Test(arguments: configs)
    func attendEqualsReferenceOverDequantizedKV(config: KVQuantizationConfig) throws {
        let (kvHeads, headDim, heads) = (2, 16, 4)
        let width = kvHeads * headDim
        let cache = try QuantizedKVCache(config: config, layerCount: 2, kvHeads: kvHeads, headDim: headDim)
        var data = SeededGenerator(seed: 77)
        for (step, n) in [37, 1, 1, 5, 1].enumerated() {
            for layer in 0..<2 {
                let k = data.normal(n * width), v = data.normal(n * width), q = data.normal(n * heads * headDim)
                k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                    cache.append(layer: layer, keys: kb, values: vb, tokenCount: n)
                } }
                var out = [Float](repeating: 0, count: n * heads * headDim)
                q.withUnsafeBufferPointer { qb in out.withUnsafeMutableBufferPointer { ob in
                    cache.attend(layer: layer, queries: qb, queryCount: n, heads: heads, scale: 0.25, output: ob)
                } }
                let reference = CausalAttention.attendReference(
                    keys: cache.dequantizedKeys(layer: layer), values: cache.dequantizedValues(layer: layer),
                    tokens: cache.count(layer: layer), kvHeads: kvHeads, headDim: headDim,
                    queries: q, queryCount: n, heads: heads, scale: 0.25)
                #expect(maxAbsDifference(out, reference) < 1e-5, "step \(step) layer \(layer)")
            }
        }
        #expect(cache.count(layer: 1) == 45)
    }

    /// Errors stay within half a step of fp16-rounded inputs for the min–max methods, and the cache
    /// is far smaller than an fp16 one at 2 bits.
    @Test func storedValuesAreCloseAndSmall() throws {
        var config = KVQuantizationConfig(method: .group, bits: .four)
        config.groupSize = 32; config.residual = 32
        let (kvHeads, headDim) = (1, 64)
        let cache = try QuantizedKVCache(config: config, layerCount: 1, kvHeads: kvHeads, headDim: headDim)
        var data = SeededGenerator(seed: 8)
        let k = data.normal(256 * 64), v = data.normal(256 * 64)
        k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
            cache.append(layer: 0, keys: kb, values: vb, tokenCount: 256)
        } }
        let kh = cache.dequantizedKeys(layer: 0)
        // 4-bit step of a range of ~8 is ~0.55; half a step bounds every error.
        #expect(maxAbsDifference(kh, k.map { Float(Float16($0)) }) < 0.3)
        // Bytes: keys 256 tokens all quantized (256 % 32 == 0): codes 256·64/8 words, groups (256/32)·64;
        // values: 224 quantized (per-token groups of 32 → 2 per token), 32 fp16.
        let keyBytes = 256 * 64 / 8 * 4 + 8 * 64 * 4
        let valueBytes = 224 * 64 / 8 * 4 + 224 * 2 * 4 + 32 * 64 * 2
        #expect(cache.byteCount == keyBytes + valueBytes)
    }

    @Test func copyIsIndependent() throws {
        var config = KVQuantizationConfig(method: .gear, bits: .two)
        config.groupSize = 4; config.residual = 8
        let cache = try QuantizedKVCache(config: config, layerCount: 1, kvHeads: 1, headDim: 8)
        var data = SeededGenerator(seed: 3)
        let k = data.normal(20 * 8), v = data.normal(20 * 8)
        k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
            cache.append(layer: 0, keys: UnsafeBufferPointer(rebasing: kb[0..<(12 * 8)]),
                         values: UnsafeBufferPointer(rebasing: vb[0..<(12 * 8)]), tokenCount: 12)
        } }
        let before = (cache.dequantizedKeys(layer: 0), cache.byteCount)
        let copy = copyAppending(cache, k, v)
        #expect(copy.count(layer: 0) == 20)
        #expect(cache.count(layer: 0) == 12)
        #expect(cache.dequantizedKeys(layer: 0) == before.0)
        #expect(cache.byteCount == before.1)
        // Continuing the original the same way gives the same result as the copy (determinism).
        let again = copyAppending(cache, k, v)
        #expect(again.dequantizedKeys(layer: 0) == copy.dequantizedKeys(layer: 0))
        #expect(again.dequantizedValues(layer: 0) == copy.dequantizedValues(layer: 0))
    }

    private func copyAppending(_ cache: QuantizedKVCache, _ k: [Float], _ v: [Float]) -> QuantizedKVCache {
        let copy = cache.copy() as! QuantizedKVCache
        for t in 12..<20 {
            k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                copy.append(layer: 0, keys: UnsafeBufferPointer(rebasing: kb[(t * 8)..<(t * 8 + 8)]),
                            values: UnsafeBufferPointer(rebasing: vb[(t * 8)..<(t * 8 + 8)]), tokenCount: 1)
            } }
        }
        return copy
    }

    /// Building from full-precision contents equals appending the same tokens as one prefill.
    @Test func initializerFromStoredContentsEqualsPrefillAppend() throws {
        var config = KVQuantizationConfig(method: .group, bits: .two)
        config.groupSize = 4; config.residual = 8
        var data = SeededGenerator(seed: 12)
        let keys = [data.normal(19 * 16), data.normal(19 * 16)]
        let values = [data.normal(19 * 16), data.normal(19 * 16)]
        let built = try QuantizedKVCache(config: config, kvHeads: 2, headDim: 8, keys: keys, values: values)
        let appended = try QuantizedKVCache(config: config, layerCount: 2, kvHeads: 2, headDim: 8)
        for l in 0..<2 {
            keys[l].withUnsafeBufferPointer { kb in values[l].withUnsafeBufferPointer { vb in
                appended.append(layer: l, keys: kb, values: vb, tokenCount: 19)
            } }
            #expect(built.dequantizedKeys(layer: l) == appended.dequantizedKeys(layer: l))
            #expect(built.dequantizedValues(layer: l) == appended.dequantizedValues(layer: l))
        }
        #expect(throws: KVCacheQuantizationError.self) {
            try QuantizedKVCache(config: config, kvHeads: 2, headDim: 8, keys: keys, values: [values[0]])
        }
    }

    /// `group` with R = 0: no fp16 window for values; keys leave the window a whole group at a time.
    @Test func groupWithoutAWindowQuantizesValuesOnArrivalAndKeysPerGroup() throws {
        var none = KVQuantizationConfig(method: .group, bits: .two)
        none.groupSize = 4; none.residual = 0
        var four = none
        four.residual = 4
        let withoutWindow = try QuantizedKVCache(config: none, layerCount: 1, kvHeads: 1, headDim: 8)
        let withWindow = try QuantizedKVCache(config: four, layerCount: 1, kvHeads: 1, headDim: 8)
        var data = SeededGenerator(seed: 21)
        let k = data.normal(12 * 8), v = data.normal(12 * 8)
        func append(_ range: Range<Int>) {
            for cache in [withoutWindow, withWindow] {
                k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                    cache.append(layer: 0, keys: UnsafeBufferPointer(rebasing: kb[(range.lowerBound * 8)..<(range.upperBound * 8)]),
                                 values: UnsafeBufferPointer(rebasing: vb[(range.lowerBound * 8)..<(range.upperBound * 8)]),
                                 tokenCount: range.count)
                } }
            }
        }
        let fp16 = { (x: [Float], tokens: Range<Int>) in Array(x[(tokens.lowerBound * 8)..<(tokens.upperBound * 8)]).map { Float(Float16($0)) } }
        append(0..<10)
        // Keys: two whole groups (8 tokens) quantized as with R = 4, the last 2 still fp16.
        let keys = withoutWindow.dequantizedKeys(layer: 0)
        #expect(keys == withWindow.dequantizedKeys(layer: 0))
        #expect(Array(keys[64..<80]) == fp16(k, 8..<10))
        #expect(Array(keys[0..<64]) != fp16(k, 0..<8))
        // Values: every token quantized per token; R = 4 keeps tokens 6…9 in fp16.
        let values = withoutWindow.dequantizedValues(layer: 0)
        let windowed = withWindow.dequantizedValues(layer: 0)
        #expect(Array(values[0..<48]) == Array(windowed[0..<48]))
        #expect(Array(windowed[48..<80]) == fp16(v, 6..<10))
        for token in 6..<10 { #expect(Array(values[(token * 8)..<(token * 8 + 8)]) != fp16(v, token..<(token + 1))) }
        #expect(withoutWindow.byteCount < withWindow.byteCount)
        // Two decode steps fill the third key group: every key is now quantized.
        append(10..<11)
        append(11..<12)
        #expect(withoutWindow.count(layer: 0) == 12)
        #expect(withoutWindow.dequantizedKeys(layer: 0) == withWindow.dequantizedKeys(layer: 0))
        #expect(Array(withoutWindow.dequantizedKeys(layer: 0)[64..<96]) != fp16(k, 8..<12))
    }

    @Test func gearStillNeedsAWindow() {
        var config = KVQuantizationConfig(method: .gear, bits: .two)
        config.groupSize = 4; config.residual = 0
        #expect(throws: KVCacheQuantizationError.self) {
            try QuantizedKVCache(config: config, layerCount: 1, kvHeads: 1, headDim: 8)
        }
    }

    @Test func invalidWindowIsRejected() {
        var config = KVQuantizationConfig(method: .group, bits: .two)
        config.groupSize = 32; config.residual = 48
        #expect(throws: KVCacheQuantizationError.self) {
            try QuantizedKVCache(config: config, layerCount: 1, kvHeads: 1, headDim: 64)
        }
    }
}

@Suite struct ReadableKVCacheTests {
    /// `store`/`prefix` hand-over: a quantized cache built from another cache's stored contents
    /// equals one that received the same tokens directly, and the source stays unchanged.
    @Test func copyingFromAReadableCache() throws {
        var data = SeededGenerator(seed: 14)
        var eight = KVQuantizationConfig(method: .uniform, bits: .eight)
        eight.scope = .perToken
        let source = try QuantizedKVCache(config: eight, layerCount: 2, kvHeads: 1, headDim: 16)
        for layer in 0..<2 {
            let k = data.normal(21 * 16), v = data.normal(21 * 16)
            k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                source.append(layer: layer, keys: kb, values: vb, tokenCount: 21)
            } }
        }
        let before = source.byteCount
        var kivi = KVQuantizationConfig(method: .group, bits: .two)
        kivi.groupSize = 4; kivi.residual = 8
        let copied = try QuantizedKVCache(config: kivi, copying: source)
        let direct = try QuantizedKVCache(config: kivi, layerCount: 2, kvHeads: 1, headDim: 16)
        for layer in 0..<2 {
            let k = source.keys(layer: layer), v = source.values(layer: layer)
            k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                direct.append(layer: layer, keys: kb, values: vb, tokenCount: 21)
            } }
            #expect(copied.keys(layer: layer) == direct.keys(layer: layer))
            #expect(copied.values(layer: layer) == direct.values(layer: layer))
            #expect(copied.quantizedTokenCounts(layer: layer) == (16, 13))
        }
        #expect(source.byteCount == before)
        #expect(copied.count(layer: 1) == 21)
    }
}

/// A long cache (a decode step over 1,500 tokens, MQA with 8 query heads, head_dim 256, as
/// Gemma-2B) is decoded and attended on the kernels' threads: the output is bit-identical for 1, 2
/// and 3 threads and equals reference attention over the dequantized K/V.
@Suite(.serialized) struct LongCacheAttentionTests {
    @Test(arguments: ["group:2,variant=kivi,group_size=128,residual=0,regime=store",
                      "uniform:4,scope=per_token,regime=store"])
    func threadsDoNotChangeTheOutput(spec: String) throws {
        let config = try #require(try QuantizationSpecParser.parseKV(spec))
        let (tokens, kvHeads, headDim, heads) = (1500, 1, 256, 8)
        var data = SeededGenerator(seed: 4242)
        let keys = data.normal(tokens * headDim), values = data.normal(tokens * headDim)
        let cache = try QuantizedKVCache(config: config, kvHeads: kvHeads, headDim: headDim, keys: [keys], values: [values])
        let query = data.normal(heads * headDim)
        let saved = KernelThreads.count
        defer { KernelThreads.count = saved }
        var outputs: [[Float]] = []
        for threads in [1, 2, 3] {
            KernelThreads.count = threads
            var out = [Float](repeating: .nan, count: heads * headDim)
            query.withUnsafeBufferPointer { q in out.withUnsafeMutableBufferPointer { o in
                cache.attend(layer: 0, queries: q, queryCount: 1, heads: heads, scale: 0.0625, output: o)
            } }
            outputs.append(out)
        }
        #expect(outputs[1].map(\.bitPattern) == outputs[0].map(\.bitPattern))
        #expect(outputs[2].map(\.bitPattern) == outputs[0].map(\.bitPattern))
        let reference = CausalAttention.attendReference(
            keys: cache.dequantizedKeys(layer: 0), values: cache.dequantizedValues(layer: 0), tokens: tokens,
            kvHeads: kvHeads, headDim: headDim, queries: query, queryCount: 1, heads: heads, scale: 0.0625)
        #expect(maxAbsDifference(outputs[0], reference) < 1e-5)
    }
}
