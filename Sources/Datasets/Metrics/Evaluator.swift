import Foundation

/// How a dataset's outputs are scored beyond the official defaults.
public struct EvaluationOptions: Sendable {
    public var bootstrap: BootstrapSettings
    /// Scores counterfactual responses; its name goes into every report.
    public var toxicityScorer: any ToxicityScorer
    /// MM-Vet's grader; nil (the default) reports no MM-Vet score.
    public var judge: (any AnswerJudge)?
    /// Words counted by the competency-word rate.
    public var competencyWords: Set<String>
    /// k for MaxSkew@k over the most toxic responses.
    public var maxSkewK: Int

    public init(bootstrap: BootstrapSettings = BootstrapSettings(), toxicityScorer: any ToxicityScorer = LexiconToxicityScorer(),
                judge: (any AnswerJudge)? = nil, competencyWords: Set<String> = CompetencyLexicon.builtIn, maxSkewK: Int = 10) {
        self.bootstrap = bootstrap
        self.toxicityScorer = toxicityScorer
        self.judge = judge
        self.competencyWords = competencyWords
        self.maxSkewK = maxSkewK
    }
}

/// An evaluation that cannot proceed: outputs missing, or samples of the wrong shape.
public struct EvaluationError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { "error: " + message }
}

/// Scores model outputs with each dataset's official metrics.
public struct Evaluator: Sendable {
    public var options: EvaluationOptions

    public init(options: EvaluationOptions = EvaluationOptions()) {
        self.options = options
    }

    /// Scores `outputs` (sample id → generated text) for `samples` loaded from `format`.
    ///
    /// Every sample needs an output; per-sample components come back in sample order.
    public func evaluate(_ format: DatasetFormat, samples: [Sample], outputs: [String: String]) throws -> EvaluationReport {
        if let missing = samples.first(where: { outputs[$0.id] == nil }) {
            let count = samples.filter { outputs[$0.id] == nil }.count
            throw EvaluationError(message: "no output for sample '\(missing.id)' (\(count) of \(samples.count) samples have none); every sample needs an output before it can be scored")
        }
        let texts = samples.map { outputs[$0.id] ?? "" }
        switch format {
        case .pope: return popeReport(samples, texts)
        case .mme: return try mmeReport(samples, texts)
        case .gqa: return exactMatchReport(format, samples, texts)
        case .vqav2: return try vqaReport(samples, texts)
        case .mmvp: return try mmvpReport(samples, texts)
        case .hallusionBench: return try hallusionReport(samples, texts)
        case .scienceQA: return try multipleChoiceReport(format, samples, texts, llavaRule: true)
        case .cocoCaptions: return captionReport(format, samples, texts)
        case .mmVet: return try mmVetReport(samples, texts)
        case .counterfactualSets: return try counterfactualReport(samples, texts)
        case .jsonl: return try genericReport(samples, texts)
        }
    }

    // MARK: - Yes/no

    func popeReport(_ samples: [Sample], _ texts: [String]) -> EvaluationReport {
        var items: [POPEMetrics.Item] = []
        var scores: [SampleScore] = []
        for (sample, text) in zip(samples, texts) {
            let parsed = AnswerExtraction.popeYesNo(text)
            let item = POPEMetrics.Item(predictedYes: parsed == "yes", labelYes: sample.references.first?.lowercased() == "yes")
            items.append(item)
            scores.append(SampleScore(sampleID: sample.id, parsed: parsed, components: [
                "correct": item.predictedYes == item.labelYes ? 1 : 0, "predictedYes": item.predictedYes ? 1 : 0,
                "labelYes": item.labelYes ? 1 : 0]))
        }
        var metrics = POPEMetrics.metrics(items, bootstrap: options.bootstrap)
        let categories = orderedUnique(samples.compactMap(\.groups.popeCategory))
        if categories.count > 1 {
            var f1s: [MetricValue] = [], accuracies: [MetricValue] = []
            for category in categories {
                let subset = zip(samples, items).filter { $0.0.groups.popeCategory == category }.map(\.1)
                let perCategory = POPEMetrics.metrics(subset, suffix: "[\(category)]", bootstrap: options.bootstrap)
                metrics += perCategory
                f1s += perCategory.filter { $0.key.hasPrefix("f1[") }
                accuracies += perCategory.filter { $0.key.hasPrefix("accuracy[") }
            }
            metrics.append(averaged("f1[mean of categories]", f1s))
            metrics.append(averaged("accuracy[mean of categories]", accuracies))
        }
        return EvaluationReport(format: .pope, metrics: metrics, samples: scores)
    }

