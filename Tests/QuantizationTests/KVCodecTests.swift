import Testing
@testable import Quantization

@Suite struct KVCodecTests {
    static func codec(for c: ReferenceFixture.KVCase) -> (KVChunkCodec, rank: Int) {
        let bits = QuantizationBits(rawValue: c.bits)!
        let g = c.group_size ?? 0
        let f = c.fraction ?? 0
        switch c.method {
        case "uniform_per_tensor": return (KVChunkCodec(bits: bits, layout: .perTensor), 0)
        case "uniform_per_token": return (KVChunkCodec(bits: bits, layout: .perToken), 0)
        case "outlier": return (KVChunkCodec(bits: bits, layout: .perTensor, outliers: .perTensor(fraction: f)), 0)
        case "flexgen": return (KVChunkCodec(bits: bits, layout: .headDimIndex), 0)
        case "kivi_keys": return (KVChunkCodec(bits: bits, layout: .channelsOverTokens(groupSize: g)), 0)
        case "kivi_values": return (KVChunkCodec(bits: bits, layout: .tokensOverChannels(groupSize: g)), 0)
        case "gear_keys", "gear_l_keys":
            return (KVChunkCodec(bits: bits, layout: .channelsOverTokens(groupSize: g),
                                 outliers: f > 0 ? .perChannel(fraction: f) : .none, iterations: c.iterations!), c.rank!)
        case "gear_values", "gear_l_values":
            return (KVChunkCodec(bits: bits, layout: .tokensOverChannels(groupSize: g),
                                 outliers: f > 0 ? .perToken(fraction: f) : .none, iterations: c.iterations!), c.rank!)
        default:
            preconditionFailure("unknown fixture method \(c.method)")
        }
    }

    /// Every method's quantize→dequantize equals the independent NumPy reference; exactly where no
    /// low-rank term is involved, within float rounding of the power iteration where one is.
    @Test func matchesReferenceFixture() {
        let fixture = ReferenceFixture.shared
        #expect(fixture.kv.count == 40)
        for c in fixture.kv {
            let x = ReferenceFixture.floats(fixture.kv_inputs[c.input]!)
            let expected = ReferenceFixture.floats(c.expected)
            let (codec, rank) = Self.codec(for: c)
            let got = codec.simulate(x, tokens: c.shape[0], heads: c.shape[1], dim: c.shape[2], rank: rank, seed: c.seed ?? 0)
            if rank == 0 {
                #expect(got == expected, "\(c.method) \(c.bits)-bit differs: max \(maxAbsDifference(got, expected))")
            } else {
                #expect(maxAbsDifference(got, expected) < 2e-3, "\(c.method) \(c.bits)-bit: \(maxAbsDifference(got, expected))")
            }
        }
    }

    /// The packed storage decodes to exactly the simulated values, for every method and width.
    @Test func packedEqualsSimulatedBitForBit() {
        let fixture = ReferenceFixture.shared
        for c in fixture.kv {
            let x = ReferenceFixture.floats(fixture.kv_inputs[c.input]!)
            let (codec, rank) = Self.codec(for: c)
            let (t, h, d) = (c.shape[0], c.shape[1], c.shape[2])
            let simulated = codec.simulate(x, tokens: t, heads: h, dim: d, rank: rank, seed: c.seed ?? 0)
            let packed = codec.encode(x, tokens: t, heads: h, dim: d, rank: rank, seed: c.seed ?? 0).decoded()
            #expect(simulated.map(\.bitPattern) == packed.map(\.bitPattern), "\(c.method) \(c.bits)-bit")
        }
    }

