import Foundation

/// Rotary position embedding in the `rotate_half` form Llama and Gemma use in transformers.
///
/// For `i < d/2`: `x'[i] = x[i]·cos − x[i+d/2]·sin`, `x'[i+d/2] = x[i+d/2]·cos + x[i]·sin` with the
/// angle `position · θ^(−2i/d)` (divided by `positionScale` for linear RoPE scaling). The inverse
/// frequencies are computed in Float32 exactly as transformers does.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Double, positionScale: Double = 1) {
        self.headDim = headDim
        let half = headDim / 2
        let base = Float(theta)
        inverseFrequencies = (0..<half).map { i in
            1 / pow(base, Float(2 * i) / Float(headDim)) / Float(positionScale)
        }
    }

    /// Writes `cos` and `sin` of the angles of positions `start..<start+count`, `[count, headDim/2]` each.
    public func angles(start: Int, count: Int, cos cosines: UnsafeMutablePointer<Float>, sin sines: UnsafeMutablePointer<Float>) {
        let half = headDim / 2
        for row in 0..<count {
            for i in 0..<half {
                let angle = Float(start + row) * inverseFrequencies[i]
                cosines[row * half + i] = cos(angle)
                sines[row * half + i] = sin(angle)
            }
        }
    }

    /// Rotates `heads` vectors of `headDim` values at `vector` by one position's `cos`/`sin` rows.
    public func apply(_ vector: UnsafeMutablePointer<Float>, heads: Int, cos cosines: UnsafePointer<Float>, sin sines: UnsafePointer<Float>) {
        let half = headDim / 2
        for h in 0..<heads {
            let x = vector + h * headDim
            for i in 0..<half {
                let a = x[i]
                let b = x[i + half]
                x[i] = a * cosines[i] - b * sines[i]
                x[i + half] = b * cosines[i] + a * sines[i]
            }
        }
    }

    /// Rotates `heads` vectors at `vector`, all at `position` (computes the angles itself).
    public func apply(_ vector: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let half = headDim / 2
        var table = [Float](repeating: 0, count: 2 * half)
        table.withUnsafeMutableBufferPointer { t in
            angles(start: position, count: 1, cos: t.baseAddress!, sin: t.baseAddress! + half)
            apply(vector, heads: heads, cos: t.baseAddress!, sin: t.baseAddress! + half)
        }
    }
}
