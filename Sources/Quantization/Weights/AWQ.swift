import Foundation

/// The outcome of AWQ for a set of linear layers that read the same input.
public struct AWQResult: Sendable {
    /// The quantized layers holding `Q(clip(W·diag(s)))`, each with `inputScale = 1/s` so it is
    /// correct on its own. After folding `1/s` into the preceding op, use `removingInputScale()`.
    public let layers: [QuantizedLinear]
    /// `s` per input channel. To fold: divide output channel `j` of the preceding op (RMSNorm
    /// weight — for Gemma the effective `1 + w` — or the previous linear's row `j`) by `s[j]`.
    public let scales: [Float]
    /// The chosen α (`s = x̄^α`, normalised).
    public let alpha: Double
    /// Output MSE on the calibration inputs for each α of the grid (before clipping).
    public let losses: [Double]
}

/// Activation-aware weight quantization (AWQ, mit-han-lab/llm-awq): a per-input-channel scale
/// `s = x̄^α` (x̄ = mean |activation|) searched over an α grid to minimise the output error of
/// group RTN on calibration inputs, then a per-group clipping search, then RTN.
public enum AWQ {
    /// Searches scales (and clipping) for `weights` — linears `[outFeatures[k], inFeatures]` that
    /// all read the same input — on `calibration` (`[samples, inFeatures]`, the real inputs of
    /// those layers), and returns them quantized with `config` (bits, scope, group size, grid,
    /// clip). `clipLayers[k]` disables clipping for layer k (AWQ skips q/k projections).
    /// `clipSamples` evenly spaced calibration rows are used for the clipping search.
    public static func quantize(
        weights: [[Float]], outFeatures: [Int], inFeatures: Int, biases: [[Float]?]? = nil,
        calibration: [Float], samples: Int, config: WeightQuantizationConfig,
        clipLayers: [Bool]? = nil, clipSamples: Int = 64
    ) throws -> AWQResult {
        guard !weights.isEmpty, weights.count == outFeatures.count, inFeatures > 0 else {
            throw WeightQuantizationError("AWQ needs one output size per weight matrix")
        }
        for (k, w) in weights.enumerated() where w.count != outFeatures[k] * inFeatures {
            throw WeightQuantizationError("AWQ: weight \(k) has \(w.count) values, expected \(outFeatures[k])×\(inFeatures)")
        }
        guard samples > 0, calibration.count == samples * inFeatures else {
            throw WeightQuantizationError(
                "AWQ: calibration has \(calibration.count) values, expected \(samples) samples × \(inFeatures)")
        }
        var rtn = config
        rtn.method = .rtn
        let xbar = meanAbsolute(calibration, samples: samples, inFeatures: inFeatures)
        let reference = weights.enumerated().map { k, w in
            product(calibration, samples: samples, inFeatures: inFeatures, weights: w, outFeatures: outFeatures[k], inputScale: nil)
        }

        var losses: [Double] = []
        var best: (loss: Double, alpha: Double, scales: [Float]) = (.infinity, 0, [])
        for i in 0..<config.grid {
            let alpha = Double(i) / Double(config.grid)
            let s = scales(xbar, alpha: Float(alpha))
            let loss = try self.loss(
                weights: weights, outFeatures: outFeatures, inFeatures: inFeatures, calibration: calibration,
                samples: samples, scales: s, reference: reference, config: rtn)
            losses.append(loss)
            if loss < best.loss { best = (loss, alpha, s) }
        }

        let inverse = best.scales.map { 1 / $0 }
        var layers: [QuantizedLinear] = []
        for (k, w) in weights.enumerated() {
            var scaled = w
            for o in 0..<outFeatures[k] {
                for i in 0..<inFeatures { scaled[o * inFeatures + i] = w[o * inFeatures + i] * best.scales[i] }
            }
            if config.clip, clipLayers?[k] ?? true, config.scope != .perTensor {
                clip(&scaled, outFeatures: outFeatures[k], inFeatures: inFeatures, calibration: calibration,
                     samples: samples, inverseScales: inverse, clipSamples: clipSamples, config: rtn)
            }
            try WeightQuantizer.validate(rtn, outFeatures: outFeatures[k], inFeatures: inFeatures)
            let q = WeightQuantizer.quantizeValues(scaled, outFeatures: outFeatures[k], inFeatures: inFeatures, config: rtn)
            layers.append(WeightQuantizer.pack(
                q, w: scaled, outFeatures: outFeatures[k], inFeatures: inFeatures, bits: config.bits,
                bias: biases?[k], inputScale: inverse))
        }
        return AWQResult(layers: layers, scales: best.scales, alpha: best.alpha, losses: losses)
    }

