import Engine
import Foundation
import Planning
import Quantization
import SpecLanguage

/// The real inference: Engine models, tokenizers and image preprocessing, Quantization's caches
/// and packed weights.
public struct EngineInferenceBackend: InferenceBackend {
    /// Threads for the engine's kernels (process-wide; set once here).
    public var threads: Int

    public init(threads: Int) {
        self.threads = threads
    }

    public func session(model: PlannedModel, weights: SpecLanguage.WeightQuantization?,
                        calibration: [CalibrationSample]) throws -> any InferenceSession {
        // Process-wide; kernel results do not depend on it (docs/performance.md).
        KernelThreads.count = threads
        return try EngineSession(descriptor: model.descriptor, weights: weights, calibration: calibration)
    }

    public func session(model: PlannedModel, weights: SpecLanguage.WeightQuantization?, calibration: [CalibrationSample],
                        stored: StoredQuantizedWeights?) throws -> any InferenceSession {
        KernelThreads.count = threads
        return try EngineSession(descriptor: model.descriptor, weights: weights, calibration: calibration, stored: stored)
    }
}

/// An error of the runner's engine glue, naming the model folder.
public struct EngineSessionError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// One loaded checkpoint with one weight configuration applied.
final class EngineSession: InferenceSession {
    let model: EngineModel
    let tokenizer: Tokenizer
    let preprocessor: ImagePreprocessor?
    let folder: URL
    let stopTokens: Set<Int>
    private(set) var weightBytes = 0
    private(set) var loadedStoredWeights = false

