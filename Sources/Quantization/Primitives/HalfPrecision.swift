/// Float32 ↔ IEEE half conversions with the rounding directions the quantizers need.
///
/// Scales and minima are stored as fp16 (as KIVI and llama.cpp store them). Rounding a minimum
/// down and a step up keeps every value of the group inside the representable range after the
/// fp16 rounding, so the error stays within half a (stored) step.
enum HalfPrecision {
    /// The smallest step a group may use (`s = max(s, ε)`); the smallest positive fp16 value.
    static let minimumStep: Float = Float(Float16.leastNonzeroMagnitude)

    /// Nearest fp16 value.
    @inline(__always)
    static func nearest(_ x: Float) -> Float16 { Float16(x) }

    /// The largest finite fp16 value ≤ `x` (clamped to the finite range).
    @inline(__always)
    static func roundedDown(_ x: Float) -> Float16 {
        if x <= -Float(Float16.greatestFiniteMagnitude) { return -Float16.greatestFiniteMagnitude }
        if x >= Float(Float16.greatestFiniteMagnitude) { return Float16.greatestFiniteMagnitude }
        var h = Float16(x)
        if Float(h) > x { h = h.nextDown }
        return h
    }

    /// The smallest finite fp16 value ≥ `x` (clamped to the finite range).
    @inline(__always)
    static func roundedUp(_ x: Float) -> Float16 {
        if x >= Float(Float16.greatestFiniteMagnitude) { return Float16.greatestFiniteMagnitude }
        if x <= -Float(Float16.greatestFiniteMagnitude) { return -Float16.greatestFiniteMagnitude }
        var h = Float16(x)
        if Float(h) < x { h = h.nextUp }
        return h
    }

    /// `x` rounded to the nearest fp16 value and widened back (what an fp16 cache stores).
    @inline(__always)
    static func roundTrip(_ x: Float) -> Float { Float(Float16(x)) }
}
