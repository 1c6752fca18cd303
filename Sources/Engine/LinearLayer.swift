/// A linear map `y = x·Wᵀ (+ b)` whose weights may be dense (f32/f16/bf16) or packed quantized.
///
/// Models hold their projections as `any LinearLayer`, so weight quantizers (Quantization) can
/// replace any of them without the model knowing. `W` has shape `[outFeatures, inFeatures]` as in
/// PyTorch checkpoints.
public protocol LinearLayer: Sendable {
    var inFeatures: Int { get }
    var outFeatures: Int { get }

    /// `output[r, :] = input[r, :]·Wᵀ + bias` for `rows` rows; input `[rows, inFeatures]`,
    /// output `[rows, outFeatures]`, Float32 row-major.
    func apply(_ input: UnsafeBufferPointer<Float>, rows: Int, into output: UnsafeMutableBufferPointer<Float>)

    /// Bytes of weight storage (codes, scales, outliers, bias), for memory reports.
    var byteCount: Int { get }
}
