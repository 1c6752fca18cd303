/// `eˣ` in Float32 without a library call, so loops over it vectorise.
///
/// Range reduction `x = n·ln2 + r` (ln2 split in two for exactness), a degree-6 polynomial for
/// `eʳ` on |r| ≤ ln2/2 (the Cephes `expf` coefficients), then `2ⁿ` put into the exponent bits.
/// Within 2 ulp of `expf` on [−87, 88]; inputs outside are clamped (0 and overflow are not
/// reached, which softmax and the activations never need). `expf` is the scalar twin.
@inlinable @inline(__always)
public func fastExp(_ input: Float) -> Float {
    let x = min(max(input, -87.0), 88.0)
    // Round x·log2(e) to the nearest integer with the 1.5·2²³ trick (no floor call).
    let shifter: Float = 12_582_912
    let n = (x * 1.442_695_04 + shifter) - shifter
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let y = p * r * r + r + 1
    // n ∈ [−126, 127] after the clamp, so the biased exponent stays in range.
    return y * Float(bitPattern: UInt32(Int32(n) + 127) << 23)
}
