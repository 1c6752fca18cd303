internal import CKernels

/// Quantizes one chunk of keys or values `[tokens, kvHeads, headDim]` as a KV method says.
///
/// The steps, for every method: (1) pick sparse outliers; (2) per group, min/max over the values
/// that are not outliers → fp16 `mn`, `s`; (3) codes `q = clamp(round((x−mn)/s), 0, L)`;
/// (4) `x̂ = q·s + mn`, outliers restored exactly; (5) optionally, per head, a rank-r
/// approximation `L` of `E = X − x̂` by power iteration, and `x̂ += L`.
public struct KVChunkCodec: Sendable, Hashable {
    public var bits: QuantizationBits
    public var layout: KVGroupLayout
    public var outliers: KVOutlierRule
    /// Power-iteration rounds for the low-rank term (used when a rank > 0 is asked for).
    public var iterations: Int

    public init(bits: QuantizationBits, layout: KVGroupLayout, outliers: KVOutlierRule = .none, iterations: Int = 3) {
        self.bits = bits
        self.layout = layout
        self.outliers = outliers
        self.iterations = iterations
    }

    /// The simulated path: quantize → dequantize, returning `x̂` (same shape as `x`).
    public func simulate(
        _ x: [Float], tokens: Int, heads: Int, dim: Int, rank: Int = 0, seed: UInt64 = 0
    ) -> [Float] {
        quantize(x, tokens: tokens, heads: heads, dim: dim, rank: rank, seed: seed).reconstruction
    }

    /// The storage path: packed codes, fp16 parameters, outliers and factors.
    public func encode(
        _ x: [Float], tokens: Int, heads: Int, dim: Int, rank: Int = 0, seed: UInt64 = 0
    ) -> PackedKVBlock {
        quantize(x, tokens: tokens, heads: heads, dim: dim, rank: rank, seed: seed).block
    }

    /// Both results of one quantization.
    func quantize(
        _ x: [Float], tokens: Int, heads: Int, dim: Int, rank: Int, seed: UInt64
    ) -> (block: PackedKVBlock, reconstruction: [Float]) {
        precondition(x.count == tokens * heads * dim, "chunk shape does not match its values")
        let n = x.count
        let maxCode = bits.maxCode

        // (1) outliers
        let outlierPositions = x.withUnsafeBufferPointer {
            outliers.select($0, tokens: tokens, heads: heads, dim: dim)
        }
        var isOutlier = [Bool](repeating: false, count: outlierPositions.isEmpty ? 0 : n)
        for i in outlierPositions { isOutlier[i] = true }
        let sparse = x.withUnsafeBufferPointer { SparseOutliers(positions: outlierPositions, source: $0) }

        // (2) group parameters over the non-outliers
        let groupCount = layout.groupCount(tokens: tokens, heads: heads, dim: dim)
        var lo = [Float](repeating: .infinity, count: groupCount)
        var hi = [Float](repeating: -.infinity, count: groupCount)
        var groupOf = [Int32](repeating: 0, count: n)
        var e = 0
        for t in 0..<tokens {
            for h in 0..<heads {
                for c in 0..<dim {
                    let g = layout.group(t: t, h: h, c: c, heads: heads, dim: dim)
                    groupOf[e] = Int32(g)
                    if isOutlier.isEmpty || !isOutlier[e] {
                        lo[g] = min(lo[g], x[e])
                        hi[g] = max(hi[g], x[e])
                    }
                    e += 1
                }
            }
        }
        var parameters = [MinMaxParameters]()
        parameters.reserveCapacity(groupCount)
        for g in 0..<groupCount {
            // A group made only of outliers has no range; any parameters decode it correctly.
            parameters.append(lo[g] <= hi[g]
                ? MinMaxParameters(lo: lo[g], hi: hi[g], bits: bits)
                : MinMaxParameters(lo: 0, hi: 0, bits: bits))
        }

        // (3) codes and (4) the dense reconstruction with outliers restored
        var codes = [UInt8](repeating: 0, count: n)
        var xhat = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let p = parameters[Int(groupOf[i])]
            let q = p.code(x[i], maxCode: maxCode)
            codes[i] = UInt8(q)
            xhat[i] = p.value(q)
        }
        for (k, i) in sparse.indices.enumerated() { xhat[Int(i)] = Float(sparse.values[k]) }