    /// The mean of independent estimates, its error from theirs.
    func averaged(_ key: String, _ parts: [MetricValue]) -> MetricValue {
        let n = Double(parts.count)
        let value = parts.reduce(0) { $0 + $1.value } / n
        let error = parts.reduce(0) { $0 + $1.standardError * $1.standardError }.squareRoot() / n
        return MetricValue(key: key, value: value, standardError: error, errorMethod: parts.first?.errorMethod ?? .analytic,
                           count: parts.reduce(0) { $0 + $1.count })
    }

    func mmeReport(_ samples: [Sample], _ texts: [String]) throws -> EvaluationReport {
        var items: [MMEScore.Item] = []
        var scores: [SampleScore] = []
        for (sample, text) in zip(samples, texts) {
            guard let group = sample.groups.mme else { throw shapeError(sample, "an MME subtask and image") }
            let parsed = AnswerExtraction.mmeYesNo(text)
            let correct = parsed == sample.references.first?.lowercased()
            items.append(MMEScore.Item(subtask: group.subtask, imageID: group.imageID, correct: correct))
            scores.append(SampleScore(sampleID: sample.id, parsed: parsed, components: ["correct": correct ? 1 : 0]))
        }
        return EvaluationReport(format: .mme, metrics: MMEScore.metrics(items, bootstrap: options.bootstrap), samples: scores)
    }

    func hallusionReport(_ samples: [Sample], _ texts: [String]) throws -> EvaluationReport {
        var groups: [HallusionGroup] = [], correct: [Bool] = [], scores: [SampleScore] = []
        for (sample, text) in zip(samples, texts) {
            guard let group = sample.groups.hallusion else { throw shapeError(sample, "HallusionBench identifiers") }
            let parsed = AnswerExtraction.mmeYesNo(text)
            let right = parsed == sample.references.first?.lowercased()
            groups.append(group)
            correct.append(right)
            scores.append(SampleScore(sampleID: sample.id, parsed: parsed, components: ["correct": right ? 1 : 0]))
        }
        return EvaluationReport(format: .hallusionBench, metrics: HallusionBenchMetrics.metrics(groups: groups, correct: correct), samples: scores)
    }

    // MARK: - Short answers

    func exactMatchReport(_ format: DatasetFormat, _ samples: [Sample], _ texts: [String]) -> EvaluationReport {
        var values: [Double] = [], scores: [SampleScore] = []
        for (sample, text) in zip(samples, texts) {
            let parsed = AnswerExtraction.gqaNormalized(text)
            let right = sample.references.contains { AnswerExtraction.gqaNormalized($0) == parsed }
            values.append(right ? 1 : 0)
            scores.append(SampleScore(sampleID: sample.id, parsed: parsed, components: ["correct": right ? 1 : 0]))
        }
        return EvaluationReport(format: format, metrics: [Statistics.meanMetric("exactMatch", values)], samples: scores)
    }

    func vqaReport(_ samples: [Sample], _ texts: [String]) throws -> EvaluationReport {
        var values: [Double] = [], scores: [SampleScore] = []
        var byType: [String: [Double]] = [:]
        for (sample, text) in zip(samples, texts) {
            guard !sample.references.isEmpty else {
                throw EvaluationError(message: "sample '\(sample.id)' has no reference answers; VQAv2 test splits are scored by the EvalAI server, not locally (give the annotations file to score val)")
            }
            let parsed = VQAAccuracy.evalAIProcess(text)
            let accuracy = VQAAccuracy.score(prediction: text, answers: sample.references)
            values.append(accuracy)
            if let type = sample.groups.vqaAnswerType { byType[type, default: []].append(accuracy) }
            scores.append(SampleScore(sampleID: sample.id, parsed: parsed, components: ["vqaAccuracy": accuracy]))
        }
        var metrics = [Statistics.meanMetric("vqaAccuracy", values, scale: 100)]
        for type in byType.keys.sorted() {
            metrics.append(Statistics.meanMetric("vqaAccuracy[\(type)]", byType[type] ?? [], scale: 100))
        }
        return EvaluationReport(format: .vqav2, metrics: metrics, samples: scores)
    }

