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

    /// Rotates `heads` vectors of `headDim` values at `vector`, all at `position`.
    public func apply(_ vector: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let half = headDim / 2
        inverseFrequencies.withUnsafeBufferPointer { frequencies in
            var cosines = [Float](repeating: 0, count: half)
            var sines = [Float](repeating: 0, count: half)
            for i in 0..<half {
                let angle = Float(position) * frequencies[i]
                cosines[i] = cos(angle)
                sines[i] = sin(angle)
            }
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
    }
}
