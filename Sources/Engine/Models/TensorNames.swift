/// The one tensor-name layout the models read, and the mapping from every layout transformers has
/// written (the `sanitize` step).
///
/// Canonical names:
/// - `language_model.embed_tokens.weight`, `language_model.layers.N.…`, `language_model.norm.weight`
/// - `lm_head.weight` (absent when tied)
/// - `vision_tower.embeddings.…`, `vision_tower.pre_layrnorm.…`, `vision_tower.encoder.layers.N.…`
/// - `multi_modal_projector.linear_{1,2}.{weight,bias}`
public enum TensorNames {
    /// Maps a stored tensor name to its canonical form.
    ///
    /// - Parameter textOnly: true for plain causal LMs, whose `model.…` prefix is the language model.
    public static func canonical(_ stored: String, textOnly: Bool) -> String {
        var name = stored
        if textOnly {
            if name.hasPrefix("model.") { return "language_model." + name.dropFirst("model.".count) }
            return name
        }
        // transformers 5: model.language_model.*, model.vision_tower.*, model.multi_modal_projector.*
        for part in ["language_model.", "vision_tower.", "multi_modal_projector."] where name.hasPrefix("model." + part) {
            name = String(name.dropFirst("model.".count))
        }
        // transformers 4.x: language_model.model.*, language_model.lm_head.*, vision_tower.vision_model.*
        if name.hasPrefix("language_model.model.") {
            name = "language_model." + name.dropFirst("language_model.model.".count)
        } else if name.hasPrefix("language_model.lm_head.") {
            name = "lm_head." + name.dropFirst("language_model.lm_head.".count)
        } else if name.hasPrefix("vision_tower.vision_model.") {
            name = "vision_tower." + name.dropFirst("vision_tower.vision_model.".count)
        }
        return name
    }
}
