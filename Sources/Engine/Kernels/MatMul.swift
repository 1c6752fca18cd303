/// Matrix products used by every linear layer: `y = x·Wᵀ + b` with weights in their stored dtype.
///
/// `linear` is the entry point the models call. `linearReference` is its plain scalar twin that
/// tests compare against; it is slow and must stay obviously correct.
public enum MatMul {
    /// `y[r, o] = Σᵢ x[r, i]·W[o, i] + bias[o]` for `rows` rows; x `[rows, in]`, y `[rows, out]`.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, weights: WeightMatrix, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>
    ) {
        linearReference(x, rows: rows, weights: weights, bias: bias, into: y)
    }

    /// Scalar reference for `linear`: accumulates in Float32 in input order.
    public static func linearReference(
        _ x: UnsafePointer<Float>, rows: Int, weights: WeightMatrix, bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>
    ) {
        let n = weights.inFeatures
        let m = weights.outFeatures
        for r in 0..<rows {
            let xr = x + r * n
            for o in 0..<m {
                var sum: Float = 0
                for i in 0..<n { sum += xr[i] * weights.element(o, i) }
                y[r * m + o] = sum + (bias?[o] ?? 0)
            }
        }
    }
}
