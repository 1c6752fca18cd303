import SpecLanguage

/// The recipe of every content key: which inputs each job kind's key hashes, in one place.
///
/// Each recipe names exactly what determines the job's output (DESIGN.md, "Content keys"), and
/// nothing else: names from the spec, YAML order and the settings of later stages never enter.
/// A key may include the key of an upstream job or identity instead of repeating its inputs; that
/// hashes the same inputs. `numerics` is the engine's numerics version: bump it when a kernel
/// change alters outputs, and every result keyed with the old version stops being served.
public struct JobKeys: Sendable {
    /// The engine's numerics version.
    public let numerics: Int
    /// The metric implementations' version (scoring keys only).
    public let metrics: Int

    public init(numerics: Int, metrics: Int) {
        self.numerics = numerics
        self.metrics = metrics
    }

    /// One checkpoint quantized with one configuration.
    public func weightQuantization(model: ModelIdentity, dtype: String, weights: WeightQuantization,
                                   calibration: CanonicalValue? = nil) -> ContentKey {
        ContentKey(.object([
            "kind": .string(JobKind.weightQuantization.rawValue), "checkpoint": .key(model.weights),
            "dtype": .string(dtype), "config": weights.canonical(calibration: calibration), "numerics": .integer(numerics),
        ]))
    }

    /// The identity of the weights one side (language or vision) of a model computes with: the
    /// checkpoint as stored, or its quantization job's key when the configuration touches that side.
    public func weightsIdentity(model: ModelIdentity, dtype: String, quantization: ContentKey?) -> ContentKey {
        ContentKey(.object([
            "checkpoint": .key(model.weights), "dtype": .string(dtype),
            "quantized": .optional(quantization, CanonicalValue.key),
        ]))
    }

    /// Vision tower + projector on one image.
    public func visionEncoding(visionWeights: ContentKey, preprocessor: ContentKey, preprocessing: ImagePreprocessing,
                               image: ContentKey) -> ContentKey {
        // Members in key-byte order (the per-sample recipes skip the dictionary sort).
        ContentKey(sortedObject: [
            "image": .key(image), "kind": .string(JobKind.visionEncoding.rawValue), "numerics": .integer(numerics),
            "preprocessing": .object(["mode": .string(preprocessing.rawValue), "config": .key(preprocessor)]),
            "weights": .key(visionWeights),
        ])
    }

    /// A whole prompt prefilled; `kv` only under `attention`, where the quantized cache is read
    /// during prefill.
    public func prefill(languageWeights: ContentKey, tokenizer: ContentKey, prompt: String, vision: ContentKey?,
                        kv: KVCacheQuantization?) -> ContentKey {
        ContentKey(sortedObject: [
            "kind": .string(JobKind.prefill.rawValue), "kv": kv?.canonical ?? .null, "numerics": .integer(numerics),
            "prompt": .string(prompt), "tokenizer": .key(tokenizer), "vision": .optional(vision, CanonicalValue.key),
            "weights": .key(languageWeights),
        ])
    }

    /// The prompt through the image prefilled in full precision (`prefix`).
    public func prefixPrefill(languageWeights: ContentKey, tokenizer: ContentKey, prefix: String,
                              vision: ContentKey?) -> ContentKey {
        ContentKey(sortedObject: [
            "kind": .string(JobKind.prefixPrefill.rawValue), "numerics": .integer(numerics), "prefix": .string(prefix),
            "tokenizer": .key(tokenizer), "vision": .optional(vision, CanonicalValue.key), "weights": .key(languageWeights),
        ])
    }

    /// What a decode job adds to its prefill: the KV configuration and the generation settings.
    /// Computed once per cell; `decode` hashes it with each sample's prefill.
    public func decodeSettings(kv: KVCacheQuantization?, generation: GenerationSettings) -> ContentKey {
        decodeSettings(kv: kv.map { ContentKey($0.canonical) }, generation: ContentKey(generation.canonical))
    }

