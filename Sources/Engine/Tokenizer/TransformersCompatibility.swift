/// Whose behaviour a loaded tokenizer reproduces.
///
/// The two differ for Llama tokenizers: `transformers` 5 does not run `tokenizer.json`'s
/// normalizer and pre-tokenizer but rebuilds them in its tokenizer class from
/// `tokenizer_config.json`, so (for example) llava-hf's LLaVA-1.5 tokenizer gets no `▁` before the
/// `\n` that follows `<image>` under `transformers`, and does get one under `tokenizers`.
public enum TokenizerCompatibility: String, Sendable, CaseIterable {
    /// Exactly `tokenizers.Tokenizer.from_file("tokenizer.json")`.
    case tokenizers
    /// What `transformers.AutoTokenizer.from_pretrained(folder)` (5.x) does: the `LlamaTokenizer`
    /// and `GemmaTokenizer` classes (named by `tokenizer_class`) rebuild normalizer,
    /// pre-tokenizer and decoder; `add_bos_token` / `add_eos_token` rebuild the post-processor.
    case transformers
}

/// The `tokenizer_config.json` settings `transformers`' tokenizer classes act on.
struct TransformersSettings {
    enum TokenizerClass { case llama, gemma, other }

    let tokenizerClass: TokenizerClass
    /// `legacy` (transformers' default false): prepend `▁` to every piece, not only the first.
    let legacy: Bool
    /// `add_prefix_space` (default true).
    let addPrefixSpace: Bool
    /// `add_bos_token` / `add_eos_token`, nil where the config does not say.
    let addBOS: Bool?
    let addEOS: Bool?
    let bosToken: String?
    let eosToken: String?

    init(config: ConfigNode?, names: SpecialTokenNames) throws {
        switch try config?.optionalString("tokenizer_class") {
        case "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast":
            tokenizerClass = .llama
        case "GemmaTokenizer", "GemmaTokenizerFast":
            tokenizerClass = .gemma
        default:
            tokenizerClass = .other
        }
        legacy = try config?.optional("legacy")?.bool() ?? false
        addPrefixSpace = try config?.optional("add_prefix_space")?.bool() ?? true
        addBOS = try config?.optional("add_bos_token")?.bool()
        addEOS = try config?.optional("add_eos_token")?.bool()
        bosToken = names.bos
        eosToken = names.eos
    }

    /// The pipeline the tokenizer class builds in its initialiser (vocabulary and merges stay the file's).
    func rebuild(normalizer: inout (any TextNormalizer)?, preTokenizer: inout (any PreTokenizer)?,
                 decoder: inout (any TokenDecoder)?, model: inout BPEModel, unknownID: Int?) {
        let markerToSpace = ReplaceDecoder(pattern: TextPattern(literal: "▁"), content: [0x20])
        switch tokenizerClass {
        case .llama:
            normalizer = nil
            let scheme: MetaspacePreTokenizer.PrependScheme = addPrefixSpace ? (legacy ? .always : .first) : .never
            preTokenizer = MetaspacePreTokenizer(prependScheme: scheme, split: false)
            var stages: [any TokenDecoder] = [markerToSpace, ByteFallbackDecoder(), FuseDecoder()]
            if addPrefixSpace { stages.append(StripDecoder(content: " ", start: 1, stop: 0)) }
            decoder = DecoderSequence(stages: stages)
            // LlamaTokenizer builds its BPE without an unknown token.
            model.unknownID = nil
            model.fuseUnknown = true
            model.byteFallback = true
            model.ignoreMerges = false
        case .gemma:
            normalizer = ReplaceNormalizer(pattern: TextPattern(literal: " "), content: UTF8Bytes.of("▁"))
            preTokenizer = SplitPreTokenizer(pattern: TextPattern(literal: " "), behavior: .mergedWithPrevious,
                                             invert: false)
            decoder = DecoderSequence(stages: [markerToSpace, ByteFallbackDecoder(), FuseDecoder()])
            model.unknownID = unknownID
            model.fuseUnknown = true
            model.byteFallback = true
            model.ignoreMerges = false
        case .other:
            break
        }
    }

    /// The template `update_post_processor` writes when the config names `add_bos_token` or
    /// `add_eos_token` (or the file has no post-processor); nil to keep the file's.
    func postProcessor(bos: Int?, eos: Int?, fileHasPostProcessor: Bool) -> (any PostProcessor)? {
        guard addBOS != nil || addEOS != nil || !fileHasPostProcessor else { return nil }
        var single: [TemplateProcessor.Piece] = []
        if addBOS == true, bosToken != nil, let bos { single.append(.ids([bos])) }
        single.append(.sequence)
        if addEOS == true, eosToken != nil, let eos { single.append(.ids([eos])) }
        return TemplateProcessor(single: single)
    }
}