    @Test(arguments: QuantizationBits.allCases)
    func outliersAreExactAndTheRestWithinHalfStep(bits: QuantizationBits) {
        var data = TestData(seed: 11)
        var x = data.normal(10 * 2 * 16)
        x[5] = 40; x[77] = -35; x[300] = 22
        let codec = KVChunkCodec(bits: bits, layout: .perTensor, outliers: .perTensor(fraction: 0.02))
        let block = codec.encode(x, tokens: 10, heads: 2, dim: 16)
        #expect(block.outliers.count == 2 * Int(320 * 0.02 / 2))
        let xhat = block.decoded()
        for i in [5, 77, 300] { #expect(xhat[i] == Float(Float16(x[i]))) }
        let s = Float(block.scales[0])
        let outlierSet = Set(block.outliers.indices.map(Int.init))
        for i in x.indices where !outlierSet.contains(i) {
            #expect(abs(xhat[i] - x[i]) <= s / 2 * (1 + 1e-5))
        }
        // The dense range excludes the outliers, so the step is far smaller than with them.
        let plain = KVChunkCodec(bits: bits, layout: .perTensor).encode(x, tokens: 10, heads: 2, dim: 16)
        #expect(Float(plain.scales[0]) > 3 * s)
    }

    @Test func outlierFractionTooSmallForAnyOutlierQuantizesEverything() {
        // n = ⌊N·f/2⌋ = 0: the authors' slice [0:-0] would quantize nothing; here all is quantized.
        let x: [Float] = (0..<16).map { Float($0) }
        let block = KVChunkCodec(bits: .two, layout: .perTensor, outliers: .perTensor(fraction: 0.05))
            .encode(x, tokens: 1, heads: 1, dim: 16)
        #expect(block.outliers.count == 0)
        #expect(block.decoded() != x)
        #expect(Set(block.decoded()).count == 4)
    }

    @Test(arguments: [QuantizationBits.two, .four])
    func lowRankTermReducesTheError(bits: QuantizationBits) {
        var data = TestData(seed: 21)
        // Keys with a shared low-rank structure plus noise (as real keys have).
        let (t, h, d) = (64, 2, 32)
        let u = data.normal(t * 2), v = data.normal(2 * d), noise = data.normal(t * h * d, scale: 0.3)
        var x = [Float](repeating: 0, count: t * h * d)
        for i in 0..<t { for head in 0..<h { for c in 0..<d {
            x[(i * h + head) * d + c] = u[i * 2] * v[c] + u[i * 2 + 1] * v[d + c] * Float(head + 1) + noise[(i * h + head) * d + c]
        } } }
        for layout in [KVGroupLayout.channelsOverTokens(groupSize: 16), .tokensOverChannels(groupSize: 16)] {
            let codec = KVChunkCodec(bits: bits, layout: layout, iterations: 3)
            let without = sumSquaredError(codec.simulate(x, tokens: t, heads: h, dim: d), x)
            let rank2 = sumSquaredError(codec.simulate(x, tokens: t, heads: h, dim: d, rank: 2, seed: 3), x)
            let rank4 = sumSquaredError(codec.simulate(x, tokens: t, heads: h, dim: d, rank: 4, seed: 3), x)
            #expect(rank2 < without)
            #expect(rank4 < rank2)
            let block = codec.encode(x, tokens: t, heads: h, dim: d, rank: 4, seed: 3)
            #expect(block.lowRank.count == h)
            #expect(block.lowRank[0].byteCount == (t * 4 + d * 4) * 2)
        }
    }

    @Test func lowRankIsDeterministicPerSeed() {
        var data = TestData(seed: 2)
        let x = data.normal(8 * 1 * 16)
        let codec = KVChunkCodec(bits: .two, layout: .perToken, iterations: 2)
        #expect(codec.simulate(x, tokens: 8, heads: 1, dim: 16, rank: 2, seed: 1)
                == codec.simulate(x, tokens: 8, heads: 1, dim: 16, rank: 2, seed: 1))
    }

    @Test func blockByteCountIsExact() {
        var data = TestData(seed: 4)
        let x = data.normal(12 * 2 * 8)
        // KIVI keys, 3-bit, G = 4: 192 codes → ⌈192/10⌉ words; (12/4)·2·8 = 48 groups × (mn + s).
        let keys = KVChunkCodec(bits: .three, layout: .channelsOverTokens(groupSize: 4)).encode(x, tokens: 12, heads: 2, dim: 8)
        #expect(keys.byteCount == 20 * 4 + 48 * 4)
        // GEAR values: 2-bit, G = 8, 1 outlier each side per token (⌊16·0.125/2⌋), rank 2.
        let gear = KVChunkCodec(bits: .two, layout: .tokensOverChannels(groupSize: 8), outliers: .perToken(fraction: 0.125))
            .encode(x, tokens: 12, heads: 2, dim: 8, rank: 2, seed: 0)
        let expected = 12 * 4 + 24 * 4 + 24 * 6 + 2 * (12 * 2 + 8 * 2) * 2
        #expect(gear.byteCount == expected)
    }
}
