import Planning
import SpecLanguage
import Testing

/// Both bug classes of DESIGN.md "Content keys": a key that misses an input (serves stale
/// results) and a key that includes an irrelevant one (loses sharing).
@Suite struct KeySensitivityTests {
    let keys = JobKeys(numerics: 1, metrics: 1)
    let weights = ContentKey(.string("weights"))
    let tokenizer = ContentKey(.string("tokenizer"))
    let preprocessor = ContentKey(.string("preprocessor"))
    let picture = ContentKey(.string("image"))

    // MARK: Direct recipes: every input changes the key.

    @Test func visionKeyChangesWithEachInput() throws {
        let base = keys.visionEncoding(visionWeights: weights, preprocessor: preprocessor, preprocessing: .pad, image: picture)
        let variants = [
            keys.visionEncoding(visionWeights: ContentKey(.string("other")), preprocessor: preprocessor, preprocessing: .pad, image: picture),
            keys.visionEncoding(visionWeights: weights, preprocessor: ContentKey(.string("other")), preprocessing: .pad, image: picture),
            keys.visionEncoding(visionWeights: weights, preprocessor: preprocessor, preprocessing: .resize, image: picture),
            keys.visionEncoding(visionWeights: weights, preprocessor: preprocessor, preprocessing: .pad, image: ContentKey(.string("other"))),
            JobKeys(numerics: 2, metrics: 1).visionEncoding(visionWeights: weights, preprocessor: preprocessor, preprocessing: .pad, image: picture),
        ]
        #expect(Set(variants + [base]).count == variants.count + 1)
    }

    @Test func prefillKeyChangesWithEachInput() throws {
        let vision = ContentKey(.string("vision"))
        let kv = KVCacheQuantization(method: .uniform(scope: .perTensor), bits: 4, regime: .attention)
        let base = keys.prefill(languageWeights: weights, tokenizer: tokenizer, prompt: "p", vision: vision, kv: nil)
        let variants = [
            keys.prefill(languageWeights: preprocessor, tokenizer: tokenizer, prompt: "p", vision: vision, kv: nil),
            keys.prefill(languageWeights: weights, tokenizer: preprocessor, prompt: "p", vision: vision, kv: nil),
            keys.prefill(languageWeights: weights, tokenizer: tokenizer, prompt: "q", vision: vision, kv: nil),
            keys.prefill(languageWeights: weights, tokenizer: tokenizer, prompt: "p", vision: nil, kv: nil),
            keys.prefill(languageWeights: weights, tokenizer: tokenizer, prompt: "p", vision: vision, kv: kv),
            JobKeys(numerics: 2, metrics: 1).prefill(languageWeights: weights, tokenizer: tokenizer, prompt: "p", vision: vision, kv: nil),
        ]
        #expect(Set(variants + [base]).count == variants.count + 1)
    }

    @Test func decodeAndScoringKeysChangeWithEachInput() throws {
        let prefill = ContentKey(.string("prefill"))
        let settings = keys.decodeSettings(kv: nil, generation: GenerationSettings(maxNewTokens: 8))
        let decodes = [
            keys.decode(prefill: prefill, question: nil, settings: settings),
            keys.decode(prefill: weights, question: nil, settings: settings),
            keys.decode(prefill: prefill, question: "q", settings: settings),
            keys.decode(prefill: prefill, question: nil, settings: keys.decodeSettings(kv: nil, generation: GenerationSettings(maxNewTokens: 9))),
            keys.decode(prefill: prefill, question: nil, settings: keys.decodeSettings(kv: nil, generation: GenerationSettings(maxNewTokens: 8, stop: ["."]))),
            keys.decode(prefill: prefill, question: nil, settings: keys.decodeSettings(
                kv: KVCacheQuantization(method: .group(.groupDefaults), bits: 2), generation: GenerationSettings(maxNewTokens: 8))),
            keys.decode(prefill: prefill, question: nil, settings: JobKeys(numerics: 2, metrics: 1).decodeSettings(kv: nil, generation: GenerationSettings(maxNewTokens: 8))),
        ]
        #expect(Set(decodes).count == decodes.count)
        let scorings = [
            keys.scoring(answer: prefill, references: ["yes"], metrics: [.accuracy]),
            keys.scoring(answer: weights, references: ["yes"], metrics: [.accuracy]),
            keys.scoring(answer: prefill, references: ["no"], metrics: [.accuracy]),
            keys.scoring(answer: prefill, references: ["yes"], metrics: [.f1]),
            JobKeys(numerics: 1, metrics: 2).scoring(answer: prefill, references: ["yes"], metrics: [.accuracy]),
        ]
        #expect(Set(scorings).count == scorings.count)
    }

