import Testing
@testable import Quantization

@Suite struct CausalAttentionTests {
    /// The SIMD kernel equals the Double reference for MHA, GQA groups of 2/4/6/8 and MQA, head
    /// sizes with and without SIMD tails, one query and many.
    @Test(arguments: [(4, 4, 16, 1), (8, 2, 40, 3), (8, 1, 256, 1), (6, 1, 24, 5), (12, 2, 33, 2), (8, 4, 64, 7)])
    func kernelMatchesReference(heads: Int, kvHeads: Int, headDim: Int, queryCount: Int) {
        var data = TestData(seed: UInt64(heads * 100 + headDim))
        let tokens = 29
        let keys = data.normal(tokens * kvHeads * headDim), values = data.normal(tokens * kvHeads * headDim)
        let queries = data.normal(queryCount * heads * headDim)
        var out = [Float](repeating: .nan, count: queryCount * heads * headDim)
        var scores = [Float](repeating: 0, count: tokens * heads / kvHeads)
        keys.withUnsafeBufferPointer { k in values.withUnsafeBufferPointer { v in queries.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in scores.withUnsafeMutableBufferPointer { s in
                CausalAttention.attend(
                    keys: k.baseAddress!, values: v.baseAddress!, tokens: tokens, kvHeads: kvHeads, headDim: headDim,
                    queries: q.baseAddress!, queryCount: queryCount, heads: heads, scale: 0.3,
                    output: o.baseAddress!, scores: s.baseAddress!)
            } }
        } } }
        let reference = CausalAttention.attendReference(
            keys: keys, values: values, tokens: tokens, kvHeads: kvHeads, headDim: headDim,
            queries: queries, queryCount: queryCount, heads: heads, scale: 0.3)
        #expect(maxAbsDifference(out, reference) < 1e-5)
        // Causality: the first query of a multi-query call sees only its prefix.
        if queryCount > 1 {
            let prefix = CausalAttention.attendReference(
                keys: Array(keys[0..<((tokens - queryCount + 1) * kvHeads * headDim)]),
                values: Array(values[0..<((tokens - queryCount + 1) * kvHeads * headDim)]),
                tokens: tokens - queryCount + 1, kvHeads: kvHeads, headDim: headDim,
                queries: Array(queries[0..<(heads * headDim)]), queryCount: 1, heads: heads, scale: 0.3)
            #expect(maxAbsDifference(Array(out[0..<(heads * headDim)]), prefix) < 1e-5)
        }
    }
}
