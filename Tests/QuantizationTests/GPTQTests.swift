import Testing
@testable import Quantization

@Suite struct GPTQTests {
    /// GPTQ's quantized weights equal the NumPy float64 reference.
    @Test func matchesReferenceFixture() throws {
        let f = ReferenceFixture.shared.gptq
        var config = WeightQuantizationConfig(method: .gptq, bits: QuantizationBits(rawValue: f.bits)!)
        config.groupSize = f.group_size
        let layer = try GPTQ.quantize(
            ReferenceFixture.floats(f.weights), outFeatures: f.rows, inFeatures: f.cols,
            calibration: ReferenceFixture.floats(f.inputs), samples: f.samples, config: config, blocksize: f.blocksize)
        #expect(layer.dequantizedWeights() == ReferenceFixture.floats(f.expected))
    }

    /// On correlated inputs GPTQ's output error is below RTN's with the same grid.
    @Test func reducesOutputErrorVersusRTN() throws {
        var data = TestData(seed: 17)
        let (n, inF, outF) = (96, 48, 20)
        var x = data.normal(n * inF)
        for r in 0..<n { for j in 16..<32 { x[r * inF + j] += 0.9 * x[r * inF + j - 16] } }
        let w = data.normal(outF * inF, scale: 0.1)
        var config = WeightQuantizationConfig(method: .gptq, bits: .three)
        config.groupSize = 16
        let gptq = try GPTQ.quantize(w, outFeatures: outF, inFeatures: inF, calibration: x, samples: n, config: config, blocksize: 32)
        config.method = .rtn
        let rtn = try WeightQuantizer.quantize(w, outFeatures: outF, inFeatures: inF, config: config)
        let reference = AWQ.product(x, samples: n, inFeatures: inF, weights: w, outFeatures: outF, inputScale: nil)
        func error(_ layer: QuantizedLinear) -> Double {
            zip(layer.applyReference(x, rows: n), reference).reduce(0) { $0 + (Double($1.0) - $1.1) * (Double($1.0) - $1.1) }
        }
        #expect(error(gptq) < 0.8 * error(rtn))
        #expect(gptq.byteCount == rtn.byteCount)
    }

    @Test func choleskyInverseFactor() {
        // H = [[4, 2], [2, 3]]: H⁻¹ = [[3, −2], [−2, 4]]/8, and Uᵀ·U must reproduce it.
        let u = GPTQ.upperCholeskyOfInverse([4, 2, 2, 3], n: 2)!
        #expect(u[2] == 0)
        let inverse = [u[0] * u[0], u[0] * u[1], u[0] * u[1], u[1] * u[1] + u[3] * u[3]]
        for (a, b) in zip(inverse, [3.0 / 8, -2.0 / 8, -2.0 / 8, 4.0 / 8]) { #expect(abs(a - b) < 1e-12) }
        #expect(GPTQ.cholesky([1, 2, 2, 1], n: 2) == nil)
    }
}
