import Foundation
import Testing
import TestSupport
@testable import Engine

/// Deterministic pseudo-random floats in [-1, 1) (xorshift), so tests need no global RNG.
func pseudoRandom(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Float(state >> 40) / Float(1 << 23) - 1
    }
}

/// Plain attention on explicit arrays: the textbook formula, written independently of the engine.
func naiveCausalAttention(
    queries: [Float], keys: [Float], values: [Float], queryCount: Int, tokenCount: Int, heads: Int, kvHeads: Int, headDim: Int
) -> [Float] {
    var output = [Float](repeating: 0, count: queryCount * heads * headDim)
    let scale = 1 / Float(headDim).squareRoot()
    for i in 0..<queryCount {
        let visible = tokenCount - queryCount + i + 1
        for h in 0..<heads {
            let g = h / (heads / kvHeads)
            var scores = (0..<visible).map { t -> Double in
                var dot: Double = 0
                for d in 0..<headDim {
                    dot += Double(queries[(i * heads + h) * headDim + d]) * Double(keys[(t * kvHeads + g) * headDim + d])
                }
                return dot * Double(scale)
            }
            let top = scores.max() ?? 0
            scores = scores.map { Foundation.exp($0 - top) }
            let sum = scores.reduce(0, +)
            for d in 0..<headDim {
                var acc: Double = 0
                for t in 0..<visible { acc += scores[t] / sum * Double(values[(t * kvHeads + g) * headDim + d]) }
                output[(i * heads + h) * headDim + d] = Float(acc)
            }
        }
    }
    return output
}

