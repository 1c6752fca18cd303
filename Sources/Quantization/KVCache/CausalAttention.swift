import Engine
import Foundation

/// Causal multi-head attention over Float32 keys and values, for caches that dequantize into
/// scratch before attending.
///
/// Layouts as in Engine's `KVCache`: keys/values `[tokens, kvHeads, headDim]`, queries/output
/// `[queryCount, heads, headDim]`; query `i` sits at position `tokens − queryCount + i`.
public enum CausalAttention {
    /// SIMD kernel: scores in Float32, softmax with the maximum subtracted, weighted sum of values.
    ///
    /// The query heads that share a kv-head are handled together, so each key and value row is
    /// read once per kv-head rather than once per query head. `scores` holds at least
    /// `heads / kvHeads × tokens` floats.
    public static func attend(
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, tokens: Int, kvHeads: Int, headDim: Int,
        queries: UnsafePointer<Float>, queryCount: Int, heads: Int, scale: Float,
        output: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>
    ) {
        let group = heads / kvHeads
        let width = kvHeads * headDim
        for i in 0..<queryCount {
            let visible = tokens - queryCount + i + 1
            for kvHead in 0..<kvHeads {
                let firstHead = kvHead * group
                let q = queries + (i * heads + firstHead) * headDim
                // Long contexts (a decode step over thousands of tokens) split the tokens over the
                // kernels' threads; each score is the same computation whichever thread makes it.
                let tokenChunks = parallelChunks(work: visible * group * headDim, items: visible, grain: 128)
                KernelThreads.parallelFor(tokenChunks.count) { chunk in
                    for t in tokenChunks.range(chunk) {
                        let k = keys + t * width + kvHead * headDim
                        for g in 0..<group { scores[g * visible + t] = dot(q + g * headDim, k, headDim) * scale }
                    }
                }
                for g in 0..<group {
                    let row = scores + g * visible
                    var maxScore = -Float.infinity
                    for t in 0..<visible { maxScore = max(maxScore, row[t]) }
                    var sum: Float = 0
                    for t in 0..<visible {
                        let p = (row[t] - maxScore).exp
                        row[t] = p
                        sum += p
                    }
                    let inverse = 1 / sum
                    for t in 0..<visible { row[t] *= inverse }
                }
                // Channels in slices of 32 over the threads: every output channel sums its tokens in
                // the same order whichever slice holds it.
                let slices = parallelChunks(work: visible * group * headDim, items: headDim, grain: 32)
                KernelThreads.parallelFor(slices.count) { slice in
                    let channels = slices.range(slice)
                    var g = 0
                    while g < group {
                        let n = min(4, group - g)
                        weightedSums(scores + g * visible, heads: n, visible,
                                     values + kvHead * headDim + channels.lowerBound, stride: width,
                                     output + (i * heads + firstHead + g) * headDim + channels.lowerBound,
                                     channels.count, headStride: headDim)
                        g += n
                    }
                }
            }
        }
    }

    /// Splits `items` into slices of whole `grain`s for the kernels' threads when `work`
    /// (multiply-adds) pays for them; one slice otherwise.
    static func parallelChunks(work: Int, items: Int, grain: Int) -> (count: Int, range: (Int) -> Range<Int>) {
        let threads = KernelThreads.count
        let grains = (items + grain - 1) / grain
        let count = threads > 1 && work >= 1 << 18 ? min(grains, threads * 4) : 1
        let perChunk = (grains + count - 1) / count * grain
        return (count, { chunk in min(items, chunk * perChunk)..<min(items, (chunk + 1) * perChunk) })
    }

    /// For up to four heads h: `out[h·headStride + c] = Σₜ p[h·count + t]·v[t·stride + c]` for
    /// c < dim, 16 channels at a time held in registers, each value row loaded once for all the heads.
    @inline(__always)
    static func weightedSums(
        _ p: UnsafeMutablePointer<Float>, heads: Int, _ count: Int, _ v: UnsafePointer<Float>, stride: Int,
        _ out: UnsafeMutablePointer<Float>, _ dim: Int, headStride: Int
    ) {
        guard heads == 4 else {
            for h in 0..<heads { weightedSum(p + h * count, count, v, stride: stride, out + h * headStride, dim) }
            return
        }
        let p0 = p, p1 = p + count, p2 = p + 2 * count, p3 = p + 3 * count
        var c = 0
        while c + 16 <= dim {
            var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
            var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
            for t in 0..<count {
                let row = UnsafeRawPointer(v + t * stride + c)
                let v0 = row.loadUnaligned(as: SIMD8<Float>.self)
                let v1 = row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                let w0 = SIMD8<Float>(repeating: p0[t]), w1 = SIMD8<Float>(repeating: p1[t])
                let w2 = SIMD8<Float>(repeating: p2[t]), w3 = SIMD8<Float>(repeating: p3[t])
                a00 = a00 + w0 * v0; a01 = a01 + w0 * v1
                a10 = a10 + w1 * v0; a11 = a11 + w1 * v1
                a20 = a20 + w2 * v0; a21 = a21 + w2 * v1
                a30 = a30 + w3 * v0; a31 = a31 + w3 * v1
            }
            for (h, pair) in [(a00, a01), (a10, a11), (a20, a21), (a30, a31)].enumerated() {
                let o = UnsafeMutableRawPointer(out + h * headStride + c)
                o.storeBytes(of: pair.0, as: SIMD8<Float>.self)
                o.storeBytes(of: pair.1, toByteOffset: 32, as: SIMD8<Float>.self)
            }
            c += 16
        }
        while c < dim {
            for h in 0..<4 {
                var acc: Float = 0
                for t in 0..<count { acc += p[h * count + t] * v[t * stride + c] }
                out[h * headStride + c] = acc
            }
            c += 1
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
        // Four independent accumulators keep the adds from waiting on each other.
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= n {
            let ra = UnsafeRawPointer(a + i), rb = UnsafeRawPointer(b + i)
            a0 = a0 + ra.loadUnaligned(as: SIMD8<Float>.self) * rb.loadUnaligned(as: SIMD8<Float>.self)
            a1 = a1 + ra.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            a2 = a2 + ra.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
            a3 = a3 + ra.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
            i += 32
        }
        var acc = (a0 + a1) + (a2 + a3)
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

    /// `out[c] = Σₜ p[t]·v[t·stride + c]`, 32 channels at a time held in registers.
    @inline(__always)
    static func weightedSum(
        _ p: UnsafeMutablePointer<Float>, _ count: Int, _ v: UnsafePointer<Float>, stride: Int,
        _ out: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        var c = 0
        while c + 32 <= n {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            for t in 0..<count {
                let w = SIMD8<Float>(repeating: p[t])
                let row = UnsafeRawPointer(v + t * stride + c)
                a0 = a0 + w * row.loadUnaligned(as: SIMD8<Float>.self)
                a1 = a1 + w * row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                a2 = a2 + w * row.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
                a3 = a3 + w * row.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
            }
            let o = UnsafeMutableRawPointer(out + c)
            o.storeBytes(of: a0, as: SIMD8<Float>.self)
            o.storeBytes(of: a1, toByteOffset: 32, as: SIMD8<Float>.self)
            o.storeBytes(of: a2, toByteOffset: 64, as: SIMD8<Float>.self)
            o.storeBytes(of: a3, toByteOffset: 96, as: SIMD8<Float>.self)
            c += 32
        }
        while c < n {
            var acc: Float = 0
            for t in 0..<count { acc += p[t] * v[t * stride + c] }
            out[c] = acc
            c += 1
        }
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
