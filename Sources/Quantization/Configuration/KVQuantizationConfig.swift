/// A KV-cache compression method (names as in docs/quantization.md and the spec language; the
/// spec's `kivi` is `group` with KIVI's defaults).
public enum KVQuantizationMethod: String, Sendable, Hashable, CaseIterable, Codable {
    /// Asymmetric min–max RTN, one group per tensor (GEAR's `uniformquantization`) or per token.
    case uniform
    /// Dense-and-sparse: top and bottom `fraction/2` kept in fp16, the rest per-tensor uniform.
    case outlier
    /// KIVI: keys per-channel in groups of G tokens, values per-token in groups of G channels,
    /// a full-precision window of R tokens.
    case group
    /// GEAR: the group backbone + sparse outliers + low-rank correction of the error.
    case gear
    /// GEAR-L: the group backbone + low-rank correction, no outliers.
    case gearL = "gear-l"
}

/// Where KV quantization acts (see DESIGN.md and docs/quantization.md).
public enum KVQuantizationRegime: String, Sendable, Hashable, CaseIterable, Codable {
    /// K/V quantized before any attention reads them, prefill included (llama.cpp).
    case attention
    /// The prompt prefilled in full precision, stored quantized; decoding reads it (KIVI, HF).
    case store
    /// The prefix through the image prefilled in full precision and stored quantized; the question
    /// is prefilled against it, then decoding.
    case prefix
}

/// Grouping of the `uniform` method.
public enum KVUniformScope: String, Sendable, Hashable, CaseIterable, Codable {
    /// One min/max per appended chunk of a layer (all heads, all tokens of the chunk).
    case perTensor = "per_tensor"
    /// One min/max per (token, kv-head) vector.
    case perToken = "per_token"
}

/// Grouping of the `group` method.
public enum KVGroupVariant: String, Sendable, Hashable, CaseIterable, Codable {
    /// KIVI: keys per-channel in token groups, values per-token in channel groups, fp16 window.
    case kivi
    /// FlexGen (GEAR's `groupquantization`): one group per head_dim index over all tokens and
    /// heads of an appended chunk, keys and values alike; no window.
    case flexgen
}

/// A fully resolved KV-cache quantization configuration (every parameter explicit).
///
/// Parameters that a method does not use keep their defaults and do not affect its behaviour;
/// `canonicalDescription` prints only the ones that matter, for content keys and reports.
public struct KVQuantizationConfig: Sendable, Hashable, Codable {
    public var method: KVQuantizationMethod
    public var bits: QuantizationBits
    public var regime: KVQuantizationRegime
    /// `uniform` only.
    public var scope: KVUniformScope
    /// Share of values kept exactly (`outlier`, `gear`): the top and bottom `fraction/2`.
    public var fraction: Double
    /// `group` only.
    public var variant: KVGroupVariant
    /// G (`group`, `gear`, `gear-l`).
    public var groupSize: Int
    /// R, the full-precision window in tokens (`group`, `gear`, `gear-l`); a multiple of G
    /// (`group` also takes 0: no window, keys quantized as soon as a group of G tokens fills).
    public var residual: Int
    /// Low-rank rank for blocks quantized after the first append (`gear`, `gear-l`).
    public var rank: Int
    /// Low-rank rank for the block quantized by the first append (the prefill).
    public var prefillRank: Int
    /// Power-iteration rounds.
    public var iterations: Int
    /// Seed of the power iteration's random start.
    public var seed: UInt64

    /// The defaults of `method` (docs/quantization.md lists them).
    public init(method: KVQuantizationMethod, bits: QuantizationBits) {
        self.method = method
        self.bits = bits
        self.regime = .store
        self.scope = .perTensor
        self.variant = .kivi
        self.fraction = 0
        self.groupSize = 32
        self.residual = 128
        self.rank = 0
        self.prefillRank = 0
        self.iterations = 3
        self.seed = 0
        switch method {
        case .uniform, .group:
            break
        case .outlier:
            fraction = 0.02
        case .gear, .gearL:
            fraction = method == .gear ? 0.02 : 0
            groupSize = 64
            residual = 64
            rank = 2
            prefillRank = 4
        }
    }

    /// The parameters this method reads, as `name=value` in a fixed order (spec-language names).
    public var parameters: [(name: String, value: String)] {
        var out: [(String, String)] = []
        switch method {
        case .uniform:
            out.append(("scope", scope.rawValue))
        case .outlier:
            out.append(("outlier_fraction", Self.format(fraction)))
        case .group:
            out.append(("variant", variant.rawValue))
            if variant == .kivi { out += [("group_size", String(groupSize)), ("residual", String(residual))] }
        case .gear, .gearL:
            out += [("group_size", String(groupSize)), ("residual", String(residual))]
            if method == .gear { out.append(("outlier_fraction", Self.format(fraction))) }
            out += [
                ("rank", String(rank)), ("prefill_rank", String(prefillRank)),
                ("iterations", String(iterations)), ("seed", String(seed)),
            ]
        }
        out.append(("regime", regime.rawValue))
        return out
    }

    /// `METHOD:BITS,name=value,…` with every parameter the method reads (stable; parses back).
    public var canonicalDescription: String {
        "\(method.rawValue):\(bits.rawValue)" + parameters.map { ",\($0.name)=\($0.value)" }.joined()
    }

    static func format(_ x: Double) -> String {
        var s = String(x)
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }
}
