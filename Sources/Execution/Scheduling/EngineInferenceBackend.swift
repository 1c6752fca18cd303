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
            let config: WeightQuantizationConfig
            do { config = try CompressionConversion.weightConfig(weights) } catch {
                throw EngineSessionError(message: "\(folder.path): \(error)")
            }
            let calibrated = config.method == .awq || config.method == .gptq
            if calibrated, let stored, Self.install(stored, in: model, targets: config.targets) {
                loadedStoredWeights = true
            } else {
                let prompts = calibrated ? try calibrationPrompts(calibration, descriptor: descriptor) : []
                if calibrated, prompts.isEmpty {
                    throw EngineSessionError(message: "weights: \(weights.method.name.rawValue) needs calibration samples; the calibration dataset has none")
                }
                do {
                    // Unfolded AWQ scales: the packed layers alone are the whole quantized model, so the
                    // stored layers reproduce it exactly (a scale folded into a norm would be lost on reload).
                    try ModelWeightQuantization.apply(config, to: model, calibration: prompts, foldScales: false)
                } catch let error as WeightQuantizationError {
                    throw EngineSessionError(message: "\(folder.path): weights: \(error)")
                }
                if calibrated, let stored {
                    var layers: [String: QuantizedLinear] = [:]
                    for (name, layer) in ModelWeightQuantization.linearLayers(of: model) {
                        if let packed = layer as? QuantizedLinear { layers[name] = packed }
                    }
                    // A cache that cannot be written costs the next run a recomputation, nothing more.
                    try? stored.cache.write(kind: .quantizedWeights, key: stored.key, payload: QuantizedLinearFormat.encode(layers))
                }
            }
        }
        weightBytes = ModelWeightQuantization.linearBytes(of: model)
    }

    /// Puts the stored packed layers in place of the model's (language model, vision tower and
    /// projector); false (model untouched) when there are none, or they are not exactly the
    /// targeted layers of this model (then they are recomputed and overwritten).
    static func install(_ stored: StoredQuantizedWeights, in model: EngineModel, targets: Set<Quantization.WeightTarget>) -> Bool {
        guard case .hit(let payload) = stored.cache.read(kind: .quantizedWeights, key: stored.key),
              let layers = try? QuantizedLinearFormat.decode(payload, source: stored.cache.url(kind: .quantizedWeights, key: stored.key).path),
              !layers.isEmpty else { return false }
        let targeted = ModelWeightQuantization.linearLayers(of: model)
            .filter { targets.contains(ModelWeightQuantization.target(ofLayer: $0.name)) }
        let fits = targeted.allSatisfy { name, layer in
            guard let packed = layers[name] else { return false }
            return packed.inFeatures == layer.inFeatures && packed.outFeatures == layer.outFeatures
        }
        guard fits, targeted.count == layers.count else { return false }
        let replace: (String, any LinearLayer) -> any LinearLayer = { name, layer in layers[name] ?? layer }
        model.language.replaceLinearLayers(replace)
        model.vision?.replaceLinearLayers(replace)
        return true
    }

    /// The calibration samples as the model reads them: rendered with its template, tokenized, and
    /// each image preprocessed to pixel values.
    func calibrationPrompts(_ calibration: [CalibrationSample], descriptor: ModelDescriptor) throws -> [CalibrationPrompt] {
        try calibration.map { sample in
            let hasImage = sample.image != nil && model.vision != nil
            let rendered = descriptor.template.render(userText: sample.userText, hasImage: hasImage)
            let ids = try tokenize(rendered, hasImage: hasImage)
            var pixels: [[Float]] = []
            if hasImage, let image = sample.image, let preprocessor {
                pixels = [try preprocessor.pixelValues(contentsOf: image).values]
            }
            return CalibrationPrompt(tokens: ids.full, pixelValues: pixels)
        }
    }

    /// The Quantization cache configuration for a spec KV setting.
    static func kvConfig(_ kv: KVCacheQuantization) throws -> KVQuantizationConfig {
        do { return try CompressionConversion.kvConfig(kv) } catch {
            throw EngineSessionError(message: error.description)
        }
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
