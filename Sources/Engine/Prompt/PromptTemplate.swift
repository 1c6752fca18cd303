/// A chat format: how a question (and an image placeholder) is wrapped into the text a model was
/// trained on, how it becomes token ids, and when generation stops.
///
/// The raw value is the stable name used in specs, on the command line and in content keys.
public enum PromptTemplate: String, CaseIterable, Sendable {
    /// llava-hf LLaVA-1.5: `USER: <image>\n{prompt} ASSISTANT:`; the tokenizer adds `<s>`.
    case llava15 = "llava-1.5"
    /// LLaVA-Gemma (a Gemma chat turn):
    /// `<bos><start_of_turn>user\n<image>\n{prompt}<end_of_turn>\n<start_of_turn>model\n`.
    case gemma
    /// The prompt as given (after `<image>\n` when there is an image and the prompt names no
    /// placeholder itself); the tokenizer's post-processor adds its special tokens.
    case raw

    /// The placeholder that stands for one image in rendered text.
    public static let imagePlaceholder = "<image>"

    /// The template a checkpoint uses by default, from its text model's `model_type`.
    public static func defaultTemplate(textModelType: String) -> PromptTemplate {
        switch textModelType {
        case "gemma", "gemma2", "gemma3", "gemma3_text": return .gemma
        case "llama": return .llava15
        default: return .raw
        }
    }

    /// The template text with `{prompt}` standing for the question.
    public func pattern(withImage: Bool) -> String {
        switch (self, withImage) {
        case (.llava15, true): return "USER: <image>\n{prompt} ASSISTANT:"
        case (.llava15, false): return "USER: {prompt} ASSISTANT:"
        case (.gemma, true): return "<bos><start_of_turn>user\n<image>\n{prompt}<end_of_turn>\n<start_of_turn>model\n"
        case (.gemma, false): return "<bos><start_of_turn>user\n{prompt}<end_of_turn>\n<start_of_turn>model\n"
        case (.raw, true): return "<image>\n{prompt}"
        case (.raw, false): return "{prompt}"
        }
    }

    /// Whether the tokenizer's post-processor adds its special tokens (BOS). The Gemma turn
    /// spells `<bos>` itself, so adding it again would double it.
    public var addsSpecialTokens: Bool { self != .gemma }

    /// The prompt text. A `raw` prompt that already contains `<image>` gets no extra placeholder.
    public func render(prompt: String, withImage: Bool) -> String {
        var pattern = pattern(withImage: withImage)
        if self == .raw, withImage, prompt.utf8.contains(Self.imagePlaceholder.utf8) { pattern = "{prompt}" }
        return UTF8Bytes.string(UTF8Bytes.replacingAll(Array("{prompt}".utf8), with: Array(prompt.utf8),
                                                       in: Array(pattern.utf8)))
    }

    /// The prompt's token ids, each `<image>` placeholder becoming one `imageTokenID`.
    ///
    /// The text between placeholders is encoded piece by piece exactly as `tokenizers` encodes
    /// the whole text when `<image>` is an added (non-normalized) token, as in llava-hf and
    /// LLaVA-Gemma tokenizers: added tokens cut the text before normalization, so each piece is
    /// normalized on its own. Cutting here as well makes the ids independent of whether the
    /// tokenizer knows `<image>`, and of the id it gives it.
    public func encode(prompt: String, withImage: Bool, tokenizer: Tokenizer, imageTokenID: Int) -> PromptTokens {
        PromptTokens.encode(render(prompt: prompt, withImage: withImage), tokenizer: tokenizer,
                            imageTokenID: imageTokenID, addSpecialTokens: addsSpecialTokens)
    }

    /// When generation stops: the tokenizer's EOS, and `<end_of_turn>` for Gemma turns.
    public func stopConditions(tokenizer: Tokenizer) -> StopConditions {
        var ids = Set<Int>()
        if let eos = tokenizer.specialTokens.eos { ids.insert(eos) }
        if self == .gemma, let endOfTurn = tokenizer.tokenID(for: "<end_of_turn>") { ids.insert(endOfTurn) }
        return StopConditions(tokenIDs: ids)
    }
}

