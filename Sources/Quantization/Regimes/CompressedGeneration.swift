import Engine
import Foundation

/// An error in a generation request, worded for the person who typed it.
public struct GenerationRequestError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Everything `lcb generate` needs: a checkpoint folder, a question, images, and the compression.
public struct GenerationRequest: Sendable {
    public var modelDirectory: URL
    public var prompt: String
    /// PNG/JPEG files (preprocessed as the checkpoint's `preprocessor_config.json` says), or `.npy`
    /// files already holding pixel values `[3, S, S]` (or `[1, 3, S, S]`).
    public var images: [URL]
    /// nil: the checkpoint's default (`gemma` for Gemma, `llava-1.5` for Llama, else `raw`).
    public var template: PromptTemplate?
    public var maxNewTokens: Int
    public var kv: KVQuantizationConfig?
    public var weights: WeightQuantizationConfig?
    /// LLaVA's pad-to-square before preprocessing; nil = the preprocessor config's choice.
    public var padToSquare: Bool?

    public init(modelDirectory: URL, prompt: String, images: [URL] = [], template: PromptTemplate? = nil,
                maxNewTokens: Int = 64, kv: KVQuantizationConfig? = nil, weights: WeightQuantizationConfig? = nil,
                padToSquare: Bool? = nil) {
        self.modelDirectory = modelDirectory
        self.prompt = prompt
        self.images = images
        self.template = template
        self.maxNewTokens = maxNewTokens
        self.kv = kv
        self.weights = weights
        self.padToSquare = padToSquare
    }
}

/// The outcome of one generation, as `lcb generate --json` prints it.
public struct GenerationReport: Sendable, Encodable {
    /// Prompt ids, one image-token id per `<image>` (before expansion).
    public var promptIds: [Int]
    /// Generated ids (a stop id, if hit, is the last one).
    public var tokens: [Int]
    /// The generated text, special tokens skipped.
    public var text: String
    public var template: String
    public var stopReason: String
    /// `canonicalDescription` of the KV and weight configurations (`fp16` when none).
    public var kv: String
    public var weights: String
    public var promptPositions: Int
    /// Exact bytes of the KV cache at the end and of the model's linear layers.
    public var kvCacheBytes: Int
    public var linearWeightBytes: Int
    public var timings: Timings
    /// Logits of the last prompt position after prefill, `[vocab]` (`--dump-logits`; not in JSON).
    public var promptLogits: [Float]

    public struct Timings: Sendable, Encodable, Equatable {
        public var loadSeconds: Double
        public var weightQuantizationSeconds: Double
        public var visionSeconds: Double
        public var prefillSeconds: Double
        public var decodeSeconds: Double
        public var decodeSteps: Int

        enum CodingKeys: String, CodingKey {
            case loadSeconds = "load_s", weightQuantizationSeconds = "weight_quantization_s"
            case visionSeconds = "vision_s", prefillSeconds = "prefill_s", decodeSeconds = "decode_s"
            case decodeSteps = "decode_steps"
        }
    }

    enum CodingKeys: String, CodingKey {
        case promptIds = "prompt_ids", tokens, text, template, stopReason = "stop_reason", kv, weights
        case promptPositions = "prompt_positions", kvCacheBytes = "kv_cache_bytes"
        case linearWeightBytes = "linear_weight_bytes", timings
    }
}

