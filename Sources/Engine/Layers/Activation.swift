import Foundation

/// Elementwise activations named as in Hugging Face configs (`hidden_act`).
public enum Activation: String, Sendable, CaseIterable {
    case silu
    /// Exact GELU with erf (`gelu`, the LLaVA projector).
    case gelu
    /// GELU with the tanh approximation (`gelu_pytorch_tanh`, Gemma's MLP).
    case geluTanh = "gelu_pytorch_tanh"
    /// `x·sigmoid(1.702x)` (CLIP ViT-L/14).
    case quickGELU = "quick_gelu"

    /// Parses a config value; `gelu_new` and `gelu_fast` are the same tanh curve.
    public init?(configName: String) {
        switch configName {
        case "gelu_new", "gelu_fast", "gelu_pytorch_tanh": self = .geluTanh
        case "swish": self = .silu
        default: self.init(rawValue: configName)
        }
    }

    @inline(__always)
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .silu: Self.silu(x)
        case .gelu: Self.gelu(x)
        case .geluTanh: Self.geluTanh(x)
        case .quickGELU: Self.quickGELU(x)
        }
    }

    @inline(__always) static func silu(_ x: Float) -> Float { x / (1 + fastExp(-x)) }

    @inline(__always) static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.70710678118654752)) }

    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` with `1 + tanh(u) = 2 − 2/(e^{2u} + 1)`: one
    /// exponential instead of `tanhf` (saturating correctly at both ends).
    @inline(__always) static func geluTanh(_ x: Float) -> Float {
        let u = 0.79788456080286536 * (x + 0.044715 * x * x * x)
        return x - x / (fastExp(2 * u) + 1)
    }

    @inline(__always) static func quickGELU(_ x: Float) -> Float { x / (1 + fastExp(-1.702 * x)) }

    /// Applies the activation in place to `count` values (split over the cores when large).
    public func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let shared = SharedPointer(base: values)
        let activation = self
        Parallel.forRanges(count) { range in
            let x = shared.base
            switch activation {
            case .silu: for i in range { x[i] = Self.silu(x[i]) }
            case .gelu: for i in range { x[i] = Self.gelu(x[i]) }
            case .geluTanh: for i in range { x[i] = Self.geluTanh(x[i]) }
            case .quickGELU: for i in range { x[i] = Self.quickGELU(x[i]) }
            }
        }
    }

    /// `gate[i] = act(gate[i]) · up[i]`, the gated MLP's middle step (split over the cores when large).
    public func applyGated(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let g = SharedPointer(base: gate)
        let u = SharedPointer(base: UnsafeMutablePointer(mutating: up))
        let activation = self
        Parallel.forRanges(count) { range in
            let x = g.base
            let y = u.base
            switch activation {
            case .silu: for i in range { x[i] = Self.silu(x[i]) * y[i] }
            case .gelu: for i in range { x[i] = Self.gelu(x[i]) * y[i] }
            case .geluTanh: for i in range { x[i] = Self.geluTanh(x[i]) * y[i] }
            case .quickGELU: for i in range { x[i] = Self.quickGELU(x[i]) * y[i] }
            }
        }
    }
}
