import Testing
@testable import Quantization

@Suite struct AWQTests {
    /// The α-grid losses equal the NumPy reference (float rounding aside).
    @Test func gridLossesMatchReference() throws {
        let f = ReferenceFixture.shared.awq
        var config = WeightQuantizationConfig(method: .awq, bits: QuantizationBits(rawValue: f.bits)!)
        config.groupSize = f.group_size
        config.grid = f.n_grid
        config.clip = false
        let result = try AWQ.quantize(
            weights: [ReferenceFixture.floats(f.weights)], outFeatures: [f.rows], inFeatures: f.cols,
            calibration: ReferenceFixture.floats(f.inputs), samples: f.samples, config: config)
        #expect(result.losses.count == f.losses.count)
        for (a, b) in zip(result.losses, f.losses) { #expect(abs(a - b) <= 1e-3 * b, "\(a) vs \(b)") }
        let bestReference = f.losses.indices.min { f.losses[$0] < f.losses[$1] }!
        #expect(result.alpha == Double(bestReference) / Double(f.n_grid))
    }

    /// With activation outliers, AWQ (with and without clipping) beats plain group RTN on the
    /// calibration outputs, and the packed layers hold exactly the simulated scaled weights.
    @Test func beatsPlainRTNAndPackedEqualsSimulated() throws {
        var data = TestData(seed: 31)
        let (n, inF, outA, outB) = (48, 64, 24, 16)
        var x = data.normal(n * inF)
        for r in 0..<n { x[r * inF + 5] *= 12; x[r * inF + 40] *= 6 }
        let wa = data.normal(outA * inF, scale: 0.05), wb = data.normal(outB * inF, scale: 0.05)
        var config = WeightQuantizationConfig(method: .awq, bits: .three)
        config.groupSize = 16
        let result = try AWQ.quantize(weights: [wa, wb], outFeatures: [outA, outB], inFeatures: inF,
                                      calibration: x, samples: n, config: config, clipLayers: [true, false])
        #expect(result.alpha > 0)
        #expect(result.losses.min()! < result.losses[0])  // α = 0 is plain RTN

        var rtn = WeightQuantizationConfig(method: .rtn, bits: .three)
        rtn.groupSize = 16
        let plain = try WeightQuantizer.quantize(wa, outFeatures: outA, inFeatures: inF, config: rtn)
        func error(_ layer: QuantizedLinear, _ w: [Float], _ out: Int) -> Double {
            let y = layer.applyReference(x, rows: n)
            let ref = AWQ.product(x, samples: n, inFeatures: inF, weights: w, outFeatures: out, inputScale: nil)
            return zip(y, ref).reduce(0) { $0 + (Double($1.0) - $1.1) * (Double($1.0) - $1.1) }
        }
        #expect(error(result.layers[0], wa, outA) < error(plain, wa, outA))

        // Layer B (no clipping) stores exactly RTN of W·diag(s).
        var scaled = wb
        for o in 0..<outB { for i in 0..<inF { scaled[o * inF + i] = wb[o * inF + i] * result.scales[i] } }
        let simulated = try WeightQuantizer.simulate(scaled, outFeatures: outB, inFeatures: inF, config: rtn)
        #expect(result.layers[1].dequantizedWeights() == simulated)
        #expect(result.layers[1].removingInputScale().byteCount == result.layers[1].byteCount - inF * 4)
    }
}