@Suite struct KVCacheTests {
    private func append(_ cache: any KVCache, layer: Int, keys: [Float], values: [Float], tokens: Int) {
        keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in cache.append(layer: layer, keys: k, values: v, tokenCount: tokens) }
        }
    }

    private func attend(_ cache: any KVCache, layer: Int, queries: [Float], queryCount: Int, heads: Int) -> [Float] {
        var output = [Float](repeating: .nan, count: queries.count)
        queries.withUnsafeBufferPointer { q in
            output.withUnsafeMutableBufferPointer { o in
                cache.attend(layer: layer, queries: q, queryCount: queryCount, heads: heads,
                             scale: 1 / Float(cache.headDim).squareRoot(), output: o)
            }
        }
        return output
    }

    /// Appends in chunks that cross growth steps, then attends with several queries (prefill-like)
    /// and with GQA; both caches must equal textbook attention over what they store.
    @Test(arguments: [(4, 2, 8), (8, 1, 16), (3, 3, 6)])
    func attentionMatchesTextbookFormula(heads: Int, kvHeads: Int, headDim: Int) {
        let width = kvHeads * headDim
        let chunks = [5, 1, 7, 3]
        let total = chunks.reduce(0, +)
        let keys = pseudoRandom(total * width, seed: 11)
        let values = pseudoRandom(total * width, seed: 12)
        let f16 = F16KVCache(layerCount: 2, kvHeads: kvHeads, headDim: headDim, growthStep: 4)
        let f32 = F32KVCache(layerCount: 2, kvHeads: kvHeads, headDim: headDim, growthStep: 4)
        var offset = 0
        for chunk in chunks {
            for cache in [f16, f32] as [any KVCache] {
                append(cache, layer: 1, keys: Array(keys[offset * width..<(offset + chunk) * width]),
                       values: Array(values[offset * width..<(offset + chunk) * width]), tokens: chunk)
            }
            offset += chunk
        }
        #expect(f16.count(layer: 1) == total && f16.count(layer: 0) == 0)
        #expect(f16.capacity(layer: 1) == 16)
        let rounded = { (x: [Float]) in x.map { Float(Float16($0)) } }
        #expect(f16.keys(layer: 1) == rounded(keys))
        #expect(f16.values(layer: 1) == rounded(values))
        #expect(f16.byteCount == total * width * 2 * 2)
        // 1 and 4 queries take the decode path, 9 the matrix-product path.
        for queryCount in [1, 4, 9] {
            let queries = pseudoRandom(queryCount * heads * headDim, seed: 13)
            let exact = naiveCausalAttention(queries: queries, keys: keys, values: values, queryCount: queryCount,
                                             tokenCount: total, heads: heads, kvHeads: kvHeads, headDim: headDim)
            let halfExact = naiveCausalAttention(queries: queries, keys: rounded(keys), values: rounded(values),
                                                 queryCount: queryCount, tokenCount: total, heads: heads, kvHeads: kvHeads, headDim: headDim)
            #expect(maxAbsDifference(attend(f32, layer: 1, queries: queries, queryCount: queryCount, heads: heads), exact) < 1e-5)
            #expect(maxAbsDifference(attend(f16, layer: 1, queries: queries, queryCount: queryCount, heads: heads), halfExact) < 1e-5)
        }
    }

    /// Shared prefill: continuing a copy must leave the original's future outputs unchanged.
    @Test(arguments: ["f16", "f32"])
    func copyIsIndependent(kind: String) throws {
        let model = try Model(directory: Fixtures.url("models/llama-text-sharded"))
        let prompt = try ModelFixture(name: "llama-text-sharded").inputs().promptIds
        let make: () -> any KVCache = { kind == "f16" ? model.makeCache() : model.language.makeReferenceCache() }

        // Reference: prompt + [40] in a fresh cache, then decode 50.
        let fresh = make()
        _ = try model.prefill(tokens: prompt, cache: fresh)
        _ = try model.decode(token: 40, cache: fresh)
        let expected = try model.decode(token: 50, cache: fresh)

        let original = make()
        _ = try model.prefill(tokens: prompt, cache: original)
        let snapshot = original.copy()
        // Continue the copy with other tokens, several steps, crossing nothing back.
        for token in [7, 8, 9, 10] { _ = try model.decode(token: token, cache: snapshot) }
        #expect(snapshot.count(layer: 0) == prompt.count + 4)
        #expect(original.count(layer: 0) == prompt.count)
        _ = try model.decode(token: 40, cache: original)
        let continued = try model.decode(token: 50, cache: original)
        #expect(continued == expected)
        // And the copy kept its own history: a second copy-continuation reproduces it.
        let again = try model.decode(token: 11, cache: snapshot)
        let check = make()
        _ = try model.prefill(tokens: prompt + [7, 8, 9, 10], cache: check)
        #expect(maxAbsDifference(try model.decode(token: 11, cache: check), again) < 1e-5)
    }

    @Test func cacheShapeMustFitModel() throws {
        let model = try Model(directory: Fixtures.url("models/gemma-text-f16"))
        let wrong = F16KVCache(layerCount: 3, kvHeads: 1, headDim: 24)
        #expect(throws: GenerationError.self) { try model.prefill(tokens: [2, 5], cache: wrong) }
    }
}

@Suite struct NumericPrimitiveTests {
    @Test func halfWideningMatchesStandardLibraryForAllBitPatterns() {
        let all = (0...UInt16.max).map { $0 }
        var fast = [Float](repeating: 0, count: all.count)
        var reference = fast
        all.withUnsafeBufferPointer { source in
            fast.withUnsafeMutableBufferPointer { HalfConversion.widen(source.baseAddress!, into: $0.baseAddress!, count: all.count) }
            reference.withUnsafeMutableBufferPointer {
                HalfConversion.widenReference(source.baseAddress!, into: $0.baseAddress!, count: all.count)
            }
        }
        for i in all.indices {
            if reference[i].isNaN {
                #expect(fast[i].isNaN)
            } else if fast[i].bitPattern != reference[i].bitPattern {
                Issue.record("bits \(i): \(fast[i]) vs \(reference[i])")
                return
            }
        }
    }

