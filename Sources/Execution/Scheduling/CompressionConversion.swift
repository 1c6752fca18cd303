import Quantization
import SpecLanguage

/// A spec-language setting the library cannot run (the checker rejects these first; this guards
/// settings built in code).
public struct CompressionConversionError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The one translation from the spec language's compression settings to Quantization's
/// configurations, used by the runner and by `lcb generate`/`lcb bench`.
///
/// The spec decides every default (`CompressionDecoder`); a library field the spec has no
/// parameter for keeps the library's default, which docs/spec-language.md states as fixed:
/// GEAR's full-precision window (64 tokens), AWQ's clipping search (on), the scope of
/// `outlier` (per tensor) and of AWQ/GPTQ (per group).
public enum CompressionConversion {
    /// The Quantization cache configuration for a spec KV setting.
    public static func kvConfig(_ kv: KVCacheQuantization) throws(CompressionConversionError) -> KVQuantizationConfig {
        let bits = try quantizationBits(kv.bits, what: "kv")
        var config: KVQuantizationConfig
        switch kv.method {
        case .uniform(let scope):
            config = KVQuantizationConfig(method: .uniform, bits: bits)
            config.scope = scope == .perToken ? .perToken : .perTensor
        case .outlier(let fraction):
            config = KVQuantizationConfig(method: .outlier, bits: bits)
            config.fraction = fraction
        case .group(let parameters), .kivi(let parameters):
            config = KVQuantizationConfig(method: .group, bits: bits)
            switch parameters.variant {
            case .kivi:
                config.variant = .kivi
                config.groupSize = parameters.groupSize
                config.residual = parameters.residual
            case .flexgen:
                // One group per head_dim index, no window: size and residual are not read.
                config.variant = .flexgen
            }
        case .gear(let parameters), .gearL(let parameters):
            let isGEAR = kv.method.name == .gear
            config = KVQuantizationConfig(method: isGEAR ? .gear : .gearL, bits: bits)
            config.groupSize = parameters.groupSize
            config.residual = GEARParameters.residual
            config.fraction = isGEAR ? parameters.outlierFraction : 0
            config.rank = parameters.rank
            config.prefillRank = parameters.prefillRank
            config.iterations = parameters.iterations
            config.seed = UInt64(max(parameters.seed, 0))
        }
        switch kv.regime {
        case .store: config.regime = .store
        case .prefix: config.regime = .prefix
        case .attention: config.regime = .attention
        }
        return config
    }

    /// The Quantization weight configuration for a spec weight setting (targets included).
    public static func weightConfig(_ weights: WeightQuantization) throws(CompressionConversionError) -> WeightQuantizationConfig {
        let bits = try quantizationBits(weights.bits, what: "weights")
        var config: WeightQuantizationConfig
        switch weights.method {
        case .rtn(let scope, let groupSize):
            config = WeightQuantizationConfig(method: .rtn, bits: bits)
            switch scope {
            case .perTensor: config.scope = .perTensor
            case .perChannel: config.scope = .perChannel
            case .perGroup:
                config.scope = .perGroup
                config.groupSize = groupSize
            }
        case .outlier(let fraction):
            config = WeightQuantizationConfig(method: .outlier, bits: bits)
            config.fraction = fraction
        case .awq(let parameters):
            config = WeightQuantizationConfig(method: .awq, bits: bits)
            config.groupSize = parameters.groupSize
            config.grid = parameters.grid
        case .gptq(let parameters):
            config = WeightQuantizationConfig(method: .gptq, bits: bits)
            config.groupSize = parameters.groupSize
            config.damp = parameters.damp
            config.block = parameters.block
        }
        config.targets = Set(try weights.targets.map(target))
        return config
    }

    /// The library's name for a spec target.
    public static func target(_ target: SpecLanguage.WeightTarget) throws(CompressionConversionError) -> Quantization.WeightTarget {
        switch target {
        case .lm: return .lm
        case .lmHead: return .lmHead
        case .projector: return .projector
        case .visionTower: return .vision
        case .embeddings:
            throw CompressionConversionError(
                "weight target 'embeddings' cannot be quantized: the embedding table is always read as stored; "
                + "remove it (a tied output head is quantized as its own copy by 'lm_head')")
        }
    }

    private static func quantizationBits(_ bits: Int, what: String) throws(CompressionConversionError) -> QuantizationBits {
        guard let value = QuantizationBits(rawValue: bits) else {
            throw CompressionConversionError("\(what): \(bits) bits are not supported; use one of \(supportedBitWidths.map(String.init).joined(separator: ", "))")
        }
        return value
    }
}

extension CompressionConversion {
    /// The library configuration a `--kv METHOD[:BITS][,name=value…]` flag names (nil for `fp16`):
    /// the spec language reads the text (`CompressionArgument`), then `kvConfig(_:)` converts it.
    ///
    /// Throws `CompressionArgumentError` (naming the flag and the parameter) for text the spec
    /// language rejects.
    public static func kvConfig(argument text: String, flag: String = "--kv") throws -> KVQuantizationConfig? {
        guard let kv = try CompressionArgument.kv(text, flag: flag) else { return nil }
        return try kvConfig(kv)
    }

    /// The library configuration a `--weights METHOD[:BITS][,name=value…]` flag names (nil for
    /// `fp16`); AWQ and GPTQ then calibrate on the command's own prompt (the CLI-only rule of
    /// `CompressionArgument`).
    public static func weightConfig(argument text: String, flag: String = "--weights") throws -> WeightQuantizationConfig? {
        guard let weights = try CompressionArgument.weights(text, flag: flag) else { return nil }
        return try weightConfig(weights)
    }
}