    /// `decodeSettings` from the keys of the KV configuration's and the generation settings'
    /// canonical forms (the planner computes those once per distinct configuration).
    func decodeSettings(kv: ContentKey?, generation: ContentKey) -> ContentKey {
        ContentKey(sortedObject: [
            "generation": .key(generation), "kv": .optional(kv, CanonicalValue.key), "numerics": .integer(numerics),
        ])
    }

    /// Generation from a prefill; under `prefix` the question text is prefilled here, against the
    /// quantized prefix, so it is part of the key.
    public func decode(prefill: ContentKey, question: String?, settings: ContentKey) -> ContentKey {
        // Written out member by member (the canonical encoding of
        // {"from", "kind": "decode", "question", "settings"}; a test checks it against the generic
        // encoder): there is one of these per cell and sample.
        var encoder = CanonicalEncoder()
        encoder.appendRaw("{\"from\":")
        encoder.appendKey(prefill)
        encoder.appendRaw(",\"kind\":\"decode\",\"question\":")
        if let question { encoder.appendStringValue(question) } else { encoder.appendRaw("null") }
        encoder.appendRaw(",\"settings\":")
        encoder.appendKey(settings)
        encoder.appendRaw("}")
        return ContentKey(digestOf: encoder.bytes)
    }

    /// Scoring one answer against a sample's references with the dataset's metrics.
    public func scoring(answer: ContentKey, references: [String], metrics metricNames: [Metric]) -> ContentKey {
        scoring(answer: answer, references: references, metricList: Self.metricList(metricNames))
    }

    /// `scoring` with the metric list already canonical (`metricList`), computed once per cell.
    func scoring(answer: ContentKey, references: [String], metricList: CanonicalValue) -> ContentKey {
        // Written out member by member, like `decode`: one per cell and sample.
        var encoder = CanonicalEncoder()
        encoder.appendRaw("{\"answer\":")
        encoder.appendKey(answer)
        encoder.appendRaw(",\"kind\":\"scoring\",\"metrics\":")
        encoder.encode(metricList)
        encoder.appendRaw(",\"metrics_version\":")
        encoder.encode(.integer(metrics))
        encoder.appendRaw(",\"references\":[")
        for (index, reference) in references.enumerated() {
            if index > 0 { encoder.appendRaw(",") }
            encoder.appendStringValue(reference)
        }
        encoder.appendRaw("]}")
        return ContentKey(digestOf: encoder.bytes)
    }

    /// A whole cell: everything its results depend on, so identical cells from different
    /// experiments or spec files are planned once.
    ///
    /// `model` is `model(identity:dtype:template:preprocessing:)`; `weights`, `kv` and `generation`
    /// are the keys of those configurations' canonical forms (the weights' with the calibration
    /// dataset resolved).
    public func cell(model: ContentKey, weights: ContentKey?, kv: ContentKey?, samples: ContentKey, promptSuffix: String,
                     metrics metricNames: [Metric], generation: ContentKey) -> ContentKey {
        ContentKey(sortedObject: [
            "generation": .key(generation), "kind": .string("cell"), "kv": .optional(kv, CanonicalValue.key),
            "metrics": Self.metricList(metricNames), "metrics_version": .integer(metrics), "model": .key(model),
            "numerics": .integer(numerics), "prompt_suffix": .string(promptSuffix), "samples": .key(samples),
            "weights": .optional(weights, CanonicalValue.key),
        ])
    }

    /// Everything about a model that a cell's results depend on: its files, dtype, prompt template
    /// and image preprocessing.
    public func model(identity: ModelIdentity, dtype: String, template: PromptTemplate, preprocessing: ImagePreprocessing) -> ContentKey {
        ContentKey(.object([
            "checkpoint": .key(identity.weights), "tokenizer": .key(identity.tokenizer), "preprocessor": .key(identity.preprocessor),
            "dtype": .string(dtype), "template": .string(template.text), "preprocessing": .string(preprocessing.rawValue),
        ]))
    }

    /// Metric names sorted: the order a spec lists them in does not change a score.
    static func metricList(_ metrics: [Metric]) -> CanonicalValue {
        .array(Set(metrics.map(\.rawValue)).sorted().map(CanonicalValue.string))
    }
}