        // (5) low-rank correction of the error, per head
        var factors: [LowRankFactors] = []
        if rank > 0 && tokens > 0 {
            var generator = SplitMix64(seed: seed)
            for h in 0..<heads {
                var error = [Float](repeating: 0, count: tokens * dim)
                for t in 0..<tokens {
                    for c in 0..<dim {
                        let i = (t * heads + h) * dim + c
                        error[t * dim + c] = x[i] - xhat[i]
                    }
                }
                let f = LowRankFactors.approximate(
                    error, rows: tokens, cols: dim, rank: rank, iterations: iterations, generator: &generator)
                factors.append(f)
                for t in 0..<tokens {
                    for c in 0..<dim {
                        let i = (t * heads + h) * dim + c
                        xhat[i] = xhat[i] + f.element(t, c)
                    }
                }
            }
        }

        let block = PackedKVBlock(
            tokens: tokens, heads: heads, dim: dim, layout: layout,
            codes: PackedCodes(bits: bits, codes: codes),
            minima: parameters.map(\.minimum), scales: parameters.map(\.scale),
            outliers: sparse, lowRank: factors)
        return (block, xhat)
    }
}

/// One quantized chunk of keys or values as stored: bit-packed codes, fp16 minima and steps,
/// sparse fp16 outliers and fp16 low-rank factors (one per head).
public struct PackedKVBlock: Sendable, Hashable {
    public private(set) var tokens: Int
    public let heads: Int
    public let dim: Int
    public private(set) var layout: KVGroupLayout
    public private(set) var codes: PackedCodes
    public private(set) var minima: [Float16]
    public private(set) var scales: [Float16]
    public private(set) var outliers: SparseOutliers
    public let lowRank: [LowRankFactors]

    init(
        tokens: Int, heads: Int, dim: Int, layout: KVGroupLayout, codes: PackedCodes, minima: [Float16],
        scales: [Float16], outliers: SparseOutliers, lowRank: [LowRankFactors]
    ) {
        self.tokens = tokens
        self.heads = heads
        self.dim = dim
        self.layout = layout
        self.codes = codes
        self.minima = minima
        self.scales = scales
        self.outliers = outliers
        self.lowRank = lowRank
    }

    /// The same data under another (equivalent) layout name.
    func relabeled(_ layout: KVGroupLayout) -> PackedKVBlock {
        var copy = self
        copy.layout = layout
        return copy
    }

    /// Appends `other`'s tokens when both blocks group per token (so groups never span the seam)
    /// and neither has a low-rank term; returns false otherwise.
    mutating func absorb(_ other: PackedKVBlock) -> Bool {
        guard layout == other.layout, heads == other.heads, dim == other.dim,
              lowRank.isEmpty, other.lowRank.isEmpty, codes.bits == other.codes.bits else { return false }
        switch layout {
        case .perToken, .tokensOverChannels: break
        case .perTensor, .headDimIndex, .channelsOverTokens: return false
        }
        outliers.append(other.outliers, offset: tokens * heads * dim)
        codes.append(other.codes)
        minima += other.minima
        scales += other.scales
        tokens += other.tokens
        return true
    }

    /// Exact bytes held: codes + minima + steps + outliers (value + index) + factors.
    public var byteCount: Int {
        codes.byteCount + minima.count * 2 + scales.count * 2 + outliers.byteCount
            + lowRank.reduce(0) { $0 + $1.byteCount }
    }

