import Planning
import SpecLanguage
import Testing

@Suite struct PromptTests {
    @Test func gemmaSplitsAfterTheImage() throws {
        let prompt = PromptTemplate.gemma.render(userText: "Is there a cat?\nAnswer yes or no.", hasImage: true)
        #expect(prompt.prefix == "<bos><start_of_turn>user\n<image>")
        #expect(prompt.suffix == "\nIs there a cat?\nAnswer yes or no.<end_of_turn>\n<start_of_turn>model\n")
    }

    @Test func llavaTemplates() throws {
        let prompt = PromptTemplate.llava15.render(userText: "What is it?", hasImage: true)
        #expect(prompt.full == "USER: <image>\nWhat is it? ASSISTANT:")
        #expect(prompt.prefix == "USER: <image>")
        let v1 = PromptTemplate.llavaV1.render(userText: "Q", hasImage: true)
        #expect(v1.prefix.hasPrefix("A chat between a curious human"))
        #expect(v1.full.hasSuffix("USER: <image>\nQ ASSISTANT:"))
    }

    @Test func textOnlyDropsThePlaceholder() throws {
        let prompt = PromptTemplate.llava15.render(userText: "What is 2+2?", hasImage: false)
        #expect(prompt.full == "USER: What is 2+2? ASSISTANT:")
        #expect(prompt.prefix == "USER: ")
    }

    @Test func customTemplateWithoutQuestionPlaceholder() throws {
        let prompt = PromptTemplate.custom("<image> describe").render(userText: "extra", hasImage: true)
        #expect(prompt.prefix == "<image>")
        #expect(prompt.suffix == " describe")
    }

    @Test func datasetSuffixGoesOnANewLine() throws {
        let sample = SampleDescriptor(id: "1", image: nil, question: "Q?")
        #expect(dataset("x", suffix: "Short.").userText(for: sample) == "Q?\nShort.")
        #expect(dataset("x", suffix: "").userText(for: sample) == "Q?")
    }
}
