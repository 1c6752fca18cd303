import Foundation
import Engine
@testable import Quantization
import TestSupport

/// A tiny checkpoint of Tests/Fixtures/models/ with what transformers produced for it
/// (Tools/fixtures/models.py): the question, template, pixel values and expected outputs.
struct EndToEndFixture: CustomStringConvertible, Sendable {
    struct Expected: Decodable {
        var promptIds: [Int]
        var greedyTokens: [Int]

        enum CodingKeys: String, CodingKey {
            case promptIds = "prompt_ids"
            case greedyTokens = "greedy_tokens"
        }
    }

    let name: String
    let question: String
    let template: PromptTemplate
    let hasImage: Bool
    var description: String { name }

    static let all: [EndToEndFixture] = [
        .init(name: "llava-llama", question: "What is in the picture?", template: .llava15, hasImage: true),
        .init(name: "llava-gemma", question: "What is in the picture?", template: .gemma, hasImage: true),
        .init(name: "llava-llama-v4-bf16", question: "What is in the picture?", template: .llava15, hasImage: true),
        .init(name: "llama-text-sharded", question: "Describe the image in one word.", template: .raw, hasImage: false),
        .init(name: "gemma-text-f16", question: "How many apples are on the table?", template: .gemma, hasImage: false),
    ]
    static let multimodal = all.filter(\.hasImage)
    /// One LLaVA-1.5-style and one LLaVA-Gemma-style model, for the slower sweeps.
    static let pair = [all[0], all[1]]

    var directory: URL { Fixtures.url("models/\(name)") }
    var pixelFile: URL { directory.appendingPathComponent("expected/pixel_values.npy") }

    func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: directory.appendingPathComponent("expected/inputs.json")))
    }

    func expectedLogits() throws -> [Float] {
        try NumpyFile.read(directory.appendingPathComponent("expected/prefill_logits.npy")).values
    }

    func request(maxNewTokens: Int = 16, kv: String = "fp16", weights: String = "fp16") throws -> GenerationRequest {
        GenerationRequest(
            modelDirectory: directory, prompt: question, images: hasImage ? [pixelFile] : [], template: template,
            maxNewTokens: maxNewTokens, kv: try QuantizationSpecParser.parseKV(kv),
            weights: try QuantizationSpecParser.parseWeights(weights))
    }

    /// A loaded model and its prompt, split for the regimes.
    func load() throws -> (model: Model, prompt: RegimePrompt, stops: Set<Int>, tokens: PromptTokens) {
        let model = try Model(directory: directory)
        let tokenizer = try Tokenizer(directory: directory, compatibility: .transformers)
        let tokens = template.encode(prompt: question, withImage: hasImage, tokenizer: tokenizer,
                                     imageTokenID: model.imageTokenId ?? -1)
        let images = hasImage ? [try model.imageFeatures(pixelValues: NumpyFile.read(pixelFile).values)] : []
        let prompt = try RegimePrompt(model: model, prompt: tokens, images: images)
        let stops = template.stopConditions(tokenizer: tokenizer).tokenIDs.union(model.eosTokenIds)
        return (model, prompt, stops, tokens)
    }
}
