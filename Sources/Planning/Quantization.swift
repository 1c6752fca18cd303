import SpecLanguage

// The planner keys the spec's resolved configurations directly: SpecLanguage fills in every
// default, so a spec that writes a default out and one that leaves it implicit give equal values
// here, and there is one table of defaults in the project, not two.

extension KVCacheQuantization {
    /// What content keys hash: method, bits, regime and every effective parameter.
    public var canonical: CanonicalValue {
        .object([
            "method": .string(method.name.rawValue), "bits": .integer(bits), "regime": .string(regime.rawValue),
            "parameters": .object(Dictionary(method.parameters.map { ($0.key, CanonicalValue.string($0.value)) },
                                             uniquingKeysWith: { first, _ in first })),
        ])
    }

    /// Bits per stored K/V element (for the cost model).
    var storedBits: Double { Double(bits) }
}

extension WeightQuantization {
    /// What content keys hash: method, bits, targets and every effective parameter.
    public var canonical: CanonicalValue { canonical(calibration: nil) }

    /// The canonical form with the calibration dataset's name replaced by what the dataset is.
    ///
    /// AWQ and GPTQ name their calibration dataset; a name is not content (two specs may use one
    /// name for different data, or two names for the same), so the key hashes `calibration`,
    /// the dataset's canonical source, when the planner knows it.
    public func canonical(calibration: CanonicalValue?) -> CanonicalValue {
        var parameters = Dictionary(method.parameters.map { ($0.key, CanonicalValue.string($0.value)) },
                                    uniquingKeysWith: { first, _ in first })
        if let calibration, parameters["calibration"] != nil { parameters["calibration"] = calibration }
        return .object([
            "method": .string(method.name.rawValue), "bits": .integer(bits),
            "targets": .array(Set(targets.map(\.rawValue)).sorted().map(CanonicalValue.string)),
            "parameters": .object(parameters),
        ])
    }

    /// The name of the dataset AWQ or GPTQ calibrates on.
    public var calibrationDataset: String? {
        switch method {
        case .awq(let parameters): return parameters.calibration
        case .gptq(let parameters): return parameters.calibration
        case .rtn, .outlier: return nil
        }
    }

    /// Whether it changes the language model's weights (linears, head or embeddings).
    public var touchesLanguage: Bool { targets.contains(.lm) || targets.contains(.lmHead) || targets.contains(.embeddings) }

    /// Whether it changes the vision tower or the projector, i.e. the vision features.
    public var touchesVision: Bool { !leavesVisionUntouched }

    /// The group size used for scale overhead in the cost model, if the method groups.
    var groupSize: Int? {
        switch method {
        case .rtn(let scope, let size): return scope == .perGroup ? size : nil
        case .outlier: return nil
        case .awq(let parameters): return parameters.groupSize
        case .gptq(let parameters): return parameters.groupSize
        }
    }

    /// Calibration samples of AWQ and GPTQ (for the cost model).
    var calibrationSamples: Int? {
        switch method {
        case .awq(let parameters): return parameters.calibrationSamples
        case .gptq(let parameters): return parameters.calibrationSamples
        case .rtn, .outlier: return nil
        }
    }
}

extension GenerationSettings {
    /// What content keys hash; stop strings sorted, since their order never changes an output.
    public var canonical: CanonicalValue {
        .object([
            "decoding": .string("greedy"), "max_new_tokens": .integer(maxNewTokens),
            "stop": .array(Set(stop).sorted().map(CanonicalValue.string)),
        ])
    }
}
