import SpecLanguage

extension Spec {
    /// Every configuration's settings in the form results carry them (method, bits, regime, parameters).
    public var quantizationSettings: [String: QuantizationSettings] {
        var out: [String: QuantizationSettings] = [:]
        for (name, configuration) in configurations {
            let kv = configuration.kv.map { kv in
                QuantizationSetting(method: kv.method.name.rawValue, bits: kv.bits, regime: kv.regime.rawValue,
                                    parameters: kv.method.parameters.map { "\($0.key)=\($0.value)" })
            }
            let weights = configuration.weights.map { weights in
                QuantizationSetting(method: weights.method.name.rawValue, bits: weights.bits,
                                    parameters: weights.method.parameters.map { "\($0.key)=\($0.value)" }
                                        + ["targets=" + weights.targets.map(\.rawValue).joined(separator: ",")])
            }
            out[name] = QuantizationSettings(kv: kv, weights: weights)
        }
        return out
    }
}