    @Test(arguments: [
        (Activation.silu, Float(0.7310586)), (.gelu, 0.8413447), (.geluTanh, 0.8411920), (.quickGELU, 0.8457957),
    ])
    func activationsAtOne(activation: Activation, expected: Float) {
        #expect(abs(activation(1) - expected) < 1e-6)
        #expect(abs(activation(0)) == 0)
    }

    /// The exp-based tanh-GELU against the textbook tanh formula in double precision.
    @Test func geluTanhMatchesTanhFormula() {
        for step in -2000...2000 {
            let x = Float(step) / 100
            let u = (2 / Double.pi).squareRoot() * (Double(x) + 0.044715 * pow(Double(x), 3))
            let expected = 0.5 * Double(x) * (1 + Foundation.tanh(u))
            #expect(abs(Double(Activation.geluTanh(x)) - expected) <= 3e-7 * max(1, abs(Double(x))), "x = \(x)")
        }
    }

    /// `fastExp` against the C library over the range softmax and the activations use.
    @Test func fastExpIsWithinTwoUlpOfExpf() {
        var worst: Float = 0
        for step in -87_000...88_000 {
            let x = Float(step) / 1000
            let reference = Foundation.expf(x)
            worst = max(worst, abs(fastExp(x) - reference) / reference.ulp)
        }
        #expect(worst <= 2)
        #expect(fastExp(0) == 1)
        #expect(fastExp(-1000) < 1e-37 && fastExp(-1000) >= 0)
    }

    @Test func activationConfigNames() {
        #expect(Activation(configName: "gelu_new") == .geluTanh)
        #expect(Activation(configName: "quick_gelu") == .quickGELU)
        #expect(Activation(configName: "relu2") == nil)
    }

