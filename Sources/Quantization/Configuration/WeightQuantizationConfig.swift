/// A weight compression method (names as in docs/quantization.md and the spec language).
public enum WeightQuantizationMethod: String, Sendable, Hashable, CaseIterable, Codable {
    /// Round-to-nearest, asymmetric with an integer zero-point, per tensor / channel / group.
    case rtn
    /// Dense-and-sparse: the top and bottom `fraction/2` kept in fp16, the rest RTN.
    case outlier
    /// Activation-aware scaling (α grid, clipping search) before group RTN.
    case awq
    /// Hessian-aware error feedback (column by column) on calibration inputs.
    case gptq
}

/// Which weights share one step and zero-point.
public enum WeightScope: String, Sendable, Hashable, CaseIterable, Codable {
    case perTensor = "per_tensor"
    /// One group per output row.
    case perChannel = "per_channel"
    /// Groups of `group_size` consecutive input columns within an output row.
    case perGroup = "per_group"
}

/// Which parts of a model a weight configuration quantizes.
public enum WeightTarget: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// The language model's linear layers (attention and MLP projections).
    case lm
    /// The multimodal projector.
    case projector
    /// The vision tower's linear layers (`vision_tower` as in the spec language).
    case vision = "vision_tower"
    /// The output head.
    case lmHead = "lm_head"

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A fully resolved weight quantization configuration.
public struct WeightQuantizationConfig: Sendable, Hashable, Codable {
    public var method: WeightQuantizationMethod
    public var bits: QuantizationBits
    public var scope: WeightScope
    /// Input columns per group (`per_group` scope).
    public var groupSize: Int
    /// Share of weights kept exactly (`outlier`).
    public var fraction: Double
    /// α grid size for `awq` (α = i/grid, i < grid).
    public var grid: Int
    /// Whether `awq` searches clipping ranges (always, from the spec language and the CLI).
    public var clip: Bool
    /// GPTQ: dampening added to the Hessian's diagonal, as a fraction of its mean.
    public var damp: Double
    /// GPTQ: columns per lazy-update block.
    public var block: Int
    /// What to quantize (default: the LM's linear layers only).
    public var targets: Set<WeightTarget>

    /// The defaults of `method` (docs/quantization.md lists them).
    public init(method: WeightQuantizationMethod, bits: QuantizationBits) {
        self.method = method
        self.bits = bits
        self.groupSize = 128
        self.fraction = 0
        self.grid = 20
        self.clip = true
        self.damp = 0.01
        self.block = 128
        self.targets = [.lm]
        switch method {
        case .rtn, .awq, .gptq: scope = .perGroup
        case .outlier:
            scope = .perTensor
            fraction = 0.01
        }
    }

    /// The parameters this method reads, as `name=value` in a fixed order (spec-language names).
    public var parameters: [(name: String, value: String)] {
        var out: [(String, String)] = [("scope", scope.rawValue)]
        if scope == .perGroup { out.append(("group_size", String(groupSize))) }
        if method == .outlier { out.append(("outlier_fraction", KVQuantizationConfig.format(fraction))) }
        if method == .awq { out += [("grid", String(grid)), ("clip", String(clip))] }
        if method == .gptq { out += [("damp", KVQuantizationConfig.format(damp)), ("block", String(block))] }
        out.append(("targets", targets.sorted().map(\.rawValue).joined(separator: "+")))
        return out
    }

    /// `METHOD:BITS,name=value,…` with every parameter the method reads (stable; parses back).
    public var canonicalDescription: String {
        "\(method.rawValue):\(bits.rawValue)" + parameters.map { ",\($0.name)=\($0.value)" }.joined()
    }
}
