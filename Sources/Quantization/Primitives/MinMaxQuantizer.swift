/// Asymmetric min–max round-to-nearest without an integer zero-point (KIVI, GEAR, FlexGen).
///
/// For a group with minimum `mn` and maximum `mx`: `s = (mx − mn)/L`, `q = clamp(round((x − mn)/s),
/// 0, L)`, `x̂ = q·s + mn`, with `round` half-to-even (torch's `round`). `mn` and `s` are stored as
/// fp16: `mn` rounded down, then `s = max((mx − mn₁₆)/L, ε)` rounded up, so the fp16 grid still
/// covers `[mn, mx]` and the error stays within half a stored step. Every path — simulated and
/// packed — uses these fp16 values with the same Float32 operations, so both agree bit for bit.
public struct MinMaxParameters: Sendable, Hashable {
    /// Minimum, fp16.
    public var minimum: Float16
    /// Step, fp16.
    public var scale: Float16

    public init(minimum: Float16, scale: Float16) {
        self.minimum = minimum
        self.scale = scale
    }

    /// Parameters for a group whose smallest value is `lo` and largest `hi`.
    @inline(__always)
    public init(lo: Float, hi: Float, bits: QuantizationBits) {
        let mn = HalfPrecision.roundedDown(lo)
        let step = (hi - Float(mn)) / Float(bits.maxCode)
        self.minimum = mn
        self.scale = HalfPrecision.roundedUp(max(step, HalfPrecision.minimumStep))
    }

    /// The code for `x`: `clamp(round_half_even((x − mn)/s), 0, L)`.
    @inline(__always)
    public func code(_ x: Float, maxCode: Int) -> Int {
        let t = ((x - Float(minimum)) / Float(scale)).rounded(.toNearestOrEven)
        if !(t > 0) { return 0 }  // also maps NaN to 0
        return t >= Float(maxCode) ? maxCode : Int(t)
    }

    /// `q·s + mn` in Float32 (unfused, in this order, everywhere).
    @inline(__always)
    public func value(_ code: Int) -> Float {
        Float(code) * Float(scale) + Float(minimum)
    }
}

/// AWQ/GPTQ-style asymmetric quantization with an integer zero-point (weights).
///
/// `s = (mx − mn)/L`, `z = round(−mn/s)`, `q = clamp(round(x/s) + z, 0, L)`, `x̂ = (q − z)·s`.
/// As GPTQ does, the range is first widened to include 0 so `z` always lies in `[0, L]` (AWQ's
/// clamp of `z` otherwise breaks groups that are all positive or all negative). `s` is stored as
/// fp16 rounded up (so the grid still covers the range), `z` as a byte. `(q − z)·s` is exact in
/// Float32, so every path gives identical values.
public struct ZeroPointParameters: Sendable, Hashable {
    public var scale: Float16
    public var zeroPoint: UInt8

    public init(scale: Float16, zeroPoint: UInt8) {
        self.scale = scale
        self.zeroPoint = zeroPoint
    }

    /// Parameters for a group whose smallest value is `lo` and largest `hi`.
    @inline(__always)
    public init(lo: Float, hi: Float, bits: QuantizationBits) {
        let mn = min(lo, 0)
        let mx = max(hi, 0)
        let step = HalfPrecision.roundedUp(max((mx - mn) / Float(bits.maxCode), HalfPrecision.minimumStep))
        let z = (-mn / Float(step)).rounded(.toNearestOrEven)
        self.scale = step
        self.zeroPoint = UInt8(min(max(z, 0), Float(bits.maxCode)))
    }

    /// The code for `x`: `clamp(round_half_even(x/s) + z, 0, L)`.
    @inline(__always)
    public func code(_ x: Float, maxCode: Int) -> Int {
        let t = (x / Float(scale)).rounded(.toNearestOrEven) + Float(zeroPoint)
        if !(t > 0) { return 0 }
        return t >= Float(maxCode) ? maxCode : Int(t)
    }

    /// `(q − z)·s` in Float32.
    @inline(__always)
    public func value(_ code: Int) -> Float {
        Float(code - Int(zeroPoint)) * Float(scale)
    }
}