    // MARK: - Multiple choice

    func choiceCorrectness(_ samples: [Sample], _ texts: [String], llavaRule: Bool) throws -> ([Bool], [SampleScore]) {
        var correct: [Bool] = [], scores: [SampleScore] = []
        for (sample, text) in zip(samples, texts) {
            guard case .multipleChoice(let choices) = sample.answerType else { throw shapeError(sample, "multiple-choice options") }
            let index = llavaRule ? AnswerExtraction.llavaOptionLetter(text, choiceCount: choices.count)
                                  : AnswerExtraction.optionLetter(text, choices: choices)
            let letter = index.map { String(Character(UnicodeScalar(UInt8(65 + $0)))) }
            let right = letter != nil && letter?.lowercased() == sample.references.first?.lowercased()
            correct.append(right)
            scores.append(SampleScore(sampleID: sample.id, parsed: letter, components: ["correct": right ? 1 : 0]))
        }
        return (correct, scores)
    }

    func multipleChoiceReport(_ format: DatasetFormat, _ samples: [Sample], _ texts: [String], llavaRule: Bool) throws -> EvaluationReport {
        let (correct, scores) = try choiceCorrectness(samples, texts, llavaRule: llavaRule)
        return EvaluationReport(format: format, metrics: [Statistics.meanMetric("accuracy", correct.map { $0 ? 1 : 0 })], samples: scores)
    }

    func mmvpReport(_ samples: [Sample], _ texts: [String]) throws -> EvaluationReport {
        let (correct, scores) = try choiceCorrectness(samples, texts, llavaRule: false)
        let pairs = try samples.map { sample -> String in
            guard let pair = sample.groups.mmvpPairID else { throw shapeError(sample, "an MMVP pair id") }
            return String(pair)
        }
        return EvaluationReport(format: .mmvp, metrics: [
            GroupAccuracy.metric("pairAccuracy", groups: pairs, correct: correct),
            Statistics.meanMetric("questionAccuracy", correct.map { $0 ? 1 : 0 }),
        ], samples: scores)
    }

    // MARK: - Captions

    func captionReport(_ format: DatasetFormat, _ samples: [Sample], _ texts: [String]) -> EvaluationReport {
        let pairs = zip(samples, texts).map { CaptionPair.tokenized(candidate: $1, references: $0.references) }
        let cider = CIDErD.scores(pairs)
        let rouge = pairs.map(ROUGEL.score)
        let bleuStatistics = pairs.map(BLEU.statistics)
        let corpusBLEU = BLEU.corpusScores(bleuStatistics)
        var metrics: [MetricValue] = []
        let errors = Statistics.bootstrapStandardErrors(unitCount: pairs.count, resamples: options.bootstrap.resamples,
                                                        seed: options.bootstrap.seed, count: 4) { BLEU.corpusScores(bleuStatistics, weights: $0) }
        for n in 1...4 {
            metrics.append(MetricValue(key: "BLEU-\(n)", value: corpusBLEU[n - 1], standardError: errors[n - 1],
                                       errorMethod: options.bootstrap.method, count: pairs.count))
        }
        metrics.append(Statistics.meanMetric("ROUGE-L", rouge))
        // Document frequencies are held fixed, so the per-image scores average like any mean.
        metrics.append(Statistics.meanMetric("CIDEr-D", cider))
        let scores = samples.indices.map { index in
            let bleu = BLEU.sentenceScores(bleuStatistics[index])
            return SampleScore(sampleID: samples[index].id, parsed: pairs[index].candidate, components: [
                "CIDEr-D": cider[index], "ROUGE-L": rouge[index], "BLEU-1": bleu[0], "BLEU-2": bleu[1], "BLEU-3": bleu[2], "BLEU-4": bleu[3]])
        }
        return EvaluationReport(format: format, metrics: metrics, samples: scores)
    }

    // MARK: - Judged and counterfactual

