import Engine
import Foundation
import Planning
import SpecLanguage
import TestSupport
import Testing
@testable import Execution

/// Two layers render prompts: Planning (the text in content keys, which the runner prefills) and
/// Engine (`lcb generate`, `lcb bench` and the Quantization regimes). For every template both
/// know, the text and the token ids must be the same, or `lcb generate` would not reproduce what
/// `lcb run` stored.
@Suite struct PromptTemplateAgreementTests {
    static let pairs: [(spec: SpecLanguage.PromptTemplate, engine: EnginePromptTemplate, model: String)] = [
        (.gemma, .gemma, "models/llava-gemma"),
        (.llava15, .llava15, "models/llava-llama"),
    ]
    static let questions = ["What color is the shape?", "Is there a red circle?\nAnswer the question using a single word or phrase.",
                            " leading space, trailing space ", "ümlaut — ünïcode"]

    @Test(arguments: [0, 1]) func renderedTextAndIDsAgree(pair index: Int) throws {
        let (spec, engine, model) = Self.pairs[index]
        #expect(spec.specValue == engine.rawValue)
        let descriptor = ModelDescriptor(name: "m", path: Fixtures.url(model).path, template: spec, preprocessing: .pad)
        let session = try EngineSession(descriptor: descriptor, weights: nil, calibration: [])
        let imageToken = try #require(session.model.imageTokenId)
        for question in Self.questions {
            for hasImage in [true, false] {
                let planned = spec.render(userText: question, hasImage: hasImage)
                #expect(planned.full == engine.render(prompt: question, withImage: hasImage), "\(model) image=\(hasImage)")
                let runner = try session.tokenize(planned, hasImage: hasImage)
                let direct = engine.encode(prompt: question, withImage: hasImage, tokenizer: session.tokenizer,
                                           imageTokenID: imageToken)
                #expect(runner.prefix + runner.question == direct.ids, "\(model) image=\(hasImage) \(question)")
                if hasImage { #expect(runner.prefix.count == direct.imagePrefixLength) }
            }
        }
    }
}
