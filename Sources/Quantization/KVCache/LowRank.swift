/// SplitMix64: a small, fully specified generator so GEAR's random start is reproducible anywhere
/// (the fixture script implements the same one).
public struct SplitMix64: Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits (exact in Float32).
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Mixes several integers into one seed (used to give each layer/block/head its own stream).
    public static func mix(_ parts: UInt64...) -> UInt64 {
        var generator = SplitMix64(seed: 0x6C63_625F_6765_6172)  // "lcb_gear"
        for part in parts {
            generator.state ^= part
            _ = generator.next()
        }
        return generator.next()
    }
}

/// A rank-r factorisation `L = Q·Pᵀ` stored in fp16: `Q` is `[rows × r]`, `P` is `[cols × r]`.
public struct LowRankFactors: Sendable, Hashable {
    public let rows: Int
    public let cols: Int
    public let rank: Int
    public let q: [Float16]
    public let p: [Float16]

    public var byteCount: Int { (q.count + p.count) * 2 }

    /// `L[i, j] = Σₖ Q[i,k]·P[j,k]`, accumulated in Float32 from k = 0 upward (both paths).
    @inline(__always)
    func element(_ i: Int, _ j: Int) -> Float {
        var acc: Float = 0
        for k in 0..<rank { acc += Float(q[i * rank + k]) * Float(p[j * rank + k]) }
        return acc
    }

    /// GEAR's low-rank approximation of `e` (`[rows × cols]`, row-major) by power iteration.
    ///
    /// `P` starts as U[0,1) from `generator` (`cols × r` values, row-major). Each of `iterations`
    /// rounds computes `Q = E·P` and `P = Eᵀ·Q`; the last round orthonormalises `P` and `Q` (QR).
    /// Unlike the authors' code, every round orthonormalises `P` first (subspace iteration): the
    /// column span — and so `L = Q·Qᵀ·E` — is the same in exact arithmetic, but Float32 cannot
    /// overflow for many iterations. The rank is capped at `min(rows, cols)`.
    static func approximate(
        _ e: [Float], rows: Int, cols: Int, rank requested: Int, iterations: Int,
        generator: inout SplitMix64
    ) -> LowRankFactors {
        let r = min(requested, rows, cols)
        var p = [Float](repeating: 0, count: cols * r)
        for i in 0..<p.count { p[i] = generator.nextUnitFloat() }
        var q = [Float](repeating: 0, count: rows * r)
        for _ in 0..<max(iterations, 1) {
            orthonormalize(&p, rows: cols, rank: r)
            // Q = E·P
            for i in 0..<rows {
                for k in 0..<r {
                    var acc: Float = 0
                    for j in 0..<cols { acc += e[i * cols + j] * p[j * r + k] }
                    q[i * r + k] = acc
                }
            }
            orthonormalize(&q, rows: rows, rank: r)
            // P = Eᵀ·Q
            for j in 0..<cols {
                for k in 0..<r {
                    var acc: Float = 0
                    for i in 0..<rows { acc += e[i * cols + j] * q[i * r + k] }
                    p[j * r + k] = acc
                }
            }
        }
        return LowRankFactors(
            rows: rows, cols: cols, rank: r, q: q.map { Float16($0) }, p: p.map { Float16($0) })
    }

    /// Modified Gram–Schmidt, twice, on the `rank` columns of a row-major `[rows × rank]` matrix.
    /// A column that collapses to (near) zero becomes zero, so it adds nothing to `L`.
    static func orthonormalize(_ m: inout [Float], rows: Int, rank: Int) {
        for k in 0..<rank {
            for _ in 0..<2 {
                for j in 0..<k {
                    var dot: Float = 0
                    for i in 0..<rows { dot += m[i * rank + j] * m[i * rank + k] }
                    for i in 0..<rows { m[i * rank + k] -= dot * m[i * rank + j] }
                }
            }
            var norm: Float = 0
            for i in 0..<rows { norm += m[i * rank + k] * m[i * rank + k] }
            norm = norm.squareRoot()
            let inverse: Float = norm > 1e-20 ? 1 / norm : 0
            for i in 0..<rows { m[i * rank + k] *= inverse }
        }
    }
}