    init(descriptor: ModelDescriptor, weights: SpecLanguage.WeightQuantization?, calibration: [CalibrationSample],
         stored: StoredQuantizedWeights? = nil) throws {
        folder = URL(fileURLWithPath: descriptor.path)
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) else {
            throw EngineSessionError(message: "\(folder.path)/config.json: checkpoint not found; check the model's `path:` in the spec")
        }
        model = try EngineModel(directory: folder)
        tokenizer = try Tokenizer(directory: folder)
        preprocessor = model.vision == nil ? nil
            : try ImagePreprocessor(checkpointFolder: folder, padToSquare: descriptor.preprocessing == .pad)
        var stops = Set(model.eosTokenIds)
        if let eos = tokenizer.specialTokens.eos { stops.insert(eos) }
        if let endOfTurn = tokenizer.tokenID(for: "<end_of_turn>") { stops.insert(endOfTurn) }
        stopTokens = stops
        if let weights {
            switch weights.method {
            case .awq, .gptq:
                if let stored, Self.install(stored, in: model) {
                    loadedStoredWeights = true
                } else {
                    try quantizeCalibrated(weights, descriptor: descriptor, calibration: calibration)
                    if let stored {
                        var layers: [String: QuantizedLinear] = [:]
                        model.language.replaceLinearLayers { name, layer in
                            if let packed = layer as? QuantizedLinear { layers[name] = packed }
                            return layer
                        }
                        // A cache that cannot be written costs the next run a recomputation, nothing more.
                        try? stored.cache.write(kind: .quantizedWeights, key: stored.key, payload: QuantizedLinearFormat.encode(layers))
                    }
                }
            case .rtn, .outlier:
                try Self.quantize(model, weights, folder: folder)
            }
        }
        var bytes = 0
        model.language.replaceLinearLayers { _, layer in
            bytes += layer.byteCount
            return layer
        }
        weightBytes = bytes
    }

    /// Puts the stored packed layers in place of the model's; false (model untouched) when there
    /// are none, or they do not fit this model (then they are recomputed and overwritten).
    static func install(_ stored: StoredQuantizedWeights, in model: EngineModel) -> Bool {
        guard case .hit(let payload) = stored.cache.read(kind: .quantizedWeights, key: stored.key),
              let layers = try? QuantizedLinearFormat.decode(payload, source: stored.cache.url(kind: .quantizedWeights, key: stored.key).path),
              !layers.isEmpty else { return false }
        var fits = 0
        model.language.replaceLinearLayers { name, layer in
            if let packed = layers[name], packed.inFeatures == layer.inFeatures, packed.outFeatures == layer.outFeatures { fits += 1 }
            return layer
        }
        guard fits == layers.count else { return false }
        model.language.replaceLinearLayers { name, layer in layers[name] ?? layer }
        return true
    }

    /// Replaces the language model's linear layers by packed quantized ones.
    static func quantize(_ model: EngineModel, _ weights: SpecLanguage.WeightQuantization, folder: URL) throws {
        let config = try weightConfig(weights)
        if weights.targets.contains(.projector) || weights.targets.contains(.visionTower) || weights.targets.contains(.embeddings) {
            throw EngineSessionError(message: "\(folder.path): weight targets \(weights.targets.map(\.rawValue)) — the runner quantizes `lm` and `lm_head` only so far")
        }
        let includeHead = weights.targets.contains(.lmHead)
        try model.language.replaceLinearLayers { name, layer in
            if name == "lm_head" && !includeHead { return layer }
            guard let dense = layer as? DenseLinear else { return layer }
            return try WeightQuantizer.quantize(dense.weights, bias: dense.bias, config: config)
        }
    }

    static func weightConfig(_ weights: SpecLanguage.WeightQuantization) throws -> WeightQuantizationConfig {
        guard let bits = QuantizationBits(rawValue: weights.bits) else {
            throw EngineSessionError(message: "weights: \(weights.bits) bits are not supported (2, 3, 4, 8)")
        }
        switch weights.method {
        case .rtn(let scope, let groupSize):
            var config = WeightQuantizationConfig(method: .rtn, bits: bits)
            config.scope = WeightScope(rawValue: scope.rawValue) ?? .perGroup
            config.groupSize = groupSize
            return config
        case .outlier(let fraction):
            var config = WeightQuantizationConfig(method: .outlier, bits: bits)
            config.fraction = fraction
            return config
        case .awq(let parameters):
            var config = WeightQuantizationConfig(method: .awq, bits: bits)
            config.groupSize = parameters.groupSize
            config.grid = parameters.grid
            return config
        case .gptq(let parameters):
            var config = WeightQuantizationConfig(method: .gptq, bits: bits)
            config.groupSize = parameters.groupSize
            return config
        }
    }

    /// AWQ or GPTQ: calibration prompts rendered with this model's template, then the quantizers.
    func quantizeCalibrated(_ weights: SpecLanguage.WeightQuantization, descriptor: ModelDescriptor,
                            calibration: [CalibrationSample]) throws {
        if weights.targets.contains(.projector) || weights.targets.contains(.visionTower) || weights.targets.contains(.embeddings) {
            throw EngineSessionError(message: "\(folder.path): weight targets \(weights.targets.map(\.rawValue)) — the runner quantizes `lm` and `lm_head` only so far")
        }
        var prompts: [(tokens: [Int], images: [ImageFeatures])] = []
        for sample in calibration {
            let hasImage = sample.image != nil && model.vision != nil
            let rendered = descriptor.template.render(userText: sample.userText, hasImage: hasImage)
            let ids = try tokenize(rendered, hasImage: hasImage)
            var images: [ImageFeatures] = []
            if hasImage, let image = sample.image {
                let features = try visionFeatures(image: image)
                images = [ImageFeatures(count: features.tokens, dimension: features.width, values: features.values)]
            }
            prompts.append((ids.full, images))
        }
        try CalibratedQuantization.apply(to: model, method: weights.method, config: try Self.weightConfig(weights),
                                         includeHead: weights.targets.contains(.lmHead), prompts: prompts)
    }

    /// The Quantization cache configuration for a spec KV setting.
    static func kvConfig(_ kv: KVCacheQuantization) throws -> KVQuantizationConfig {
        guard let bits = QuantizationBits(rawValue: kv.bits) else {
            throw EngineSessionError(message: "kv: \(kv.bits) bits are not supported (2, 3, 4, 8)")
        }
        var config: KVQuantizationConfig
        switch kv.method {
        case .uniform(let scope):
            config = KVQuantizationConfig(method: .uniform, bits: bits)
            config.scope = KVUniformScope(rawValue: scope.rawValue) ?? .perTensor
        case .outlier(let fraction):
            config = KVQuantizationConfig(method: .outlier, bits: bits)
            config.fraction = fraction
        case .group(let parameters), .kivi(let parameters):
            config = KVQuantizationConfig(method: .group, bits: bits)
            config.groupSize = parameters.groupSize
            config.residual = parameters.residual
        case .gear(let parameters), .gearL(let parameters):
            config = KVQuantizationConfig(method: kv.method.name == .gear ? .gear : .gearL, bits: bits)
            config.groupSize = parameters.groupSize
            config.fraction = kv.method.name == .gear ? parameters.outlierFraction : 0
            config.rank = parameters.rank
            config.prefillRank = parameters.prefillRank
            config.iterations = parameters.iterations
            config.seed = UInt64(max(parameters.seed, 0))
        }
        config.regime = KVQuantizationRegime(rawValue: kv.regime.rawValue) ?? .store
        return config
    }

    func visionFeatures(image: URL) throws -> VisionFeatures {
        guard let preprocessor else {
            throw EngineSessionError(message: "\(folder.path): a text-only model cannot read images (\(image.path))")
        }
        let pixels = try preprocessor.pixelValues(contentsOf: image)
        let features = try model.imageFeatures(pixelValues: pixels.values)
        return VisionFeatures(tokens: features.count, width: features.dimension, values: features.values)
    }

    func tokenize(_ prompt: RenderedPrompt, hasImage: Bool) throws -> PromptIDs {
        // A template that writes its own BOS (Gemma turns) must not get a second one.
        let writesBOS = ["<bos>", "<s>"].contains { prompt.full.hasPrefix($0) }
        let imageToken = model.imageTokenId ?? -1
        let full = EnginePromptTokens.encode(prompt.full, tokenizer: tokenizer, imageTokenID: imageToken,
                                              addSpecialTokens: !writesBOS)
        if hasImage {
            guard model.imageTokenId != nil else {
                throw EngineSessionError(message: "\(folder.path): the model has no image token, but the sample has an image")
            }
            let split = full.imagePrefixLength ?? 0
            return PromptIDs(prefix: Array(full.ids[..<split]), question: Array(full.ids[split...]))
        }
        // Text only: the prefix is the template's opening when its ids start the full prompt.
        let opening = EnginePromptTokens.encode(prompt.prefix, tokenizer: tokenizer, imageTokenID: imageToken,
                                                 addSpecialTokens: !writesBOS).ids
        if !opening.isEmpty, full.ids.starts(with: opening) {
            return PromptIDs(prefix: opening, question: Array(full.ids[opening.count...]))
        }
        return PromptIDs(prefix: [], question: full.ids)
    }

    func makeCache(kv: KVCacheQuantization?) throws -> any KVCache {
        guard let kv else { return model.makeCache() }
        let config = model.language.config
        return try QuantizedKVCache(config: try Self.kvConfig(kv), layerCount: config.layerCount,
                                    kvHeads: config.kvHeads, headDim: config.headDim)
    }

    func prefill(_ tokens: [Int], images: [VisionFeatures], cache: any KVCache) throws -> [Float] {
        let features = images.map { ImageFeatures(count: $0.tokens, dimension: $0.width, values: $0.values) }
        return try model.prefill(tokens: tokens, images: features, cache: cache)
    }

    func quantizedCopy(of cache: any KVCache, kv: KVCacheQuantization?) throws -> any KVCache {
        guard let kv else { return cache.copy() }
        guard let full = cache as? F16KVCache else {
            throw EngineSessionError(message: "internal: only a full-precision cache can be quantized for the `store`/`prefix` regimes")
        }
        return try QuantizedKVCache(config: try Self.kvConfig(kv), kvHeads: full.kvHeads, headDim: full.headDim,
                                    keys: (0..<full.layerCount).map { full.keys(layer: $0) },
                                    values: (0..<full.layerCount).map { full.values(layer: $0) })
    }

    func generate(cache: any KVCache, firstLogits: [Float], generation: GenerationSettings) throws -> GeneratedAnswer {
        var tokens: [Int] = []
        var logits = firstLogits
        let stopStrings = generation.stop.filter { !$0.isEmpty }
        var text = ""
        while tokens.count < generation.maxNewTokens {
            let next = GreedyDecoding.argmax(logits)
            tokens.append(next)
            if stopTokens.contains(next) { break }
            if !stopStrings.isEmpty {
                text = tokenizer.decode(tokens, skipSpecialTokens: true)
                if stopStrings.contains(where: { text.contains($0) }) { break }
            }
            guard tokens.count < generation.maxNewTokens else { break }
            logits = try model.decode(token: next, cache: cache)
        }
        let content = tokens.last.map { stopTokens.contains($0) } == true ? Array(tokens.dropLast()) : tokens
        text = tokenizer.decode(content, skipSpecialTokens: true)
        // Cut at the earliest stop string.
        var cut = text.endIndex
        for stop in stopStrings {
            if let range = text.range(of: stop), range.lowerBound < cut { cut = range.lowerBound }
        }
        text = String(text[..<cut]).trimmingCharacters(in: .whitespacesAndNewlines)
        return GeneratedAnswer(tokens: tokens, text: text, kvBytes: cache.byteCount, kvTokens: cache.count(layer: 0))
    }
}