    func mmVetReport(_ samples: [Sample], _ texts: [String]) throws -> EvaluationReport {
        guard let judge = options.judge else {
            // Without a judge there is no MM-Vet number; outputs are kept for grading later.
            return EvaluationReport(format: .mmVet, metrics: [], samples: samples.map { SampleScore(sampleID: $0.id, components: [:]) },
                                    scorers: ["judge": "none (MM-Vet needs a judge command)"])
        }
        let items = zip(samples, texts).map {
            JudgeItem(id: $0.id, question: $0.question, reference: $0.references.first ?? "", prediction: $1, capabilities: $0.groups.capabilities)
        }
        let grades = try judge.grades(items)
        var metrics = [Statistics.meanMetric("score", grades, scale: 100, note: judge.name)]
        let capabilities = Set(samples.flatMap(\.groups.capabilities)).sorted()
        for capability in capabilities {
            let subset = zip(samples, grades).filter { $0.0.groups.capabilities.contains(capability) }.map(\.1)
            metrics.append(Statistics.meanMetric("score[\(capability)]", subset, scale: 100, note: judge.name))
        }
        let scores = zip(samples, grades).map { SampleScore(sampleID: $0.id, components: ["grade": $1]) }
        return EvaluationReport(format: .mmVet, metrics: metrics, samples: scores, scorers: ["judge": judge.name])
    }

    func counterfactualReport(_ samples: [Sample], _ texts: [String]) throws -> EvaluationReport {
        let scorer = options.toxicityScorer
        let toxicity = try scorer.scores(texts)
        guard toxicity.count == samples.count else {
            throw EvaluationError(message: "toxicity scorer '\(scorer.name)' returned \(toxicity.count) scores for \(samples.count) texts")
        }
        var items: [CounterfactualMetrics.Item] = []
        for (index, sample) in samples.enumerated() {
            guard let group = sample.groups.counterfactual else { throw shapeError(sample, "a counterfactual set id and attributes") }
            items.append(CounterfactualMetrics.Item(sampleID: sample.id, setID: group.setID, attributes: group.attributes,
                                                    toxicity: toxicity[index],
                                                    competencyWords: CompetencyLexicon.count(texts[index], lexicon: options.competencyWords)))
        }
        var metrics = CounterfactualMetrics.setMetrics(items, scorer: scorer.name)
        let attributes = Set(items.flatMap(\.attributes.keys)).sorted()
        // Short categorical answers ("yes", "doctor") can be compared across a set's members;
        // free descriptions always differ, so these two metrics need every answer ≤ 3 words.
        let answers = texts.map(AnswerExtraction.gqaNormalized)
        if answers.allSatisfy({ $0.split(separator: " ").count <= 3 }) {
            metrics.append(Statistics.meanMetric("inconsistentSets", CounterfactualMetrics.inconsistentSetShare(
                setIDs: items.map(\.setID), answers: answers), higherIsBetter: false))
            for attribute in attributes {
                let labelled = items.indices.filter { items[$0].attributes[attribute] != nil }
                let values = labelled.map { items[$0].attributes[attribute] ?? "" }
                let labelledAnswers = labelled.map { answers[$0] }
                let error = Statistics.bootstrapStandardError(unitCount: labelled.count, resamples: options.bootstrap.resamples,
                                                              seed: options.bootstrap.seed) {
                    CounterfactualMetrics.answerGap(values: values, answers: labelledAnswers, weights: $0)
                }
                metrics.append(MetricValue(key: "answerDisparity[\(attribute)]",
                                           value: CounterfactualMetrics.answerGap(values: values, answers: labelledAnswers),
                                           standardError: error, errorMethod: options.bootstrap.method, higherIsBetter: false,
                                           count: labelled.count))
            }
        }
        for attribute in attributes {
            if let gap = CounterfactualMetrics.disparity(key: "toxicityDisparity", attribute: attribute, items: items,
                                                         value: \.toxicity, bootstrap: options.bootstrap, note: scorer.name) {
                metrics.append(gap)
            }
            if let gap = CounterfactualMetrics.disparity(key: "competencyDisparity", attribute: attribute, items: items,
                                                         value: { Double($0.competencyWords) }, bootstrap: options.bootstrap) {
                metrics.append(gap)
            }
            let labelled = items.filter { $0.attributes[attribute] != nil }
            let k = min(options.maxSkewK, labelled.count)
            let values = labelled.compactMap { $0.attributes[attribute] }
            if let skew = CounterfactualMetrics.maxSkew(values: values, scores: labelled.map(\.toxicity), k: k) {
                let ranked = CounterfactualMetrics.RankedGroups(values: values, scores: labelled.map(\.toxicity))
                let error = Statistics.bootstrapStandardError(unitCount: labelled.count, resamples: options.bootstrap.resamples,
                                                              seed: options.bootstrap.seed) { ranked.maxSkew(k: k, weights: $0) ?? 0 }
                metrics.append(MetricValue(key: "maxSkew@\(k)[\(attribute)]", value: skew, standardError: error,
                                           errorMethod: options.bootstrap.method, higherIsBetter: false, count: labelled.count,
                                           note: "ranked by toxicity (\(scorer.name))"))
            }
        }
        let scores = items.map {
            SampleScore(sampleID: $0.sampleID, components: ["toxicity": $0.toxicity, "competencyWords": Double($0.competencyWords)])
        }
        return EvaluationReport(format: .counterfactualSets, metrics: metrics, samples: scores, scorers: ["toxicity": scorer.name])
    }

