import Testing
import TestSupport
import Engine
@testable import Quantization

@Suite struct WeightQuantizerTests {
    static func config(_ c: ReferenceFixture.WeightCase) -> WeightQuantizationConfig {
        var config = WeightQuantizationConfig(
            method: c.method == "outlier" ? .outlier : .rtn, bits: QuantizationBits(rawValue: c.bits)!)
        if let scope = c.scope { config.scope = WeightScope(rawValue: scope)! }
        if let g = c.group_size, g > 0 { config.groupSize = g }
        if let f = c.fraction { config.fraction = f }
        return config
    }

    /// RTN (per-tensor, per-channel, per-group) and dense-and-sparse equal the NumPy reference
    /// exactly, and the packed layer decodes to the same values bit for bit.
    @Test func matchesReferenceFixtureAndPackedEqualsSimulated() throws {
        let cases = ReferenceFixture.shared.weights
        #expect(cases.count == 16)
        for c in cases {
            let w = ReferenceFixture.floats(c.input)
            let config = Self.config(c)
            let simulated = try WeightQuantizer.simulate(w, outFeatures: c.rows, inFeatures: c.cols, config: config)
            #expect(simulated == ReferenceFixture.floats(c.expected), "\(config.canonicalDescription)")
            let layer = try WeightQuantizer.quantize(w, outFeatures: c.rows, inFeatures: c.cols, config: config)
            #expect(layer.dequantizedWeights().map(\.bitPattern) == simulated.map(\.bitPattern))
            #expect((0..<c.cols).map { layer.weight(2, $0) } == Array(simulated[(2 * c.cols)..<(3 * c.cols)]))
        }
    }

    static let shapes: [(bits: QuantizationBits, scope: WeightScope, out: Int, in: Int, group: Int, rows: Int)] = [
        (.four, .perGroup, 96, 256, 64, 1), (.four, .perGroup, 70, 128, 32, 7), (.eight, .perGroup, 64, 256, 128, 1),
        (.eight, .perChannel, 33, 64, 0, 5), (.four, .perTensor, 40, 48, 0, 2), (.two, .perGroup, 50, 96, 32, 3),
        (.three, .perGroup, 17, 100, 20, 2), (.four, .perGroup, 16, 36, 12, 1), (.eight, .perGroup, 300, 512, 128, 4),
        (.four, .perGroup, 20, 48, 24, 3), (.four, .perGroup, 24, 64, 16, 1), (.four, .perGroup, 24, 80, 48, 5),
        (.two, .perGroup, 20, 128, 32, 1), (.two, .perGroup, 20, 96, 96, 6), (.two, .perChannel, 9, 64, 0, 1),
    ]

    /// The packed kernels (AVX2 where supported, Swift otherwise) agree with the scalar twin.
    @Test(arguments: 0..<shapes.count)
    func applyMatchesScalarTwin(index: Int) throws {
        let s = Self.shapes[index]
        var data = SeededGenerator(seed: UInt64(index) + 40)
        let w = data.normal(s.out * s.in, scale: 0.05)
        let x = data.normal(s.rows * s.in)
        let bias = data.normal(s.out)
        for method in [WeightQuantizationMethod.rtn, .outlier] {
            var config = WeightQuantizationConfig(method: method, bits: s.bits)
            config.scope = s.scope
            if s.group > 0 { config.groupSize = s.group }
            let layer = try WeightQuantizer.quantize(w, outFeatures: s.out, inFeatures: s.in, bias: bias, config: config)
            var y = [Float](repeating: 0, count: s.rows * s.out)
            x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
                layer.apply(xb, rows: s.rows, into: yb)
            } }
            let reference = layer.applyReference(x, rows: s.rows)
            #expect(maxAbsDifference(y, reference) < 1e-4, "\(config.canonicalDescription) rows \(s.rows)")
            // On a machine with AVX-512 one row takes the GEMV when the columns come in whole
            // 16-byte runs (64, 32, 16 columns for 2, 4, 8 bits); otherwise, with AVX2, 2/4-bit
            // take the byte-spread kernel when the columns allow.
            let g = s.group == 0 ? s.in : s.group
            let block = s.bits == .two ? 32 : 16
            let run = 128 / s.bits.rawValue
            let gemv = KernelInstructionSet.avx512.isSupported && s.bits != .three && s.rows == 1
                && s.in % run == 0 && (g >= s.in || g % run == 0)
            let expected = gemv ? "gemv512" : s.bits != .three && s.in % 8 == 0 && g % 8 == 0
                ? ((s.bits == .two || s.bits == .four) && s.in % block == 0 && g % block == 0 && s.rows == 1 ? "spread" : "avx2")
                : "swift"
            #expect(layer.kernelName(rows: s.rows) == expected, "\(config.canonicalDescription) \(s.in)")
        }
    }

    @Test func byteCountIsExact() throws {
        var data = SeededGenerator(seed: 1)
        let w = data.normal(64 * 256, scale: 0.02)
        var config = WeightQuantizationConfig(method: .rtn, bits: .four)
        config.groupSize = 128
        let rtn = try WeightQuantizer.quantize(w, outFeatures: 64, inFeatures: 256, config: config)
        // 4-bit codes + per group an fp16 step and a byte zero-point.
        #expect(rtn.byteCount == 64 * 256 / 2 + 64 * 2 * 3)
        config.bits = .three
        let three = try WeightQuantizer.quantize(w, outFeatures: 64, inFeatures: 256, config: config)
        #expect(three.byteCount == 64 * 26 * 4 + 64 * 2 * 3)  // ⌈256/10⌉ words per row
        var outlier = WeightQuantizationConfig(method: .outlier, bits: .four)
        outlier.fraction = 0.01
        let sparse = try WeightQuantizer.quantize(w, outFeatures: 64, inFeatures: 256, bias: [Float](repeating: 0, count: 64), config: outlier)
        let n = 2 * Int(Double(64 * 256) * 0.01 / 2)
        #expect(sparse.outlierCount == n)
        #expect(sparse.byteCount == 64 * 256 / 2 + 3 + n * 6 + 65 * 4 + 64 * 4)
    }

    @Test func outliersAreExactAndShrinkTheStep() throws {
        var data = SeededGenerator(seed: 9)
        var w = data.normal(32 * 64, scale: 0.02)
        w[100] = 1.5; w[2000] = -2.25
        let config = WeightQuantizationConfig(method: .outlier, bits: .four)
        let q = try WeightQuantizer.simulate(w, outFeatures: 32, inFeatures: 64, config: config)
        #expect(q[100] == Float(Float16(w[100])))
        #expect(q[2000] == Float(Float16(w[2000])))
        var plain = WeightQuantizationConfig(method: .rtn, bits: .four)
        plain.scope = .perTensor
        let p = try WeightQuantizer.simulate(w, outFeatures: 32, inFeatures: 64, config: plain)
        #expect(sumSquaredError(q, w) * 4 < sumSquaredError(p, w))
    }

    @Test func invalidRequestsThrow() {
        var config = WeightQuantizationConfig(method: .rtn, bits: .four)
        config.groupSize = 0
        #expect(throws: WeightQuantizationError.self) {
            try WeightQuantizer.quantize([1, 2], outFeatures: 1, inFeatures: 2, config: config)
        }
        #expect(throws: WeightQuantizationError.self) {
            try WeightQuantizer.quantize([1, 2, 3], outFeatures: 1, inFeatures: 2, config: WeightQuantizationConfig(method: .rtn, bits: .four))
        }
    }
}