/// One complete `lcb generate`: load, quantize weights, tokenize, vision, prefill and decode in
/// the KV configuration's regime.
public enum CompressedGeneration {
    public static func run(_ request: GenerationRequest) throws -> GenerationReport {
        var clock = Lap()
        let model = try Model(directory: request.modelDirectory)
        let tokenizer = try Tokenizer(directory: request.modelDirectory, compatibility: .transformers)
        let template = request.template ?? PromptTemplate.defaultTemplate(textModelType: model.config.text.architecture)
        if !request.images.isEmpty && model.imageTokenId == nil {
            throw GenerationRequestError(
                "\(request.modelDirectory.path)/config.json: this is a text-only model; leave out --image or use a LLaVA checkpoint")
        }
        let pixels = try request.images.map { try pixelValues($0, model: model, padToSquare: request.padToSquare) }
        let imageToken = model.imageTokenId ?? -1
        let tokens = template.encode(prompt: request.prompt, withImage: !request.images.isEmpty,
                                     tokenizer: tokenizer, imageTokenID: imageToken)
        if tokens.imagePositions.count != request.images.count {
            throw GenerationRequestError(
                "the prompt has \(tokens.imagePositions.count) <image> placeholder(s) but \(request.images.count) image(s) were given; give one --image per <image>")
        }
        let load = clock.lap()

        var quantizationSeconds = 0.0
        if let weights = request.weights {
            // AWQ/GPTQ calibrate on the request's own prompt here; the runner passes a dataset.
            try ModelWeightQuantization.apply(weights, to: model, calibration: [CalibrationPrompt(tokens: tokens.ids, pixelValues: pixels)])
            quantizationSeconds = clock.lap()
        }
        let images = try pixels.map { try model.imageFeatures(pixelValues: $0) }
        let vision = clock.lap()
        let prompt = try RegimePrompt(model: model, prompt: tokens, images: images)
        let stops = template.stopConditions(tokenizer: tokenizer).tokenIDs.union(model.eosTokenIds)
        let result = try KVRegimeGeneration.generate(
            model: model, prompt: prompt, config: request.kv, maxNewTokens: request.maxNewTokens, stopTokenIds: stops)
        var answer = result.output.tokens
        if case .stopToken = result.output.stopReason { answer.removeLast() }
        let stopReason: String
        switch result.output.stopReason {
        case .stopToken(let id): stopReason = "stop_token:\(id)"
        case .maxNewTokens: stopReason = "max_new_tokens"
        }
        return GenerationReport(
            promptIds: tokens.ids, tokens: result.output.tokens, text: tokenizer.decode(answer, skipSpecialTokens: true),
            template: template.rawValue, stopReason: stopReason,
            kv: request.kv?.canonicalDescription ?? "fp16", weights: request.weights?.canonicalDescription ?? "fp16",
            promptPositions: result.promptPositions, kvCacheBytes: result.cacheBytes,
            linearWeightBytes: ModelWeightQuantization.linearBytes(of: model),
            timings: .init(loadSeconds: load, weightQuantizationSeconds: quantizationSeconds, visionSeconds: vision,
                           prefillSeconds: result.prefillSeconds, decodeSeconds: result.decodeSeconds,
                           decodeSteps: result.decodeSteps),
            promptLogits: result.promptLogits)
    }

    /// Pixel values `[3, S, S]` of an image file, or of a `.npy` file that already holds them.
    public static func pixelValues(_ url: URL, model: Model, padToSquare: Bool?) throws -> [Float] {
        guard let vision = model.vision else {
            throw GenerationRequestError("\(url.path): the model has no vision tower; leave out --image")
        }
        let size = vision.config.vision.imageSize
        if url.pathExtension.lowercased() == "npy" {
            let array = try NumpyFile.read(url)
            let shape = array.shape.first == 1 ? Array(array.shape.dropFirst()) : array.shape
            guard shape == [3, size, size] else {
                throw GenerationRequestError(
                    "\(url.path): pixel values have shape \(array.shape), expected [3, \(size), \(size)] for this model; give a PNG or JPEG to have it preprocessed")
            }
            return array.values
        }
        let preprocessor = try ImagePreprocessor(checkpointFolder: model.directory, padToSquare: padToSquare)
        let pixels = try preprocessor.pixelValues(contentsOf: url)
        guard pixels.channels == 3, pixels.height == size, pixels.width == size else {
            throw GenerationRequestError(
                "\(url.path): preprocessing gives \(pixels.channels)×\(pixels.height)×\(pixels.width) pixel values but the vision tower expects 3×\(size)×\(size); check crop_size in \(model.directory.path)/preprocessor_config.json")
        }
        return pixels.values
    }
}