    @Test func rotaryEmbeddingRotatesHalves() {
        let rope = RotaryEmbedding(headDim: 4, theta: 10000)
        #expect(rope.inverseFrequencies == [1, 0.01])
        var v: [Float] = [1, 2, 3, 4]
        v.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, heads: 1, position: 0) }
        #expect(v == [1, 2, 3, 4])
        v.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, heads: 1, position: 3) }
        // Pair (x0, x2) rotates by 3 rad, pair (x1, x3) by 0.03 rad.
        let expected: [Float] = [1 * cos(3) - 3 * sin(3), 2 * cos(0.03) - 4 * sin(0.03), 3 * cos(3) + 1 * sin(3), 4 * cos(0.03) + 2 * sin(0.03)]
        #expect(maxAbsDifference(v, expected) < 1e-6)
    }

    @Test func normsMatchFormulas() {
        let x: [Float] = [1, -2, 3, 0.5]
        var y = [Float](repeating: 0, count: 4)
        let w: [Float] = [0.5, 1, 2, -1]
        let rms = (x.map { $0 * $0 }.reduce(0, +) / 4 + 1e-6).squareRoot()
        RMSNorm(weight: w, epsilon: 1e-6, addsOne: true).apply(x, rows: 1, into: &y)
        #expect(maxAbsDifference(y, (0..<4).map { x[$0] / rms * (1 + w[$0]) }) < 1e-6)
        RMSNorm(weight: w, epsilon: 1e-6, addsOne: false).apply(x, rows: 1, into: &y)
        #expect(maxAbsDifference(y, (0..<4).map { x[$0] / rms * w[$0] }) < 1e-6)
        let mean = x.reduce(0, +) / 4
        let std = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4 + 1e-5).squareRoot()
        LayerNorm(weight: w, bias: [1, 2, 3, 4], epsilon: 1e-5).apply(x, rows: 1, into: &y)
        #expect(maxAbsDifference(y, (0..<4).map { (x[$0] - mean) / std * w[$0] + Float($0 + 1) }) < 1e-6)
    }

    /// The SIMD attention kernel against its scalar twin, on lengths that leave SIMD remainders.
    @Test(arguments: [(1, 8), (37, 24), (100, 256), (5, 7)])
    func attendOneMatchesScalarTwin(count: Int, headDim: Int) {
        let rowStride = headDim + 3
        let query = pseudoRandom(headDim, seed: 21)
        let keys = pseudoRandom(count * rowStride, seed: 22)
        let values = pseudoRandom(count * rowStride, seed: 23)
        var fast = [Float](repeating: 0, count: headDim)
        var slow = fast
        var scores = [Float](repeating: 0, count: count)
        fast.withUnsafeMutableBufferPointer { out in
            AttentionMath.attendOne(query: query, keys: keys, values: values, rowStride: rowStride, count: count,
                                    headDim: headDim, scale: 0.3, scores: &scores, output: out.baseAddress!)
        }
        slow.withUnsafeMutableBufferPointer { out in
            AttentionMath.attendOneReference(query: query, keys: keys, values: values, rowStride: rowStride, count: count,
                                             headDim: headDim, scale: 0.3, scores: &scores, output: out.baseAddress!)
        }
        #expect(maxAbsDifference(fast, slow) < 1e-5)
        #expect(fast.contains { $0 != 0 })
    }

    /// The matmul path (blocks of 32 score rows here, so several blocks; masked softmax) against the
    /// per-head SIMD path.
    @Test(arguments: [(70, 75, 4, 2, true), (70, 70, 8, 1, true), (17, 17, 3, 3, false), (9, 40, 2, 1, true)])
    func blockedAttentionMatchesPerHead(queryCount: Int, tokenCount: Int, heads: Int, kvHeads: Int, causal: Bool) {
        let headDim = 12
        let queries = pseudoRandom(queryCount * heads * headDim, seed: 31)
        let keys = pseudoRandom(tokenCount * kvHeads * headDim, seed: 32)
        let values = pseudoRandom(tokenCount * kvHeads * headDim, seed: 33)
        let scale = 1 / Float(headDim).squareRoot()
        var blocked = [Float](repeating: .nan, count: queries.count)
        var perHead = blocked
        blocked.withUnsafeMutableBufferPointer { out in
            AttentionMath.blocked(queries: queries, queryCount: queryCount, heads: heads, keys: keys, values: values,
                                  layout: .tokenMajor(kvHeads: kvHeads, headDim: headDim), tokenCount: tokenCount, kvHeads: kvHeads, headDim: headDim, causal: causal,
                                  scale: scale, output: out.baseAddress!, blockRows: 32)
        }
        perHead.withUnsafeMutableBufferPointer { out in
            AttentionMath.perHead(queries: queries, queryCount: queryCount, heads: heads, keys: keys, values: values,
                                  layout: .tokenMajor(kvHeads: kvHeads, headDim: headDim), tokenCount: tokenCount, kvHeads: kvHeads, headDim: headDim, causal: causal,
                                  scale: scale, output: out.baseAddress!)
        }
        #expect(maxAbsDifference(blocked, perHead) < 1e-5)
        if causal {
            let naive = naiveCausalAttention(queries: queries, keys: keys, values: values, queryCount: queryCount,
                                             tokenCount: tokenCount, heads: heads, kvHeads: kvHeads, headDim: headDim)
            #expect(maxAbsDifference(blocked, naive) < 1e-5)
        }
    }

    @Test func argmaxTakesFirstOfTies() {
        #expect(GreedyDecoding.argmax([0, 3, 1, 3]) == 1)
    }

    @Test func npyRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: url) }
        let values: [Float] = [1.5, -2, .infinity, 0, 3e-8, 7]
        try NumpyFile.write(values, shape: [2, 3], to: url)
        let data = try Data(contentsOf: url)
        #expect((data.count - values.count * 4) % 64 == 0)
        #expect(try NumpyFile.read(url) == NumpyFile.Array(shape: [2, 3], values: values))
        try NumpyFile.write([1, 2], shape: [2], to: url)
        #expect(try NumpyFile.read(url).shape == [2])
    }
}
