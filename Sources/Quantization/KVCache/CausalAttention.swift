import Foundation

/// Causal multi-head attention over Float32 keys and values, for caches that dequantize into
/// scratch before attending.
///
/// Layouts as in Engine's `KVCache`: keys/values `[tokens, kvHeads, headDim]`, queries/output
/// `[queryCount, heads, headDim]`; query `i` sits at position `tokens − queryCount + i`.
public enum CausalAttention {
    /// SIMD kernel: scores in Float32, softmax with the maximum subtracted, weighted sum of values.
    public static func attend(
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, tokens: Int, kvHeads: Int, headDim: Int,
        queries: UnsafePointer<Float>, queryCount: Int, heads: Int, scale: Float,
        output: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>
    ) {
        let groupSize = heads / kvHeads
        let width = kvHeads * headDim
        for i in 0..<queryCount {
            let position = tokens - queryCount + i
            let visible = position + 1
            for head in 0..<heads {
                let kvHead = head / groupSize
                let q = queries + (i * heads + head) * headDim
                var maxScore = -Float.infinity
                for t in 0..<visible {
                    let s = dot(q, keys + t * width + kvHead * headDim, headDim) * scale
                    scores[t] = s
                    maxScore = max(maxScore, s)
                }
                var sum: Float = 0
                for t in 0..<visible {
                    let p = (scores[t] - maxScore).exp
                    scores[t] = p
                    sum += p
                }
                let out = output + (i * heads + head) * headDim
                out.initialize(repeating: 0, count: headDim)
                let inverse = 1 / sum
                for t in 0..<visible {
                    axpy(scores[t] * inverse, values + t * width + kvHead * headDim, out, headDim)
                }
            }
        }
    }

    /// Scalar twin of `attend` (plain loops, Double accumulation) for tests.
    public static func attendReference(
        keys: [Float], values: [Float], tokens: Int, kvHeads: Int, headDim: Int,
        queries: [Float], queryCount: Int, heads: Int, scale: Float
    ) -> [Float] {
        let groupSize = heads / kvHeads
        let width = kvHeads * headDim
        var output = [Float](repeating: 0, count: queryCount * heads * headDim)
        for i in 0..<queryCount {
            let visible = tokens - queryCount + i + 1
            for head in 0..<heads {
                let kvHead = head / groupSize
                var s = [Double](repeating: 0, count: visible)
                for t in 0..<visible {
                    var acc = 0.0
                    for c in 0..<headDim {
                        acc += Double(queries[(i * heads + head) * headDim + c]) * Double(keys[t * width + kvHead * headDim + c])
                    }
                    s[t] = acc * Double(scale)
                }
                let m = s.max() ?? 0
                let p = s.map { Foundation.exp($0 - m) }
                let total = p.reduce(0, +)
                for c in 0..<headDim {
                    var acc = 0.0
                    for t in 0..<visible { acc += p[t] * Double(values[t * width + kvHead * headDim + c]) }
                    output[(i * heads + head) * headDim + c] = Float(acc / total)
                }
            }
        }
        return output
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            acc = acc + x * y
            i += 8
        }
        var sum = acc.sum()
        while i < n {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let a = SIMD8<Float>(repeating: alpha)
        var i = 0
        while i + 8 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv + a * xv, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            y[i] += alpha * x[i]
            i += 1
        }
    }
}

extension Float {
    @inline(__always) fileprivate var exp: Float { Foundation.exp(self) }
}
