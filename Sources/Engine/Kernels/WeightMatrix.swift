/// A read-only weight matrix `W[outFeatures, inFeatures]` in the dtype it has on disk.
///
/// The pointer usually points into a memory-mapped safetensors file; the owner of that mapping
/// keeps it alive for as long as any `WeightMatrix` that points into it.
public struct WeightMatrix: @unchecked Sendable {
    public enum Storage: @unchecked Sendable {
        case f32(UnsafePointer<Float>)
        /// IEEE half precision, raw bits.
        case f16(UnsafePointer<UInt16>)
        /// bfloat16, raw bits (the upper half of a Float32).
        case bf16(UnsafePointer<UInt16>)
    }

    public let storage: Storage
    public let outFeatures: Int
    public let inFeatures: Int

    public init(storage: Storage, outFeatures: Int, inFeatures: Int) {
        self.storage = storage
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
    }

    /// Bytes per element as stored.
    public var elementSize: Int {
        switch storage {
        case .f32: 4
        case .f16, .bf16: 2
        }
    }

    public var byteCount: Int { outFeatures * inFeatures * elementSize }

    /// Element `W[o, i]` widened to Float32 (slow; for reference paths and tests).
    @inline(__always)
    public func element(_ o: Int, _ i: Int) -> Float {
        let index = o * inFeatures + i
        switch storage {
        case .f32(let p): return p[index]
        case .f16(let p): return Float(Float16(bitPattern: p[index]))
        case .bf16(let p): return Float(bitPattern: UInt32(p[index]) << 16)
        }
    }
}