    /// `x̄_j = mean over samples of |x_j|`.
    static func meanAbsolute(_ x: [Float], samples: Int, inFeatures: Int) -> [Float] {
        (0..<inFeatures).map { j in
            var sum = 0.0
            for r in 0..<samples { sum += Double(abs(x[r * inFeatures + j])) }
            return Float(sum / Double(samples))
        }
    }

    /// `s = max(x̄^α, 1e-4)`, then `s / √(max s · min s)`.
    static func scales(_ xbar: [Float], alpha: Float) -> [Float] {
        let s = xbar.map { max(Foundation.pow($0, alpha), 1e-4) }
        let norm = (s.max()! * s.min()!).squareRoot()
        return s.map { $0 / norm }
    }

    /// Mean squared output error of `Q(W·diag(s))` applied to `x/s`, over all layers' outputs.
    static func loss(
        weights: [[Float]], outFeatures: [Int], inFeatures: Int, calibration: [Float], samples: Int,
        scales s: [Float], reference: [[Double]], config: WeightQuantizationConfig
    ) throws -> Double {
        let inverse = s.map { 1 / $0 }
        var total = 0.0
        var count = 0
        for (k, w) in weights.enumerated() {
            var scaled = w
            for o in 0..<outFeatures[k] { for i in 0..<inFeatures { scaled[o * inFeatures + i] = w[o * inFeatures + i] * s[i] } }
            let q = try WeightQuantizer.simulate(scaled, outFeatures: outFeatures[k], inFeatures: inFeatures, config: config)
            let y = product(calibration, samples: samples, inFeatures: inFeatures, weights: q, outFeatures: outFeatures[k], inputScale: inverse)
            for (a, b) in zip(y, reference[k]) { total += (a - b) * (a - b) }
            count += y.count
        }
        return total / Double(count)
    }

    /// `y = (x·diag(inputScale))·Wᵀ` in Double (inputs scaled in Float first, as the layer does).
    static func product(
        _ x: [Float], samples: Int, inFeatures: Int, weights w: [Float], outFeatures: Int, inputScale: [Float]?
    ) -> [Double] {
        var y = [Double](repeating: 0, count: samples * outFeatures)
        for r in 0..<samples {
            let row = (0..<inFeatures).map { Double(x[r * inFeatures + $0] * (inputScale?[$0] ?? 1)) }
            for o in 0..<outFeatures {
                var acc = 0.0
                for i in 0..<inFeatures { acc += row[i] * Double(w[o * inFeatures + i]) }
                y[r * outFeatures + o] = acc
            }
        }
        return y
    }

    /// AWQ's auto_clip: per (row, group), try `max = orig·(1 − i/grid)` for `i < grid/2`, clip to
    /// `[−max, max]`, keep the one whose quantized group output on the calibration rows is closest
    /// to the unclipped output.
    static func clip(
        _ w: inout [Float], outFeatures: Int, inFeatures: Int, calibration: [Float], samples: Int,
        inverseScales: [Float], clipSamples: Int, config: WeightQuantizationConfig
    ) {
        let rows = min(clipSamples, samples)
        let picked = (0..<rows).map { $0 * samples / rows }
        let x = picked.map { r in (0..<inFeatures).map { calibration[r * inFeatures + $0] * inverseScales[$0] } }
        let g = config.scope == .perGroup ? min(config.groupSize, inFeatures) : inFeatures
        let steps = Int(0.5 * Double(config.grid))
        for o in 0..<outFeatures {
            for lo in stride(from: 0, to: inFeatures, by: g) {
                let hi = min(lo + g, inFeatures)
                let group = Array(w[(o * inFeatures + lo)..<(o * inFeatures + hi)])
                let original = group.reduce(0) { max($0, abs($1)) }
                guard original > 0 else { continue }
                var best: (err: Double, bound: Float) = (.infinity, original)
                for i in 0..<max(steps, 1) {
                    let bound = original * (1 - Float(i) / Float(config.grid))
                    let clipped = group.map { min(max($0, -bound), bound) }
                    let p = ZeroPointParameters(lo: clipped.min()!, hi: clipped.max()!, bits: config.bits)
                    let q = clipped.map { p.value(p.code($0, maxCode: config.bits.maxCode)) }
                    var err = 0.0
                    for row in x {
                        var d = 0.0
                        for j in 0..<group.count { d += Double(row[lo + j]) * Double(q[j] - group[j]) }
                        err += d * d
                    }
                    if err < best.err { best = (err, bound) }
                }
                for j in lo..<hi { w[o * inFeatures + j] = min(max(w[o * inFeatures + j], -best.bound), best.bound) }
            }
        }
    }
}
