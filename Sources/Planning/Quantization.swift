/// When KV-cache quantization acts (DESIGN.md, "When KV quantization acts").
///
/// The regime decides what a result means and which work cells can share, so it is part of
/// every KV configuration's identity.
public enum KVRegime: String, CaseIterable, Sendable, Hashable {
    /// The whole prompt is prefilled in full precision, then stored quantized; decoding reads it.
    case store
    /// The prefix through the image is prefilled in full precision and stored quantized; the
    /// question is prefilled against the quantized prefix.
    case prefix
    /// K/V are quantized before every attention read, prefill included.
    case attention

    /// The regime a KV configuration gets when its spec does not name one.
    public static let `default`: KVRegime = .store
}

/// A KV-cache quantization method.
public enum KVMethod: String, CaseIterable, Sendable, Hashable {
    /// Per-tensor asymmetric min–max round-to-nearest.
    case uniform
    /// Dense-and-sparse: the extreme values kept exactly, the rest per-tensor uniform.
    case outlier
    /// KIVI-style groups: keys per channel, values per token.
    case group
    /// GEAR: quantized backbone + sparse outliers + low-rank error.
    case gear
}

/// A weight quantization method.
public enum WeightMethod: String, CaseIterable, Sendable, Hashable {
    /// Round-to-nearest, group-wise along the input dimension.
    case rtn
    /// Dense-and-sparse round-to-nearest.
    case outlier
    /// Activation-aware scaling, then RTN (needs calibration data).
    case awq
    /// Hessian-based error compensation (needs calibration data).
    case gptq
}

/// The parts of a LLaVA checkpoint a weight configuration can quantize.
public enum WeightTarget: String, CaseIterable, Sendable, Hashable, Comparable {
    case languageModel = "language_model"
    case visionTower = "vision_tower"
    case projector

    public static func < (lhs: WeightTarget, rhs: WeightTarget) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The targets a weight configuration gets when its spec names none: the LM's linears.
    public static let defaults: Set<WeightTarget> = [.languageModel]
}

/// Default parameters of every method, in one place, so that a spec that writes a default out and
/// one that leaves it implicit plan (and key) identically.
///
/// These must agree with the defaults docs/spec-language.md documents.
public enum QuantizationDefaults {
    /// Defaults of a KV method's parameters (not including `bits`, which specs must state).
    public static func parameters(of method: KVMethod) -> [String: CanonicalValue] {
        switch method {
        case .uniform: return [:]
        case .outlier: return ["outlier_fraction": .number(0.01)]
        case .group: return ["group_size": .integer(128), "residual_length": .integer(0)]
        case .gear:
            return [
                "group_size": .integer(64), "outlier_fraction": .number(0.02), "rank": .integer(2),
                "prefill_rank": .integer(4), "loop": .integer(3),
            ]
        }
    }

    /// Defaults of a weight method's parameters (not including `bits`).
    public static func parameters(of method: WeightMethod) -> [String: CanonicalValue] {
        switch method {
        case .rtn: return ["group_size": .integer(128)]
        case .outlier: return ["outlier_fraction": .number(0.01)]
        case .awq: return ["group_size": .integer(128), "calibration_samples": .integer(128), "calibration_tokens": .integer(512)]
        case .gptq:
            return [
                "group_size": .integer(128), "damp": .number(0.01), "block_size": .integer(128),
                "calibration_samples": .integer(128), "calibration_tokens": .integer(512),
            ]
        }
    }
}

/// A KV-cache quantization configuration with every default filled in.
///
/// Its `canonical` form is what keys hash; the configuration's name in the spec is not part of
/// it, so two names for the same settings share all their work.
public struct KVQuantization: Sendable, Hashable {
    public let method: KVMethod
    /// Bits for keys and values.
    public let keyBits: Int
    public let valueBits: Int
    /// The method's parameters, defaults filled in.
    public let parameters: [String: CanonicalValue]
    public let regime: KVRegime

    /// Fills in the method's defaults under the given parameters (given values win).
    public init(method: KVMethod, bits: Int, valueBits: Int? = nil,
                parameters: [String: CanonicalValue] = [:], regime: KVRegime = .default) {
        self.method = method
        self.keyBits = bits
        self.valueBits = valueBits ?? bits
        self.parameters = QuantizationDefaults.parameters(of: method).merging(parameters) { _, given in given }
        self.regime = regime
    }

    /// What content keys hash.
    public var canonical: CanonicalValue {
        .object([
            "method": .string(method.rawValue), "key_bits": .integer(keyBits),
            "value_bits": .integer(valueBits), "parameters": .object(parameters),
            "regime": .string(regime.rawValue),
        ])
    }

    /// Bits per stored element, averaged over keys and values (for the cost model).
    var meanBits: Double { Double(keyBits + valueBits) / 2 }
}

/// A weight quantization configuration with every default filled in.
public struct WeightQuantization: Sendable, Hashable {
    public let method: WeightMethod
    public let bits: Int
    /// The method's parameters, defaults filled in (calibration settings included).
    public let parameters: [String: CanonicalValue]
    /// The parts of the checkpoint it quantizes.
    public let targets: Set<WeightTarget>

    /// Fills in the method's defaults under the given parameters (given values win).
    public init(method: WeightMethod, bits: Int, parameters: [String: CanonicalValue] = [:],
                targets: Set<WeightTarget> = WeightTarget.defaults) {
        self.method = method
        self.bits = bits
        self.parameters = QuantizationDefaults.parameters(of: method).merging(parameters) { _, given in given }
        self.targets = targets.isEmpty ? WeightTarget.defaults : targets
    }

    /// Whether it changes the vision tower or the projector, i.e. the vision features.
    public var touchesVision: Bool { targets.contains(.visionTower) || targets.contains(.projector) }

    /// What content keys hash.
    public var canonical: CanonicalValue {
        .object([
            "method": .string(method.rawValue), "bits": .integer(bits),
            "parameters": .object(parameters),
            "targets": .array(targets.sorted().map { .string($0.rawValue) }),
        ])
    }

    /// The group size used for scale overhead in the cost model, if the method groups.
    var groupSize: Int? {
        if case .integer(let size)? = parameters["group_size"] { return size }
        return nil
    }
}