    @Test func irrelevantOrderDoesNotChangeKeys() throws {
        let settings = { (stop: [String]) in self.keys.decodeSettings(kv: nil, generation: GenerationSettings(maxNewTokens: 8, stop: stop)) }
        #expect(settings(["a", "b"]) == settings(["b", "a", "b"]))
        #expect(keys.scoring(answer: weights, references: [], metrics: [.accuracy, .f1])
            == keys.scoring(answer: weights, references: [], metrics: [.f1, .accuracy]))
        let w1 = WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 128), bits: 4, targets: [.lm, .projector])
        let w2 = WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 128), bits: 4, targets: [.projector, .lm])
        #expect(ContentKey(w1.canonical) == ContentKey(w2.canonical))
    }

    @Test func everyQuantizationParameterChangesTheConfigKey() throws {
        let kvs: [KVCacheQuantization] = [
            KVCacheQuantization(method: .group(.groupDefaults), bits: 2),
            KVCacheQuantization(method: .group(.groupDefaults), bits: 4),
            KVCacheQuantization(method: .group(.groupDefaults), bits: 2, regime: .prefix),
            KVCacheQuantization(method: .group(GroupKVParameters(groupSize: 64, residual: 0)), bits: 2),
            KVCacheQuantization(method: .group(GroupKVParameters(groupSize: 128, residual: 128)), bits: 2),
            KVCacheQuantization(method: .kivi(GroupKVParameters(groupSize: 128, residual: 0)), bits: 2),
            KVCacheQuantization(method: .gear(GEARParameters()), bits: 2),
            KVCacheQuantization(method: .gear(GEARParameters(seed: 1)), bits: 2),
        ]
        #expect(Set(kvs.map { ContentKey($0.canonical) }).count == kvs.count)
        let weights: [WeightQuantization] = [
            WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 128), bits: 4),
            WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 64), bits: 4),
            WeightQuantization(method: .rtn(scope: .perChannel, groupSize: 128), bits: 4),
            WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 128), bits: 8),
            WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 128), bits: 4, targets: [.lm, .lmHead]),
            WeightQuantization(method: .awq(AWQParameters(calibration: "pile")), bits: 4),
            WeightQuantization(method: .awq(AWQParameters(calibration: "coco")), bits: 4),
        ]
        #expect(Set(weights.map { ContentKey($0.canonical) }).count == weights.count)
    }

    // MARK: Through the planner: what must and must not change a job's key.

    @Test func kvConfigDoesNotChangeVisionOrStorePrefillKeys() throws {
        let plans = try kvSweep(.store).map { kv in try planner().plan(cells(kv: [kv])) }
        #expect(Set(plans.map { $0.keys(.visionEncoding) }).count == 1)
        #expect(Set(plans.map { $0.keys(.prefill) }).count == 1)
        #expect(Set(plans.map { $0.keys(.decode) }).count == plans.count)
    }

    @Test func kvConfigDoesNotChangePrefixPrefillKeys() throws {
        let plans = try kvSweep(.prefix).map { kv in try planner().plan(cells(kv: [kv])) }
        #expect(Set(plans.map { $0.keys(.prefixPrefill) }).count == 1)
    }

    @Test func attentionKVChangesThePrefillButNotTheVisionKey() throws {
        let plans = try kvSweep(.attention).map { kv in try planner().plan(cells(kv: [kv])) }
        #expect(Set(plans.map { $0.keys(.visionEncoding) }).count == 1)
        #expect(Set(plans.map { $0.keys(.prefill) }).count == plans.count)
    }

    @Test func namesAndGenerationDoNotChangeUpstreamKeys() throws {
        let kv = [KVCacheQuantization(method: .group(.groupDefaults), bits: 2)]
        let base = try planner().plan(cells(kv: kv))
        var renamedModel = gemmaModel
        renamedModel.name = "another-name"
        let renamed = try planner().plan(cells(model: renamedModel, kv: kv, experiment: "other", specFile: "other.yaml"))
        #expect(Set(base.jobs.map(\.key)) == Set(renamed.jobs.map(\.key)))
        #expect(base.hash == renamed.hash)

        let longer = try planner().plan(cells(kv: kv, generation: GenerationSettings(maxNewTokens: 64)))
        #expect(base.keys(.visionEncoding) == longer.keys(.visionEncoding))
        #expect(base.keys(.prefill) == longer.keys(.prefill))
        #expect(base.keys(.decode).isDisjoint(with: longer.keys(.decode)))
    }

    @Test func promptSuffixChangesPrefillsButNotVisionOrPrefixes() throws {
        let kv = [KVCacheQuantization(method: .group(.groupDefaults), bits: 2, regime: .prefix)]
        let base = try planner().plan(cells(kv: kv))
        let other = try planner().plan(cells(kv: kv, datasets: [dataset("pope", suffix: "Answer yes or no."), dataset("vqa")]))
        #expect(base.keys(.visionEncoding) == other.keys(.visionEncoding))
        #expect(base.keys(.prefixPrefill) == other.keys(.prefixPrefill))
        #expect(base.keys(.decode).subtracting(other.keys(.decode)).count == popeLike.count)
    }

    @Test func modelIdentityChangesEveryJobKey() throws {
        var other = gemmaModel
        other.path = "/models/another-checkpoint"
        let kv = [KVCacheQuantization(method: .group(.groupDefaults), bits: 2)]
        let first = try planner().plan(cells(kv: kv)), second = try planner().plan(cells(model: other, kv: kv))
        #expect(Set(first.jobs.map(\.key)).isDisjoint(with: Set(second.jobs.map(\.key))))
        var resized = gemmaModel
        resized.preprocessing = .resize
        let third = try planner().plan(cells(model: resized, kv: kv))
        #expect(first.keys(.visionEncoding).isDisjoint(with: third.keys(.visionEncoding)))
        var llavaPrompt = gemmaModel
        llavaPrompt.template = .llava15
        let fourth = try planner().plan(cells(model: llavaPrompt, kv: kv))
        #expect(first.keys(.visionEncoding) == fourth.keys(.visionEncoding))
        #expect(first.keys(.prefill).isDisjoint(with: fourth.keys(.prefill)))
    }

    @Test func explicitDTypeEqualToStoredSharesWithAuto() throws {
        // The fixture config stores bfloat16, so `auto` and `bf16` compute the same thing.
        var explicit = gemmaModel
        explicit.dtype = .bf16
        var other = gemmaModel
        other.dtype = .f32
        let kv = [KVCacheQuantization(method: .group(.groupDefaults), bits: 2)]
        let auto = try planner().plan(cells(kv: kv))
        let explicitPlan = try planner().plan(cells(model: explicit, kv: kv))
        let otherPlan = try planner().plan(cells(model: other, kv: kv))
        #expect(auto.hash == explicitPlan.hash)
        #expect(auto.keys(.prefill).isDisjoint(with: otherPlan.keys(.prefill)))
    }
}
