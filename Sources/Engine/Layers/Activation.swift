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
        case .silu:
            return x / (1 + exp(-x))
        case .gelu:
            return 0.5 * x * (1 + erf(x * Float(0.5).squareRoot()))
        case .geluTanh:
            let inner = Float((2 / Double.pi).squareRoot()) * (x + 0.044715 * x * x * x)
            return 0.5 * x * (1 + tanh(inner))
        case .quickGELU:
            return x / (1 + exp(-1.702 * x))
        }
    }

    /// Applies the activation in place to `count` values (split over the cores when large).
    public func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let shared = SharedPointer(base: values)
        Parallel.forRanges(count) { range in
            for i in range { shared.base[i] = self(shared.base[i]) }
        }
    }

    /// `gate[i] = act(gate[i]) · up[i]`, the gated MLP's middle step (split over the cores when large).
    public func applyGated(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let g = SharedPointer(base: gate)
        let u = SharedPointer(base: UnsafeMutablePointer(mutating: up))
        Parallel.forRanges(count) { range in
            for i in range { g.base[i] = self(g.base[i]) * u.base[i] }
        }
    }
}
