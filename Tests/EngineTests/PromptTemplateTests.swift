import Foundation
import Testing
import TestSupport
@testable import Engine

/// Rendered prompts and the ids HF `tokenizers` gives them (Tools/fixtures/tokenizer_fixtures.py).
struct PromptExpectation: Decodable, Sendable {
    let template: String
    let image: Bool
    let question: String
    let text: String
    let ids: [Int]
}

@Suite("Prompt templates")
struct PromptTemplateTests {
    static func expectations(_ name: String) throws -> [PromptExpectation] {
        try Fixtures.decodeJSON([PromptExpectation].self, "tokenizer/\(name)/prompts.json")
    }

    @Test func rendersTheDocumentedFormats() {
        let question = "What is this?"
        #expect(PromptTemplate.llava15.render(prompt: question, withImage: true)
            == "USER: <image>\nWhat is this? ASSISTANT:")
        #expect(PromptTemplate.gemma.render(prompt: question, withImage: true)
            == "<bos><start_of_turn>user\n<image>\nWhat is this?<end_of_turn>\n<start_of_turn>model\n")
        #expect(PromptTemplate.raw.render(prompt: question, withImage: false) == "What is this?")
        #expect(PromptTemplate.raw.render(prompt: question, withImage: true) == "<image>\nWhat is this?")
        #expect(PromptTemplate.raw.render(prompt: "<image> first", withImage: true) == "<image> first")
        #expect(PromptTemplate(rawValue: "llava-1.5") == .llava15)
        #expect(PromptTemplate.allCases.map(\.rawValue) == ["llava-1.5", "gemma", "raw"])
        #expect(PromptTemplate.defaultTemplate(textModelType: "gemma") == .gemma)
        #expect(PromptTemplate.defaultTemplate(textModelType: "llama") == .llava15)
    }

    /// Every template × question × image, rendered and encoded, equals what HF produces for the
    /// same text (where `<image>` is the tokenizer's own added token).
    /// The fixtures with prompt expectations (the LLaVA-style tokenizers).
    static let names = ["llama", "llama-nonlegacy", "gemma", "metaspace"]

    @Test(arguments: names)
    func idsMatchHuggingFace(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let imageID = try #require(tokenizer.tokenID(for: "<image>"))
        let cases = try Self.expectations(name)
        #expect(cases.count == 36)
        for want in cases {
            let template = try #require(PromptTemplate(rawValue: want.template))
            let rendered = template.render(prompt: want.question, withImage: want.image)
            #expect(sameBytes(rendered, want.text), "\(name) \(want.template): \(rendered.debugDescription)")
            let tokens = template.encode(prompt: want.question, withImage: want.image, tokenizer: tokenizer,
                                         imageTokenID: imageID)
            #expect(tokens.ids == want.ids, "\(name) \(want.template) image=\(want.image) \(want.question.debugDescription)")
            let expectedPositions = want.ids.indices.filter { want.ids[$0] == imageID }
            #expect(tokens.imagePositions == expectedPositions)
        }
    }

    @Test func llavaPromptIDsWithLlamaTokenizer() throws {
        let tokenizer = try TokenizerFixtures.tokenizer("llama")
        let imageID = try #require(tokenizer.tokenID(for: "<image>"))
        let want = try #require(try Self.expectations("llama").first {
            $0.template == "llava-1.5" && $0.image && $0.question == "What is shown in the image?"
        })
        let tokens = PromptTemplate.llava15.encode(prompt: "What is shown in the image?", withImage: true,
                                                   tokenizer: tokenizer, imageTokenID: 32_000)
        // HF's ids, with its `<image>` id replaced by the configured image_token_index.
        #expect(tokens.ids == want.ids.map { $0 == imageID ? 32_000 : $0 })
        // <s> ▁USER : ▁ <image>: BOS, "USER:" and the "▁" of the space come before the image.
        #expect(tokens.ids.first == 1)
        #expect(tokenizer.decode(Array(tokens.imagePrefix.dropLast())) == "<s> USER: ")
        #expect(tokens.imagePositions.count == 1)
        #expect(tokens.imagePrefixLength == (tokens.imagePositions.first ?? -1) + 1)
        #expect(tokens.imagePrefix.last == 32_000)
        // The question part starts with the "▁" the legacy Llama normalizer prepends, then "\n".
        #expect(tokenizer.token(for: tokens.question.first ?? -1) == "▁")
        // (The decoder's Strip removes that leading space again.)
        #expect(tokenizer.decode(Array(tokens.question)) == "\nWhat is shown in the image? ASSISTANT:")
    }

    /// The split the `prefix` KV regime relies on: the prefix is the same for every question.
    @Test(arguments: PromptTemplate.allCases, TokenizerFixtures.names)
    func imagePrefixDoesNotDependOnTheQuestion(template: PromptTemplate, name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let imageID = 99_999
        let first = template.encode(prompt: "Is there a cat?", withImage: true, tokenizer: tokenizer, imageTokenID: imageID)
        let second = template.encode(prompt: " What colour is the 日本 car?\nAnswer briefly.", withImage: true,
                                     tokenizer: tokenizer, imageTokenID: imageID)
        #expect(first.imagePrefix == second.imagePrefix)
        #expect(first.imagePrefix.last == imageID)
        #expect(first.question != second.question)
        #expect(Array(first.imagePrefix) + Array(first.question) == first.ids)
        // The image token is where the whole-text encode puts the tokenizer's own `<image>`.
        let ownID = try #require(tokenizer.tokenID(for: "<image>"))
        let whole = PromptTokens.encode(template.render(prompt: "Is there a cat?", withImage: true),
                                        tokenizer: tokenizer, imageTokenID: ownID,
                                        addSpecialTokens: template.addsSpecialTokens)
        #expect(whole.ids == tokenizer.encode(template.render(prompt: "Is there a cat?", withImage: true),
                                              addSpecialTokens: template.addsSpecialTokens))
    }

    @Test func textOnlyPromptHasNoImagePrefix() throws {
        let tokenizer = try TokenizerFixtures.tokenizer("gemma")
        let tokens = PromptTemplate.gemma.encode(prompt: "Hi", withImage: false, tokenizer: tokenizer, imageTokenID: 1275)
        #expect(tokens.imagePositions.isEmpty)
        #expect(tokens.imagePrefixLength == nil)
        #expect(tokens.imagePrefix.isEmpty)
        #expect(Array(tokens.question) == tokens.ids)
        // `<bos>` is written by the template, not added again by the post-processor.
        #expect(tokens.ids.first == 2)
        #expect(tokens.ids.dropFirst().first == tokenizer.tokenID(for: "<start_of_turn>"))
        #expect(tokens.ids.filter { $0 == 2 }.count == 1)
    }

    @Test func stopConditions() throws {
        let gemma = try TokenizerFixtures.tokenizer("gemma")
        let llama = try TokenizerFixtures.tokenizer("llama")
        #expect(gemma.specialTokens.eos == 1)
        #expect(gemma.specialTokens.bos == 2)
        #expect(gemma.specialTokens.pad == 0)
        #expect(PromptTemplate.gemma.stopConditions(tokenizer: gemma).tokenIDs == [1, 6])
        #expect(PromptTemplate.llava15.stopConditions(tokenizer: llama).tokenIDs == [2])
        #expect(PromptTemplate.raw.stopConditions(tokenizer: gemma).tokenIDs == [1])
        let stops = StopConditions(tokenIDs: [2], strings: ["USER:", "\n\n"]).adding(tokenIDs: [7])
        #expect(stops.isStopToken(7) && stops.isStopToken(2) && !stops.isStopToken(3))
        #expect(stops.truncatedAtStopString("A cat.\n\nUSER: more") == "A cat.")
        #expect(stops.truncatedAtStopString("A cat. USER: x\n\n") == "A cat. ")
        #expect(stops.truncatedAtStopString("A cat.") == nil)
    }
}
