import Testing
@testable import Quantization

/// The qualitative orderings the literature reports, on keys shaped like real ones (a few channels
/// with large magnitudes, low-rank structure across tokens) and ordinary values.
@Suite struct QualityOrderingTests {
    static func attentionError(_ spec: String, keys: [Float], values: [Float], queries: [Float],
                               tokens: Int, kvHeads: Int, headDim: Int, heads: Int) throws -> Double {
        let config = try #require(try QuantizationSpecParser.parseKV(spec))
        let cache = try QuantizedKVCache(config: config, kvHeads: kvHeads, headDim: headDim, keys: [keys], values: [values])
        let queryCount = 8
        let exact = CausalAttention.attendReference(
            keys: keys.map { Float(Float16($0)) }, values: values.map { Float(Float16($0)) }, tokens: tokens,
            kvHeads: kvHeads, headDim: headDim, queries: queries, queryCount: queryCount, heads: heads, scale: 0.125)
        let approx = CausalAttention.attendReference(
            keys: cache.dequantizedKeys(layer: 0), values: cache.dequantizedValues(layer: 0), tokens: tokens,
            kvHeads: kvHeads, headDim: headDim, queries: queries, queryCount: queryCount, heads: heads, scale: 0.125)
        return sumSquaredError(approx, exact)
    }

    @Test func twoBitOrderingAndEightBitNearLossless() throws {
        let (tokens, kvHeads, headDim, heads) = (256, 1, 64, 4)
        var data = TestData(seed: 2024)
        let basis = data.normal(4 * headDim), coefficients = data.normal(tokens * 4), noise = data.normal(tokens * headDim, scale: 0.2)
        var keys = [Float](repeating: 0, count: tokens * headDim)
        for t in 0..<tokens {
            for c in 0..<headDim {
                var v = noise[t * headDim + c]
                for k in 0..<4 { v += coefficients[t * 4 + k] * basis[k * headDim + c] }
                if c == 5 || c == 40 { v = v * 8 + 12 }  // outlier channels, as in real keys
                keys[t * headDim + c] = v
            }
        }
        let values = data.normal(tokens * headDim)
        let queries = data.normal(8 * heads * headDim)
        func error(_ spec: String) throws -> Double {
            try Self.attentionError(spec, keys: keys, values: values, queries: queries,
                                    tokens: tokens, kvHeads: kvHeads, headDim: headDim, heads: heads)
        }
        // All tokens quantized (no windows) so the comparison is about the grouping.
        let uniform = try error("uniform:2")
        let outlier = try error("outlier:2")
        let kivi = try error("group:2,group_size=32,residual=32")
        let gear = try error("gear:2,group_size=32,residual=32,rank=4,prefill_rank=4")
        #expect(kivi < outlier)
        #expect(outlier < uniform)
        #expect(gear < kivi)
        // 8 bits: close to lossless whatever the grouping; 4-bit KIVI far better than 2-bit.
        #expect(try error("uniform:8") < uniform / 100)
        #expect(try error("group:4,group_size=32,residual=32") < kivi / 10)
    }
}
