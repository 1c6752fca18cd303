import Foundation

/// Root-mean-square normalisation over the last dimension, as Llama and Gemma use it.
public struct RMSNorm: Sendable {
    /// The learned scale; Gemma checkpoints store `w` and multiply by `1 + w`, which `init` folds in.
    public let scale: [Float]
    public let epsilon: Float

    /// - Parameter addsOne: true for Gemma's `(1 + w)` form.
    public init(weight: [Float], epsilon: Float, addsOne: Bool) {
        scale = addsOne ? weight.map { 1 + $0 } : weight
        self.epsilon = epsilon
    }

    /// Normalises `rows` rows of `scale.count` values from `input` into `output` (may alias).
    public func apply(_ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        let n = scale.count
        scale.withUnsafeBufferPointer { w in
            for r in 0..<rows {
                let x = input + r * n
                let y = output + r * n
                var sumOfSquares: Float = 0
                for i in 0..<n { sumOfSquares += x[i] * x[i] }
                let inverse = 1 / (sumOfSquares / Float(n) + epsilon).squareRoot()
                for i in 0..<n { y[i] = x[i] * inverse * w[i] }
            }
        }
    }
}

/// Layer normalisation with a learned scale and shift (CLIP).
public struct LayerNorm: Sendable {
    public let weight: [Float]
    public let bias: [Float]
    public let epsilon: Float

    public init(weight: [Float], bias: [Float], epsilon: Float) {
        self.weight = weight
        self.bias = bias
        self.epsilon = epsilon
    }

    public func apply(_ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        let n = weight.count
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows {
                    let x = input + r * n
                    let y = output + r * n
                    var mean: Float = 0
                    for i in 0..<n { mean += x[i] }
                    mean /= Float(n)
                    var variance: Float = 0
                    for i in 0..<n { variance += (x[i] - mean) * (x[i] - mean) }
                    variance /= Float(n)
                    let inverse = 1 / (variance + epsilon).squareRoot()
                    for i in 0..<n { y[i] = (x[i] - mean) * inverse * w[i] + b[i] }
                }
            }
        }
    }
}
