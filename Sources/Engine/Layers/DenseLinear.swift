/// A linear layer with dense weights in their on-disk dtype (f32, f16 or bf16), computed in f32.
///
/// This is the unquantized layer every model starts with; weight quantizers replace it through
/// `LinearLayer`. The weights usually point into a memory-mapped checkpoint that `owner` keeps alive.
public struct DenseLinear: LinearLayer, @unchecked Sendable {
    public let weights: WeightMatrix
    public let bias: [Float]?
    /// Keeps the memory the weights point into alive.
    public let owner: AnyObject

    public init(weights: WeightMatrix, bias: [Float]?, owner: AnyObject) {
        precondition(bias == nil || bias?.count == weights.outFeatures, "bias length must equal outFeatures")
        self.weights = weights
        self.bias = bias
        self.owner = owner
    }

    /// A layer over a checkpoint tensor `[out, in...]` (trailing dimensions flattened).
    public init(weight: Tensor, bias: [Float]?) {
        self.init(weights: weight.matrix(), bias: bias, owner: weight.owner)
    }

    public var inFeatures: Int { weights.inFeatures }
    public var outFeatures: Int { weights.outFeatures }
    public var byteCount: Int { weights.byteCount + (bias?.count ?? 0) * 4 }

    public func apply(_ input: UnsafeBufferPointer<Float>, rows: Int, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= rows * inFeatures && output.count >= rows * outFeatures, "buffer too small")
        guard rows > 0, let x = input.baseAddress, let y = output.baseAddress else { return }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                MatMul.linear(x, rows: rows, weights: weights, bias: b.baseAddress, into: y)
            }
        } else {
            MatMul.linear(x, rows: rows, weights: weights, bias: nil, into: y)
        }
    }
}