/// A prompt's token ids with the positions of its image tokens.
///
/// `imagePrefix` is everything up to and including the last image token (BOS, the template's
/// opening, the image); `question` is the rest (the text after the placeholder, from its first
/// token through the template's closing, such as ` ASSISTANT:`). For llava-1.5 with a Llama
/// tokenizer the first question token is `▁` under `tokenizers` semantics (the legacy
/// `Prepend("▁")` normalizer) and `<0x0A>` under `transformers` (see `TokenizerCompatibility`).
/// Because added tokens cut the text before normalization, the prefix ids do not depend on the
/// question: the `prefix` KV regime can prefill them once per image and continue with each question.
public struct PromptTokens: Sendable, Equatable {
    /// All ids of the prompt, one `imageTokenID` per placeholder (before image-feature expansion).
    public let ids: [Int]
    /// Indices into `ids` of the image tokens, ascending.
    public let imagePositions: [Int]

    public init(ids: [Int], imagePositions: [Int]) {
        self.ids = ids
        self.imagePositions = imagePositions
    }

    /// Number of ids up to and including the last image token; nil without an image.
    public var imagePrefixLength: Int? { imagePositions.last.map { $0 + 1 } }

    /// The ids through the last image token (empty without an image).
    public var imagePrefix: ArraySlice<Int> { ids[..<(imagePrefixLength ?? 0)] }

    /// The ids after the last image token (all ids without an image).
    public var question: ArraySlice<Int> { ids[(imagePrefixLength ?? 0)...] }

    /// Encodes rendered prompt text, mapping every `<image>` to `imageTokenID`.
    public static func encode(_ text: String, tokenizer: Tokenizer, imageTokenID: Int,
                              addSpecialTokens: Bool) -> PromptTokens {
        let bytes = Array(text.utf8)
        let placeholder = Array(PromptTemplate.imagePlaceholder.utf8)
        var ids: [Int] = []
        var positions: [Int] = []
        var pieceStart = 0
        for hit in UTF8Bytes.occurrences(of: placeholder, in: bytes) + [bytes.count] {
            let piece = UTF8Bytes.string(bytes[pieceStart..<hit])
            ids += tokenizer.encodePiece(piece, startsInput: pieceStart == 0)
            if hit < bytes.count {
                positions.append(ids.count)
                ids.append(imageTokenID)
            }
            pieceStart = hit + placeholder.count
        }
        guard addSpecialTokens else { return PromptTokens(ids: ids, imagePositions: positions) }
        let processed = tokenizer.postProcessWithOffset(ids)
        return PromptTokens(ids: processed.ids, imagePositions: positions.map { $0 + processed.sequenceStart })
    }
}

/// When to end generation: on any of `tokenIDs`, or once the generated text contains a stop string.
public struct StopConditions: Sendable, Equatable {
    public var tokenIDs: Set<Int>
    public var strings: [String]

    public init(tokenIDs: Set<Int> = [], strings: [String] = []) {
        self.tokenIDs = tokenIDs
        self.strings = strings
    }

    /// Whether generating `token` ends the answer (the stop token itself is not part of the text).
    public func isStopToken(_ token: Int) -> Bool { tokenIDs.contains(token) }

    /// The generated text cut before the earliest stop string, or nil when none occurs.
    /// Compared byte for byte, so a stop string matches exactly what was written.
    public func truncatedAtStopString(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        var earliest: Int?
        for string in strings where !string.isEmpty {
            if let hit = UTF8Bytes.occurrences(of: Array(string.utf8), in: bytes).first, hit < (earliest ?? .max) {
                earliest = hit
            }
        }
        return earliest.map { UTF8Bytes.string(bytes[..<$0]) }
    }

    /// These conditions plus more stop tokens (such as `generation_config.json`'s `eos_token_id`).
    public func adding(tokenIDs more: some Sequence<Int>) -> StopConditions {
        StopConditions(tokenIDs: tokenIDs.union(more), strings: strings)
    }
}
