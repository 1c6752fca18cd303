/// Float16 ↔ Float32 conversion of whole buffers.
///
/// `widen` uses integer arithmetic the compiler can vectorise (no per-element library call, which
/// is what `Float(Float16)` costs on x86 without F16C); `widenReference` is its plain twin.
public enum HalfConversion {
    /// Converts `count` IEEE half values (raw bits) to Float32.
    public static func widen(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        // Shift exponent+mantissa into Float32 position and rescale by 2^112: exact for normals
        // and subnormals alike; infinities and NaNs get their all-ones exponent restored. Written
        // branch-free so that the compiler vectorises the loop.
        let magic = Float(bitPattern: 0x7780_0000)  // 2^112
        for i in 0..<count {
            let h = UInt32(source[i])
            let scaled = (Float(bitPattern: (h & 0x7FFF) << 13) * magic).bitPattern
            let special: UInt32 = (h & 0x7C00) == 0x7C00 ? 0x7F80_0000 : 0
            destination[i] = Float(bitPattern: scaled | special | ((h & 0x8000) << 16))
        }
    }

    /// Scalar twin of `widen` through the standard library's Float16.
    public static func widenReference(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { destination[i] = Float(Float16(bitPattern: source[i])) }
    }

    /// Rounds `count` Float32 values to half precision (nearest even), as `tensor.half()` does.
    public static func narrow(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { destination[i] = Float16(source[i]).bitPattern }
    }
}
