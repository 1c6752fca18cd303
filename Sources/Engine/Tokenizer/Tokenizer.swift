import Foundation

/// A Hugging Face fast tokenizer loaded from `tokenizer.json`, encoding and decoding exactly as
/// the `tokenizers` library (0.23) does.
///
/// The stages mirror the file's sections: added tokens are cut out first, then each remaining
/// piece goes through `normalizer`, `pre_tokenizer` and `model`; `post_processor` adds special
/// tokens; `decoder` turns ids back into text. Each stage is built by a throwing factory, so an
/// unsupported `type` is reported with the file and section instead of being ignored.
public struct Tokenizer: Sendable {
    let normalizer: (any TextNormalizer)?
    let preTokenizer: (any PreTokenizer)?
    let model: BPEModel
    let postProcessor: (any PostProcessor)?
    let decoder: (any TokenDecoder)?
    let addedVocabulary: AddedVocabulary

    /// BOS, EOS, PAD and UNK as `tokenizer_config.json` / `special_tokens_map.json` name them.
    public let specialTokens: SpecialTokens
    /// Whose behaviour this tokenizer reproduces (part of what determines the ids: content keys
    /// that cover the tokenizer should include it).
    public let compatibility: TokenizerCompatibility
    /// The `added_tokens` of `tokenizer.json`, in file order.
    public var addedTokens: [AddedToken] { addedVocabulary.tokens }

    /// The file names looked for in a model folder.
    public static let tokenizerFileName = "tokenizer.json"
    public static let configFileName = "tokenizer_config.json"
    public static let specialTokensMapFileName = "special_tokens_map.json"

    /// Loads `tokenizer.json` from a model folder, with `tokenizer_config.json` and
    /// `special_tokens_map.json` when present.
    ///
    /// `compatibility` chooses whose behaviour to reproduce: the file as `tokenizers` runs it
    /// (the default), or what `transformers.AutoTokenizer` makes of the folder.
    public init(directory: URL, compatibility: TokenizerCompatibility = .tokenizers) throws {
        let config = directory.appendingPathComponent(Self.configFileName)
        let map = directory.appendingPathComponent(Self.specialTokensMapFileName)
        let fileManager = FileManager.default
        try self.init(
            tokenizerFile: directory.appendingPathComponent(Self.tokenizerFileName),
            configFile: fileManager.fileExists(atPath: config.path) ? config : nil,
            specialTokensMapFile: fileManager.fileExists(atPath: map.path) ? map : nil,
            compatibility: compatibility)
    }

    /// Loads a `tokenizer.json` file and, optionally, the files naming its special tokens.
    public init(tokenizerFile: URL, configFile: URL? = nil, specialTokensMapFile: URL? = nil,
                compatibility: TokenizerCompatibility = .tokenizers) throws {
        let root = try Self.readJSON(tokenizerFile)
        let configRoot = try configFile.map(Self.readJSON)
        let mapRoot = try specialTokensMapFile.map(Self.readJSON)
        try self.init(tokenizerJSON: root, config: configRoot, specialTokensMap: mapRoot, compatibility: compatibility)
    }

    /// Loads a tokenizer from the contents of `tokenizer.json`; `name` stands for the file in errors.
    public init(tokenizerJSON data: Data, name: String = "tokenizer.json") throws {
        let value = try JSONValue.parse(data, path: name)
        try self.init(tokenizerJSON: ConfigNode(value: value, file: name, location: ""), config: nil,
                      specialTokensMap: nil, compatibility: .tokenizers)
    }

    init(tokenizerJSON root: ConfigNode, config: ConfigNode?, specialTokensMap: ConfigNode?,
         compatibility: TokenizerCompatibility) throws {
        guard case .object = root.value else { throw root.invalid("a JSON object at the top level") }
        var normalizer = try root.optional("normalizer").map(NormalizerFactory.make)
        var preTokenizer = try root.optional("pre_tokenizer").map(PreTokenizerFactory.make)
        var postProcessor = try root.optional("post_processor").map(PostProcessorFactory.make)
        var decoder = try root.optional("decoder").map(DecoderFactory.make)

        let modelNode = try root.required("model")
        // Old files omit the model's `type`; a vocabulary with merges is BPE.
        let modelType = try modelNode.optionalString("type") ?? (modelNode.optional("merges") != nil ? "BPE" : "")
        guard modelType == "BPE" else {
            throw modelNode.unsupported(modelType.isEmpty ? "(none)" : modelType, section: "model", supported: ["BPE"])
        }
        var model = try BPEModel(modelNode)

        var added: [AddedToken] = []
        for entry in try root.optional("added_tokens")?.array() ?? [] {
            added.append(AddedToken(
                id: try entry.int("id"), content: try entry.string("content"),
                special: try entry.bool("special", default: false),
                singleWord: try entry.bool("single_word", default: false),
                leftStrip: try entry.bool("lstrip", default: false),
                rightStrip: try entry.bool("rstrip", default: false),
                normalized: try entry.bool("normalized", default: true)))
        }

        var names = SpecialTokenNames()
        if let specialTokensMap { try names.read(specialTokensMap) }
        if let config { try names.read(config) }
        let bpe = model
        let lookup = { (name: String?) -> Int? in
            guard let name else { return nil }
            return added.first(where: { UTF8Bytes.of($0.content) == UTF8Bytes.of(name) })?.id
                ?? bpe.id(of: UTF8Bytes.of(name))
        }

        if compatibility == .transformers {
            let settings = try TransformersSettings(config: config, names: names)
            settings.rebuild(normalizer: &normalizer, preTokenizer: &preTokenizer, decoder: &decoder, model: &model,
                             unknownID: lookup(names.unk))
            if let template = settings.postProcessor(bos: lookup(names.bos), eos: lookup(names.eos),
                                                     fileHasPostProcessor: postProcessor != nil) {
                postProcessor = template
            }
        }
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.model = model
        self.compatibility = compatibility
        addedVocabulary = AddedVocabulary(tokens: added, normalizer: normalizer)
        specialTokens = SpecialTokens(
            bos: lookup(names.bos), eos: lookup(names.eos), pad: lookup(names.pad), unk: lookup(names.unk),
            bosToken: names.bos, eosToken: names.eos, padToken: names.pad, unkToken: names.unk)
    }

