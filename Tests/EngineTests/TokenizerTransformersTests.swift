import Foundation
import Testing
import TestSupport
@testable import Engine

/// What `transformers.AutoTokenizer` 5.x does with the fixture folders, where it differs from
/// `tokenizers` (Tools/fixtures/tokenizer_fixtures.py writes transformers.json).
struct TransformersExpectations: Decodable, Sendable {
    struct Encode: Decodable, Sendable {
        let ids: [Int]
        let decoded_skip_special: String
    }

    let transformers_version: String
    let tokenizer_class: String
    /// Corpus index → ids and decode, only where `transformers` differs from `tokenizers`.
    let encode_differences: [String: Encode]
    /// prompts.json index → ids, only where they differ.
    let prompt_differences: [String: [Int]]
}

@Suite("Tokenizer in transformers compatibility")
struct TokenizerTransformersTests {
    static let names = ["llama", "llama-nonlegacy", "gemma"]

    static func expectations(_ name: String) throws -> TransformersExpectations {
        try Fixtures.decodeJSON(TransformersExpectations.self, "tokenizer/\(name)/transformers.json")
    }

    @Test(arguments: names)
    func encodesAndDecodesAsAutoTokenizer(name: String) throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url("tokenizer/\(name)"), compatibility: .transformers)
        let reference = try TokenizerFixtures.expectations(name)
        let want = try Self.expectations(name)
        let corpus = TokenizerFixtures.corpus
        #expect(want.transformers_version == "5.23.0")
        for (index, text) in corpus.enumerated() {
            let fromTokenizers = reference.special_prefix + reference.encode[index].ids_no_special + reference.special_suffix
            let difference = want.encode_differences[String(index)]
            let ids = difference?.ids ?? fromTokenizers
            let decoded = difference?.decoded_skip_special ?? reference.encode[index].decoded_skip_special ?? text
            #expect(tokenizer.encode(text) == ids, "\(name) #\(index) \(text.debugDescription)")
            let ours = tokenizer.decode(ids, skipSpecialTokens: true)
            #expect(sameBytes(ours, decoded), "\(name) #\(index): \(ours.debugDescription) vs \(decoded.debugDescription)")
        }
    }

    @Test(arguments: names)
    func promptIDsMatchTransformers(name: String) throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url("tokenizer/\(name)"), compatibility: .transformers)
        let imageID = try #require(tokenizer.tokenID(for: "<image>"))
        let want = try Self.expectations(name)
        for (index, prompt) in try PromptTemplateTests.expectations(name).enumerated() {
            let template = try #require(PromptTemplate(rawValue: prompt.template))
            let ids = want.prompt_differences[String(index)] ?? prompt.ids
            let tokens = template.encode(prompt: prompt.question, withImage: prompt.image, tokenizer: tokenizer,
                                         imageTokenID: imageID)
            #expect(tokens.ids == ids, "\(name) \(prompt.template) image=\(prompt.image) \(prompt.question.debugDescription)")
        }
    }

    /// The case that matters for LLaVA-1.5: llava-hf's tokenizer.json has the legacy `Prepend("▁")`
    /// normalizer, but its config says `legacy: false`, so transformers gives the text after
    /// `<image>` no `▁`.
    @Test func llavaPromptDiffersOnlyAfterTheImage() throws {
        let folder = Fixtures.url("tokenizer/llama")
        let file = try Tokenizer(directory: folder)
        let auto = try Tokenizer(directory: folder, compatibility: .transformers)
        let imageID = 32_000
        let a = PromptTemplate.llava15.encode(prompt: "What is it?", withImage: true, tokenizer: file, imageTokenID: imageID)
        let b = PromptTemplate.llava15.encode(prompt: "What is it?", withImage: true, tokenizer: auto, imageTokenID: imageID)
        #expect(a.imagePrefix == b.imagePrefix)
        #expect(file.token(for: a.question.first ?? -1) == "▁")
        #expect(Array(a.question.dropFirst()) == Array(b.question))
        #expect(auto.specialTokens == file.specialTokens)
        #expect(file.compatibility == .tokenizers && auto.compatibility == .transformers)
    }

    @Test func compatibilityDefaultsToTokenizers() throws {
        #expect(TokenizerCompatibility.allCases.map(\.rawValue) == ["tokenizers", "transformers"])
        let folder = Fixtures.url("tokenizer/llama")
        #expect(try Tokenizer(directory: folder).encode(" Hello") == Tokenizer(directory: folder, compatibility: .tokenizers).encode(" Hello"))
    }
}
