import Engine

// The Engine module declares an enum `Engine`, so `Engine.Model` does not name the module's
// type, and SpecLanguage has its own `PromptTemplate`. This file imports Engine alone.

/// A loaded checkpoint (Engine's `Model`).
typealias EngineModel = Model
/// Engine's prompt ids with image positions.
typealias EnginePromptTokens = PromptTokens
/// Engine's prompt template (what `lcb generate` renders; must agree with Planning's rendering,
/// tested in PromptTemplateAgreementTests).
typealias EnginePromptTemplate = PromptTemplate
