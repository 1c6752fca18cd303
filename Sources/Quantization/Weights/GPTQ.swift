/// GPTQ (IST-DASLab/gptq): column-by-column quantization that pushes each column's rounding error
/// onto the columns not yet quantized, weighted by the inverse Hessian of the layer inputs.
///
/// `H = 2/n·Σ x xᵀ`; dead inputs (`H_ii = 0`) get `H_ii = 1` and zero weights; `H += damp·mean(diag H)·I`;
/// `U` = the upper Cholesky factor of `H⁻¹`. For each block of `blocksize` columns and each column
/// i in it: (at a group start, fit the group's step and zero-point on the current, updated weights)
/// `q = Q(w_i)`, `e = (w_i − q)/U_ii`, `W[:, i:] −= e·U[i, i:]` within the block, and after the block
/// the remaining columns take the block's errors at once. Parameters are fitted as in RTN (range
/// widened to include 0, fp16 step), so the packed layer decodes exactly to GPTQ's `Q`.
/// Cost is O(in³ + out·in²) in Double: meant for small and medium layers.
public enum GPTQ {
    public static func quantize(
        _ w: [Float], outFeatures: Int, inFeatures: Int, bias: [Float]? = nil,
        calibration: [Float], samples: Int, config: WeightQuantizationConfig,
        blocksize: Int = 128, damp: Double = 0.01
    ) throws -> QuantizedLinear {
        try WeightQuantizer.validate(config, outFeatures: outFeatures, inFeatures: inFeatures)
        guard w.count == outFeatures * inFeatures else {
            throw WeightQuantizationError("weight has \(w.count) values, expected \(outFeatures)×\(inFeatures)")
        }
        guard samples > 0, calibration.count == samples * inFeatures else {
            throw WeightQuantizationError(
                "GPTQ: calibration has \(calibration.count) values, expected \(samples) samples × \(inFeatures)")
        }
        guard config.scope != .perTensor else {
            throw WeightQuantizationError("GPTQ quantizes per channel or per group, not per tensor")
        }
        let n = inFeatures
        let grouping = WeightQuantizer.Grouping(scope: config.scope, groupSize: config.groupSize, inFeatures: n)
        var h = hessian(calibration, samples: samples, inFeatures: n)
        var weights = w.map(Double.init)  // [out, in], updated in place
        for i in 0..<n where h[i * n + i] == 0 {
            h[i * n + i] = 1
            for o in 0..<outFeatures { weights[o * n + i] = 0 }
        }
        var meanDiagonal = 0.0
        for i in 0..<n { meanDiagonal += h[i * n + i] }
        meanDiagonal /= Double(n)
        for i in 0..<n { h[i * n + i] += damp * meanDiagonal }
        guard let u = upperCholeskyOfInverse(h, n: n) else {
            throw WeightQuantizationError("GPTQ: the damped Hessian is not positive definite; raise damp")
        }

        var codes = [UInt8](repeating: 0, count: outFeatures * n)
        var parameters = [ZeroPointParameters](
            repeating: ZeroPointParameters(scale: 1, zeroPoint: 0), count: grouping.count(rows: outFeatures))
        let maxCode = config.bits.maxCode
        var errors = [Double](repeating: 0, count: outFeatures * blocksize)
        for start in stride(from: 0, to: n, by: blocksize) {
            let end = min(start + blocksize, n)
            for i in start..<end {
                if i % grouping.groupSize == 0 {
                    let hi = min(i + grouping.groupSize, n)
                    for o in 0..<outFeatures {
                        var lo = Float.infinity, up = -Float.infinity
                        for j in i..<hi {
                            lo = min(lo, Float(weights[o * n + j]))
                            up = max(up, Float(weights[o * n + j]))
                        }
                        parameters[grouping.index(o, i)] = ZeroPointParameters(lo: lo, hi: up, bits: config.bits)
                    }
                }
                let d = u[i * n + i]
                for o in 0..<outFeatures {
                    let p = parameters[grouping.index(o, i)]
                    let code = p.code(Float(weights[o * n + i]), maxCode: maxCode)
                    codes[o * n + i] = UInt8(code)
                    let e = (weights[o * n + i] - Double(p.value(code))) / d
                    errors[o * blocksize + (i - start)] = e
                    for j in (i + 1)..<end { weights[o * n + j] -= e * u[i * n + j] }
                }
            }
            if end < n {
                for o in 0..<outFeatures {
                    for k in start..<end {
                        let e = errors[o * blocksize + (k - start)]
                        if e == 0 { continue }
                        for j in end..<n { weights[o * n + j] -= e * u[k * n + j] }
                    }
                }
            }
        }
        let quantized = WeightQuantizer.Quantized(grouping: grouping, codes: codes, parameters: parameters, outlierPositions: [])
        return WeightQuantizer.pack(quantized, w: w, outFeatures: outFeatures, inFeatures: n, bits: config.bits,
                                    bias: bias, inputScale: nil)
    }

    /// `H = 2/n·Σ x xᵀ` over the calibration rows.
    static func hessian(_ x: [Float], samples: Int, inFeatures n: Int) -> [Double] {
        var h = [Double](repeating: 0, count: n * n)
        for r in 0..<samples {
            let row = (0..<n).map { Double(x[r * n + $0]) }
            for i in 0..<n where row[i] != 0 {
                for j in i..<n { h[i * n + j] += row[i] * row[j] }
            }
        }
        let factor = 2 / Double(samples)
        for i in 0..<n {
            for j in i..<n {
                h[i * n + j] *= factor
                h[j * n + i] = h[i * n + j]
            }
        }
        return h
    }

    /// Lower Cholesky factor of a symmetric positive definite `a` (nil if not positive definite).
    static func cholesky(_ a: [Double], n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var diagonal = a[j * n + j]
            for k in 0..<j { diagonal -= l[j * n + k] * l[j * n + k] }
            guard diagonal > 0 else { return nil }
            let root = diagonal.squareRoot()
            l[j * n + j] = root
            for i in (j + 1)..<max(n, j + 1) {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = s / root
            }
        }
        return l
    }

    /// `U` with `H⁻¹ = Uᵀ·U` (upper triangular), via `H⁻¹ = L⁻ᵀ·L⁻¹`.
    static func upperCholeskyOfInverse(_ h: [Double], n: Int) -> [Double]? {
        guard let l = cholesky(h, n: n) else { return nil }
        // L⁻¹ by forward substitution (lower triangular).
        var li = [Double](repeating: 0, count: n * n)
        for c in 0..<n {
            li[c * n + c] = 1 / l[c * n + c]
            for i in (c + 1)..<max(n, c + 1) {
                var s = 0.0
                for k in c..<i { s -= l[i * n + k] * li[k * n + c] }
                li[i * n + c] = s / l[i * n + i]
            }
        }
        // H⁻¹ = L⁻ᵀ·L⁻¹
        var inverse = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var s = 0.0
                for k in j..<n { s += li[k * n + i] * li[k * n + j] }
                inverse[i * n + j] = s
                inverse[j * n + i] = s
            }
        }
        guard let lower = cholesky(inverse, n: n) else { return nil }
        var u = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { u[i * n + j] = lower[j * n + i] } }
        return u
    }
}
