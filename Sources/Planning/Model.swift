import Foundation

/// A model as the planner sees it: where its checkpoint is and how prompts and images are prepared.
public struct ModelDescriptor: Sendable, Hashable {
    /// The spec's name for it (a label; never part of a content key).
    public var name: String
    /// The Hugging Face LLaVA folder.
    public var path: String
    /// The dtype weights are loaded as (`float16`, `bfloat16`, `float32`); it changes numerics.
    public var dtype: String
    public var template: PromptTemplate
    public var preprocessing: ImagePreprocessing

    public init(name: String, path: String, dtype: String = "float16",
                template: PromptTemplate = .llavaGemma, preprocessing: ImagePreprocessing = .padToSquare) {
        self.name = name
        self.path = path
        self.dtype = dtype
        self.template = template
        self.preprocessing = preprocessing
    }
}

/// How an image becomes the vision tower's input (DESIGN.md, reference/models.md).
public enum ImagePreprocessing: String, Sendable, Hashable, CaseIterable {
    /// LLaVA training: pad to square with the mean colour, then resize and crop.
    case padToSquare = "pad"
    /// llava-hf processors: resize the shortest edge, then centre-crop.
    case resize
}

/// A prompt template with `<image>` and `{question}` placeholders.
public struct PromptTemplate: Sendable, Hashable {
    /// The template text.
    public let text: String

    public init(text: String) { self.text = text }

    /// LLaVA-1.5 as llava-hf formats it.
    public static let llava15 = PromptTemplate(text: "USER: <image>\n{question} ASSISTANT:")
    /// LLaVA-Gemma (Gemma-it chat format).
    public static let llavaGemma = PromptTemplate(
        text: "<bos><start_of_turn>user\n<image>\n{question}<end_of_turn>\n<start_of_turn>model\n")

    /// Templates specs may name instead of writing them out.
    public static let named: [String: PromptTemplate] = ["llava-1.5": llava15, "llava-gemma": llavaGemma]

    /// The placeholder one image's embeddings replace.
    public static let imagePlaceholder = "<image>"
    public static let questionPlaceholder = "{question}"

    /// Splits the prompt for one sample into the part through the image and the rest.
    ///
    /// For a text-only sample the image placeholder (and the newline after it) is dropped and the
    /// prefix is the text before the question. This split is what the `prefix` regime shares and
    /// what the engine must prefill in two steps, so the runner uses this function too.
    public func render(userText: String, hasImage: Bool) -> RenderedPrompt {
        let placeholder = Self.imagePlaceholder
        if hasImage, let range = text.range(of: placeholder) {
            let prefix = String(text[..<range.upperBound])
            let rest = String(text[range.upperBound...])
            return RenderedPrompt(prefix: prefix, suffix: Self.fill(rest, userText))
        }
        var withoutImage = text.replacingFirst(placeholder + "\n", with: "")
        withoutImage = withoutImage.replacingFirst(placeholder, with: "")
        if let range = withoutImage.range(of: Self.questionPlaceholder) {
            return RenderedPrompt(prefix: String(withoutImage[..<range.lowerBound]),
                                  suffix: Self.fill(String(withoutImage[range.lowerBound...]), userText))
        }
        return RenderedPrompt(prefix: withoutImage, suffix: userText)
    }

    private static func fill(_ text: String, _ userText: String) -> String {
        text.replacingFirst(questionPlaceholder, with: userText)
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
    /// SHA-256 of preprocessor_config.json (or of its absence).
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