    static func readJSON(_ url: URL) throws -> ConfigNode {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError.missingFile(path: url.path)
        }
        return ConfigNode(value: try JSONValue.parse(data, path: url.path), file: url.path, location: "")
    }

    // MARK: Encoding

    /// The token ids of `text`; with `addSpecialTokens` the post-processor adds BOS (and whatever
    /// else its template says), as `Tokenizer.encode(text, add_special_tokens=…)` does.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        let ids = encodePiece(text, startsInput: true)
        return addSpecialTokens ? postProcess(ids) : ids
    }

    /// Adds the post-processor's special tokens around already encoded ids.
    public func postProcess(_ ids: [Int]) -> [Int] {
        postProcessWithOffset(ids).ids
    }

    /// Adds the post-processor's special tokens and says where the original ids now start.
    func postProcessWithOffset(_ ids: [Int]) -> (ids: [Int], sequenceStart: Int) {
        postProcessor?.process(ids) ?? (ids, 0)
    }

    /// Encodes text without special tokens; `startsInput: false` treats it as the continuation of
    /// an input cut at an added token (what `encode` does with the text after `<image>`).
    func encodePiece(_ text: String, startsInput: Bool) -> [Int] {
        var ids: [Int] = []
        let input = TextSegment(bytes: UTF8Bytes.of(text), startsInput: startsInput)
        for split in addedVocabulary.rawMatcher.split(input) {
            switch split {
            case .token(let id):
                ids.append(id)
            case .text(let piece):
                var normalized = piece
                if let normalizer { normalized.bytes = normalizer.normalize(piece.bytes) }
                for inner in addedVocabulary.normalizedMatcher.split(normalized) {
                    switch inner {
                    case .token(let id):
                        ids.append(id)
                    case .text(let words):
                        for word in preTokenizer?.split(words) ?? [words] {
                            ids.append(contentsOf: model.tokenize(word.bytes))
                        }
                    }
                }
            }
        }
        return ids
    }

    // MARK: Decoding

    /// The text of `ids`; unknown ids are skipped, and with `skipSpecialTokens` so are special
    /// added tokens, as `Tokenizer.decode(ids, skip_special_tokens=…)` does.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = token(for: id) else { continue }
            if skipSpecialTokens, addedVocabulary.isSpecial(token) { continue }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }

    // MARK: Vocabulary

    /// The token string of an id (added tokens first, then the model's vocabulary).
    public func token(for id: Int) -> String? {
        addedVocabulary.contentByID[id] ?? model.tokens[id]
    }

    /// The id of a token string (an added token's content or a vocabulary entry), compared byte for byte.
    public func tokenID(for token: String) -> Int? {
        let bytes = UTF8Bytes.of(token)
        return addedVocabulary.tokens.first(where: { UTF8Bytes.of($0.content) == bytes })?.id ?? model.id(of: bytes)
    }

    /// One more than the largest id (model vocabulary and added tokens).
    public var vocabularySize: Int {
        max(model.tokens.keys.max() ?? -1, addedVocabulary.tokens.map(\.id).max() ?? -1) + 1
    }
}

/// The ids of the tokens with a role (nil when the files name none or the vocabulary lacks it).
public struct SpecialTokens: Sendable, Equatable {
    public var bos: Int?
    public var eos: Int?
    public var pad: Int?
    public var unk: Int?
    public var bosToken: String?
    public var eosToken: String?
    public var padToken: String?
    public var unkToken: String?
}

/// Role names read from `special_tokens_map.json` and `tokenizer_config.json` (later files win).
struct SpecialTokenNames {
    var bos: String?
    var eos: String?
    var pad: String?
    var unk: String?

    mutating func read(_ root: ConfigNode) throws {
        guard case .object = root.value else { throw root.invalid("a JSON object at the top level") }
        bos = try Self.name(root, "bos_token") ?? bos
        eos = try Self.name(root, "eos_token") ?? eos
        pad = try Self.name(root, "pad_token") ?? pad
        unk = try Self.name(root, "unk_token") ?? unk
    }

    /// A token named either as a string or as `{"content": …}`.
    static func name(_ root: ConfigNode, _ key: String) throws -> String? {
        guard let node = root.optional(key) else { return nil }
        if case .string(let text) = node.value { return text }
        if case .object = node.value { return try node.string("content") }
        throw node.invalid("a token string or {\"content\": …}")
    }
}