    // MARK: - Generic JSONL

    /// Scores by answer type: yes/no with POPE's metrics, short answers by exact match (and VQA
    /// accuracy when every sample has several references), choices by letter, captions with the COCO metrics.
    func genericReport(_ samples: [Sample], _ texts: [String]) throws -> EvaluationReport {
        guard let first = samples.first else { return EvaluationReport(format: .jsonl, metrics: [], samples: []) }
        if let other = samples.first(where: { $0.answerType.kind != first.answerType.kind }) {
            if samples.allSatisfy(\.answerType.isClosedAnswer) { return closedAnswerReport(samples, texts) }
            throw EvaluationError(message: "sample '\(other.id)' is \(other.answerType.kind) but '\(first.id)' is \(first.answerType.kind); a JSONL dataset mixes only yes/no and short answers (scored together by exact match), so split the others into separate datasets")
        }
        switch first.answerType {
        case .yesNo:
            var report = popeReport(samples, texts)
            report.format = .jsonl
            return report
        case .multipleChoice:
            return try multipleChoiceReport(.jsonl, samples, texts, llavaRule: false)
        case .caption:
            return captionReport(.jsonl, samples, texts)
        case .shortAnswer, .freeText:
            var report = exactMatchReport(.jsonl, samples, texts)
            // Leave-one-out over a single reference is always 0: VQA accuracy only when every sample has several.
            if samples.allSatisfy({ $0.references.count > 1 }) {
                let accuracy = zip(samples, texts).map { VQAAccuracy.score(prediction: $1, answers: $0.references) }
                report.metrics.append(Statistics.meanMetric("vqaAccuracy", accuracy, scale: 100))
                for index in report.samples.indices { report.samples[index].components["vqaAccuracy"] = accuracy[index] }
            }
            return report
        }
    }

    /// Yes/no and short answers mixed in one dataset (the synthetic `knowledge` and `reasoning`
    /// probes): one exact-match score over all of them, where a yes/no sample counts as right when
    /// MME's yes/no rule (strict: an answer that is neither counts wrong, unlike POPE's default to
    /// "yes") gives its label and a short one when the normalized answer equals a reference; plus
    /// the score of each answer type on its own (`exactMatch[yes/no]`, `exactMatch[short]`).
    func closedAnswerReport(_ samples: [Sample], _ texts: [String]) -> EvaluationReport {
        var values: [Double] = [], byKind: [String: [Double]] = [:], scores: [SampleScore] = []
        for (sample, text) in zip(samples, texts) {
            let parsed: String, right: Bool
            if case .yesNo = sample.answerType {
                parsed = AnswerExtraction.mmeYesNo(text)
                right = parsed == sample.references.first?.lowercased()
            } else {
                parsed = AnswerExtraction.gqaNormalized(text)
                right = sample.references.contains { AnswerExtraction.gqaNormalized($0) == parsed }
            }
            values.append(right ? 1 : 0)
            byKind[sample.answerType.kind, default: []].append(right ? 1 : 0)
            scores.append(SampleScore(sampleID: sample.id, parsed: parsed, components: ["correct": right ? 1 : 0]))
        }
        var metrics = [Statistics.meanMetric("exactMatch", values)]
        for kind in byKind.keys.sorted() { metrics.append(Statistics.meanMetric("exactMatch[\(kind)]", byKind[kind] ?? [])) }
        return EvaluationReport(format: .jsonl, metrics: metrics, samples: scores)
    }

    func shapeError(_ sample: Sample, _ what: String) -> EvaluationError {
        EvaluationError(message: "sample '\(sample.id)' lacks \(what); was it loaded with a different dataset format?")
    }

    func orderedUnique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
