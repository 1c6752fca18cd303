import Testing
@testable import Quantization

@Suite struct PrimitiveTests {
    @Test(arguments: QuantizationBits.allCases)
    func packedCodesRoundTrip(bits: QuantizationBits) {
        var data = TestData(seed: UInt64(bits.rawValue))
        let codes = (0..<203).map { _ in UInt8(data.next() % UInt64(bits.maxCode + 1)) }
        let packed = PackedCodes(bits: bits, codes: codes)
        #expect((0..<codes.count).map { packed[$0] } == codes.map(Int.init))
        #expect(packed.words.count == (203 + bits.codesPerWord - 1) / bits.codesPerWord)
        // KIVI layout: code j of a word at bits [b·j, b·j+b).
        #expect(Int(packed.words[0] & UInt32(bits.maxCode)) == Int(codes[0]))
        #expect(Int((packed.words[0] >> UInt32(bits.rawValue)) & UInt32(bits.maxCode)) == Int(codes[1]))
        // Joining two packed runs equals packing the concatenation.
        var joined = PackedCodes(bits: bits, codes: codes[0..<77])
        joined.append(PackedCodes(bits: bits, codes: codes[77...]))
        #expect(joined == packed)
    }

    @Test func threeBitLayoutLeavesTopBitsEmpty() {
        let packed = PackedCodes(bits: .three, codes: [UInt8](repeating: 7, count: 10))
        #expect(packed.words == [0x3FFF_FFFF])
    }

    @Test(arguments: QuantizationBits.allCases)
    func minMaxErrorWithinHalfStep(bits: QuantizationBits) {
        var data = TestData(seed: 99)
        for trial in 0..<200 {
            let scale = Float(trial % 7 + 1) * 0.37
            let x = data.normal(37, scale: scale).map { $0 + Float(trial % 5) - 2 }
            let p = MinMaxParameters(lo: x.min()!, hi: x.max()!, bits: bits)
            // The stored fp16 grid covers the group.
            #expect(Float(p.minimum) <= x.min()!)
            #expect(Float(p.minimum) + Float(bits.maxCode) * Float(p.scale) >= x.max()!)
            for v in x {
                let err = abs(p.value(p.code(v, maxCode: bits.maxCode)) - v)
                #expect(err <= Float(p.scale) / 2 * (1 + 1e-5) + 1e-6 * abs(v))
            }
        }
    }

    @Test func constantGroupIsExactAndFinite() {
        for value: Float in [0, 1, -3.25, 1000] {
            let p = MinMaxParameters(lo: value, hi: value, bits: .two)
            #expect(Float(p.scale) > 0)
            #expect(p.value(p.code(value, maxCode: 3)) == value)
        }
    }

    @Test func roundingIsHalfToEven() {
        // mn = 0, s = 1 (exact in fp16): 0.5 → 0, 1.5 → 2, 2.5 → 2.
        let p = MinMaxParameters(minimum: 0, scale: 1)
        #expect(p.code(0.5, maxCode: 15) == 0)
        #expect(p.code(1.5, maxCode: 15) == 2)
        #expect(p.code(2.5, maxCode: 15) == 2)
        #expect(p.code(99, maxCode: 15) == 15)
        #expect(p.code(-4, maxCode: 15) == 0)
    }

    @Test(arguments: QuantizationBits.allCases)
    func zeroPointErrorWithinHalfStep(bits: QuantizationBits) {
        var data = TestData(seed: 5)
        for trial in 0..<200 {
            let shift: Float = trial % 3 == 0 ? 0.4 : 0  // some all-positive groups
            let x = data.normal(64, scale: 0.05).map { $0 + shift }
            let p = ZeroPointParameters(lo: x.min()!, hi: x.max()!, bits: bits)
            #expect(Int(p.zeroPoint) <= bits.maxCode)
            for v in x {
                let err = abs(p.value(p.code(v, maxCode: bits.maxCode)) - v)
                #expect(err <= Float(p.scale) / 2 * (1 + 1e-5) + 1e-6 * abs(v))
            }
            #expect(p.value(p.code(0, maxCode: bits.maxCode)) == 0)  // zero is exact
        }
    }

    @Test func extremesPickSmallestAndLargestWithStableTies() {
        let x: [Float] = [3, -1, 7, 7, 0, -1, 2, 9]
        let picked = SparseOutliers.extremes(count: x.count, n: 2) { x[$0] }
        #expect(Set(picked) == [1, 5, 3, 7])
        #expect(SparseOutliers.extremes(count: x.count, n: 0) { x[$0] }.isEmpty)
        #expect(SparseOutliers.extremes(count: 3, n: 5) { x[$0] }.count == 2)
    }
}
