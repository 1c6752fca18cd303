import Foundation
import SpecLanguage

/// A model as the planner sees it: where its checkpoint is and how prompts and images are prepared.
public struct ModelDescriptor: Sendable, Hashable {
    /// The spec's name for it (a label; never part of a content key).
    public var name: String
    /// The Hugging Face LLaVA folder (resolved).
    public var path: String
    public var dtype: ModelDType
    public var template: PromptTemplate
    public var preprocessing: ImagePreprocessing

    public init(name: String, path: String, dtype: ModelDType = .auto, template: PromptTemplate = .gemma,
                preprocessing: ImagePreprocessing = .pad) {
        self.name = name
        self.path = path
        self.dtype = dtype
        self.template = template
        self.preprocessing = preprocessing
    }

    /// The descriptor of a spec's model definition.
    public init(_ definition: ModelDefinition) {
        self.init(name: definition.name, path: definition.resolvedPath, dtype: definition.dtype,
                  template: definition.template, preprocessing: definition.preprocess)
    }
}

extension PromptTemplate {
    /// The placeholder one image's embeddings replace.
    public static let imagePlaceholder = "<image>"
    /// The placeholder the question (with the dataset's suffix) replaces.
    public static let questionPlaceholder = "{question}"

    /// The system prompt of LLaVA's `llava_v1` conversation.
    public static let llavaV1SystemPrompt = "A chat between a curious human and an artificial intelligence assistant. "
        + "The assistant gives helpful, detailed, and polite answers to the human's questions."

    /// The template's text with its placeholders (reference/models.md, "Prompt templates").
    public var text: String {
        switch self {
        case .llava15: return "USER: <image>\n{question} ASSISTANT:"
        case .llavaV1: return Self.llavaV1SystemPrompt + " USER: <image>\n{question} ASSISTANT:"
        case .gemma: return "<bos><start_of_turn>user\n<image>\n{question}<end_of_turn>\n<start_of_turn>model\n"
        case .custom(let text): return text
        }
    }

    /// Splits the prompt for one sample into the part through the image and the rest.
    ///
    /// For a text-only sample the image placeholder (and the newline after it) is dropped and the
    /// prefix is the text before the question. This split is what the `prefix` regime shares and
    /// what the engine must prefill in two steps, so the runner uses this function too.
    public func render(userText: String, hasImage: Bool) -> RenderedPrompt {
        let text = self.text
        let placeholder = Self.imagePlaceholder
        if hasImage, let range = text.range(of: placeholder) {
            let prefix = String(text[..<range.upperBound])
            let rest = String(text[range.upperBound...])
            return RenderedPrompt(prefix: prefix, suffix: rest.replacingFirst(Self.questionPlaceholder, with: userText))
        }
        let withoutImage = text.replacingFirst(placeholder + "\n", with: "").replacingFirst(placeholder, with: "")
        if let range = withoutImage.range(of: Self.questionPlaceholder) {
            return RenderedPrompt(prefix: String(withoutImage[..<range.lowerBound]),
                                  suffix: String(withoutImage[range.lowerBound...])
                                      .replacingFirst(Self.questionPlaceholder, with: userText))
        }
        return RenderedPrompt(prefix: withoutImage, suffix: userText)
    }
}

/// One sample's prompt, split where the `prefix` regime splits it.
public struct RenderedPrompt: Sendable, Hashable {
    /// The text through the image placeholder (or before the question when there is no image).
    public let prefix: String
    /// The rest: the question and the template's closing text.
    public let suffix: String

    public var full: String { prefix + suffix }
}

/// Content identity of a checkpoint's files, the part of every LM or vision job key that stands
/// for "these weights".
public struct ModelIdentity: Sendable, Hashable {
    /// SHA-256 over config.json and every safetensors file (names and digests).
    public var weights: ContentKey
    /// SHA-256 over the tokenizer files.
    public var tokenizer: ContentKey
    /// SHA-256 over preprocessor_config.json (or of its absence).
    public var preprocessor: ContentKey
    /// True when some files could not be read, so the identity stands for the path rather than
    /// the content; results keyed by it must not be shared with another machine.
    public var isProvisional: Bool

    public init(weights: ContentKey, tokenizer: ContentKey, preprocessor: ContentKey, isProvisional: Bool = false) {
        self.weights = weights
        self.tokenizer = tokenizer
        self.preprocessor = preprocessor
        self.isProvisional = isProvisional
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