    /// Writes `x̂` as `[tokens, heads, dim]` Float32 into `out`, reading the packed data.
    public func decode(into out: UnsafeMutablePointer<Float>) {
        let n = tokens * heads * dim
        guard n > 0 else { return }
        let width = heads * dim
        // Fused unpack + `q·s + mn` per layout (AVX2/F16C where available; multiply, then add).
        let bitCount = Int32(codes.bits.rawValue)
        codes.words.withUnsafeBufferPointer { w in
            minima.withUnsafeBufferPointer { mnHalf in
                scales.withUnsafeBufferPointer { sHalf in
                    mnHalf.withMemoryRebound(to: UInt16.self) { mn in
                        sHalf.withMemoryRebound(to: UInt16.self) { s in
                            let words = w.baseAddress!, mn = mn.baseAddress!, s = s.baseAddress!
                            switch layout {
                            case .perTensor:
                                lcb_quant_dequant_contiguous(words, bitCount, 0, n, n, s, mn, out)
                            case .perToken:
                                lcb_quant_dequant_contiguous(words, bitCount, 0, n, dim, s, mn, out)
                            case .tokensOverChannels(let groupSize) where width % groupSize == 0:
                                lcb_quant_dequant_contiguous(words, bitCount, 0, n, groupSize, s, mn, out)
                            case .tokensOverChannels(let groupSize):
                                let perToken = (width + groupSize - 1) / groupSize
                                for t in 0..<tokens {
                                    lcb_quant_dequant_contiguous(
                                        words, bitCount, t * width, width, groupSize, s + t * perToken, mn + t * perToken,
                                        out + t * width)
                                }
                            case .headDimIndex:
                                lcb_quant_dequant_channels(words, bitCount, 0, tokens * heads, dim, Int.max, s, mn, out)
                            case .channelsOverTokens(let groupSize):
                                lcb_quant_dequant_channels(words, bitCount, 0, tokens, width, groupSize, s, mn, out)
                            }
                        }
                    }
                }
            }
        }
        for (k, i) in outliers.indices.enumerated() { out[Int(i)] = Float(outliers.values[k]) }
        for (h, f) in lowRank.enumerated() { Self.addLowRank(f, head: h, heads: heads, into: out) }
    }

    /// `out[t, head, c] += Σₖ Q[t,k]·P[c,k]`, the sum over k formed from 0 upward per element (as
    /// `LowRankFactors.element`), vectorised over channels.
    static func addLowRank(_ f: LowRankFactors, head: Int, heads: Int, into out: UnsafeMutablePointer<Float>) {
        let r = f.rank, dim = f.cols
        guard r > 0 else { return }
        let q = floats(f.q), p = floats(f.p)
        var pt = [Float](repeating: 0, count: r * dim)  // Pᵀ, so each k is a contiguous row
        for c in 0..<dim { for k in 0..<r { pt[k * dim + c] = p[c * r + k] } }
        pt.withUnsafeBufferPointer { pt in
            let pt = pt.baseAddress!
            for t in 0..<f.rows {
                let row = out + (t * heads + head) * dim
                var c = 0
                while c + 8 <= dim {
                    var acc = SIMD8<Float>()
                    for k in 0..<r {
                        let pk = UnsafeRawPointer(pt + k * dim + c).loadUnaligned(as: SIMD8<Float>.self)
                        acc = acc + SIMD8<Float>(repeating: q[t * r + k]) * pk
                    }
                    let v = UnsafeRawPointer(row + c).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(row + c).storeBytes(of: v + acc, as: SIMD8<Float>.self)
                    c += 8
                }
                while c < dim {
                    var acc: Float = 0
                    for k in 0..<r { acc += q[t * r + k] * pt[k * dim + c] }
                    row[c] = row[c] + acc
                    c += 1
                }
            }
        }
    }

    /// fp16 values widened to Float32 (F16C where available).
    static func floats(_ h: [Float16]) -> [Float] {
        [Float](unsafeUninitializedCapacity: h.count) { buffer, count in
            h.withUnsafeBufferPointer { src in
                src.withMemoryRebound(to: UInt16.self) { bits in
                    if let from = bits.baseAddress, let to = buffer.baseAddress { lcb_quant_half_to_float(from, to, h.count) }
                }
            }
            count = h.count
        }
    }

    /// The decoded values as an array (tests, inspection).
    public func decoded() -> [Float] {
        [Float](unsafeUninitializedCapacity: tokens * heads * dim) { buffer, count in
            if let base = buffer.baseAddress { decode(into: base) }
            count = tokens * heads * dim
        }
    }
}
