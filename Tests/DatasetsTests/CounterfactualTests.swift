import Foundation
import Testing
import TestSupport
@testable import Datasets

/// A scorer that returns preset scores, so the set arithmetic can be checked by hand.
struct PresetToxicity: ToxicityScorer {
    let name = "preset-test"
    let values: [Double]
    func scores(_ texts: [String]) throws -> [Double] { Array(values.prefix(texts.count)) }
}

@Suite struct CounterfactualMetricTests {
    // Order in sets.jsonl: s1 asian-female, asian-male, black-female, black-male; then s2 likewise.
    static let toxicity = [0.1, 0.5, 0.2, 0.3, 0.0, 0.0, 0.4, 0.2]

    func report(_ outputs: [String]? = nil, k: Int = 10) throws -> EvaluationReport {
        let samples = try load(.counterfactualSets, "counterfactual/sets.jsonl", images: "counterfactual/images")
        let texts = outputs ?? Array(repeating: "a person", count: samples.count)
        let options = EvaluationOptions(toxicityScorer: PresetToxicity(values: Self.toxicity), maxSkewK: k)
        return try Evaluator(options: options).evaluate(.counterfactualSets, samples: samples,
                                                        outputs: Dictionary(uniqueKeysWithValues: zip(samples.map(\.id), texts)))
    }

    @Test func maxToxicityAndSpread() throws {
        let report = try report()
        // Set maxima 0.5 and 0.4; spreads 0.5 − 0.1 and 0.4 − 0.0.
        #expect(abs((report.metric("maxToxicity")?.value ?? -1) - 0.45) < 1e-12)
        #expect(abs((report.metric("toxicitySpread")?.value ?? -1) - 0.4) < 1e-12)
        #expect(report.metric("maxToxicity")?.count == 2)
        #expect(report.metric("maxToxicity")?.note == "preset-test")
        #expect(report.scorers["toxicity"] == "preset-test")
    }

    @Test func disparityAcrossAttributeGroups() throws {
        let report = try report()
        // race: asian mean (0.1 + 0.5 + 0 + 0) / 4 = 0.15, black (0.2 + 0.3 + 0.4 + 0.2) / 4 = 0.275.
        #expect(abs((report.metric("toxicityDisparity[race]")?.value ?? -1) - 0.125) < 1e-12)
        // gender: female (0.1 + 0.2 + 0 + 0.4) / 4 = 0.175, male (0.5 + 0.3 + 0 + 0.2) / 4 = 0.25.
        #expect(abs((report.metric("toxicityDisparity[gender]")?.value ?? -1) - 0.075) < 1e-12)
    }

    @Test func competencyWords() throws {
        let texts = ["competent, intelligent leader", "kind", "Smart and SKILLED", "tall", "a", "b", "c", "d"]
        let report = try report(texts)
        #expect(abs((report.metric("competencyWordRate")?.value ?? -1) - 5.0 / 8) < 1e-12)
        // race: asian 3 + 0 + 0 + 0 = 0.75 mean; black 2 + 0 + 0 + 0 = 0.5 mean.
        #expect(abs((report.metric("competencyDisparity[race]")?.value ?? -1) - 0.25) < 1e-12)
        #expect(CompetencyLexicon.count("A confident, capable professional.") == 3)
    }

    @Test func maxSkewAtK() throws {
        // Top 1 by toxicity is asian (0.5): ln(1 / 0.5) = ln 2.
        #expect(abs((try report(k: 1).metric("maxSkew@1[race]")?.value ?? -1) - log(2)) < 1e-12)
        // Top 2 are asian (0.5) and black (0.4): shares match the population, skew 0.
        #expect(abs(try report(k: 2).metric("maxSkew@2[race]")?.value ?? -1) < 1e-12)
        #expect(CounterfactualMetrics.maxSkew(values: ["a", "a", "a", "b"], scores: [1, 2, 3, 4], k: 2).map { abs($0 - log(0.5 / 0.25)) < 1e-12 } == true)
    }

    @Test func weightedMaxSkewEqualsExpandedData() {
        let values = ["a", "b", "a", "c", "b", "c"]
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
        let weights = [0, 3, 1, 2, 0, 1]
        var expandedValues: [String] = [], expandedScores: [Double] = []
        for index in values.indices {
            for _ in 0..<weights[index] {
                expandedValues.append(values[index])
                expandedScores.append(scores[index])
            }
        }
        let ranked = CounterfactualMetrics.RankedGroups(values: values, scores: scores)
        for k in 1...7 {
            let expected = CounterfactualMetrics.maxSkew(values: expandedValues, scores: expandedScores, k: k)
            #expect(ranked.maxSkew(k: k, weights: weights) == expected, "k = \(k)")
        }
    }

    @Test func lexiconScorerIsNamedAndScoresWords() throws {
        let scorer = LexiconToxicityScorer()
        #expect(scorer.name.hasPrefix("lexicon-v1"))
        let scores = try scorer.scores(["A friendly person smiling.", "You stupid idiot!"])
        #expect(scores[0] == 0)
        #expect(abs(scores[1] - (1 - (1 - 0.6) * (1 - 0.7))) < 1e-12)
    }
}

@Suite struct ExternalScorerTests {
    @Test func commandScorerReadsNumbersAndObjects() throws {
        let plain = CommandToxicityScorer(command: "while IFS= read -r line; do echo 0.25; done")
        #expect(try plain.scores(["a", "b", "c"]) == [0.25, 0.25, 0.25])
        #expect(plain.name == "command: while IFS= read -r line; do echo 0.25; done")
        let objects = CommandToxicityScorer(command: "while IFS= read -r line; do echo '{\"toxicity\": 0.75}'; done", name: "detoxify-stub")
        #expect(try objects.scores(["x"]) == [0.75])
        #expect(objects.name == "detoxify-stub")
    }

    @Test func commandScorerSeesJSONLines() throws {
        // Echo each input line's length back: proves one JSON object per text arrives on stdin.
        let scorer = CommandToxicityScorer(command: "while IFS= read -r line; do printf '%s\\n' \"${#line}\"; done")
        let scores = try scorer.scores(["hi", "hello"])
        #expect(scores == [Double("{\"id\":0,\"text\":\"hi\"}".count), Double("{\"id\":1,\"text\":\"hello\"}".count)])
    }

    @Test func commandScorerFailures() {
        #expect(throws: ScorerError.self) { try CommandToxicityScorer(command: "echo 0.1").scores(["a", "b"]) }
        #expect(throws: ScorerError.self) { try CommandToxicityScorer(command: "cat >/dev/null; echo oops >&2; exit 3").scores(["a"]) }
        #expect(throws: ScorerError.self) { try CommandToxicityScorer(command: "cat >/dev/null; echo high").scores(["a"]) }
    }

    @Test func mmVetWithAndWithoutJudge() throws {
        let samples = try load(.mmVet, "mmvet/mm-vet.json")
        let outputs = ["mm-vet/v1_0": "-1 or -5", "mm-vet/v1_1": "Tomato", "mm-vet/v1_10": "a zebra"]
        let unjudged = try Evaluator().evaluate(.mmVet, samples: samples, outputs: outputs)
        #expect(unjudged.metrics.isEmpty)
        // A judge that gives 1 when the prediction contains the reference's first word, else 0.
        let judge = CommandJudge(command: "while IFS= read -r line; do case \"$line\" in *'\"prediction\":\"Tomato\"'*) echo 1;; *'\"prediction\":\"-1 or -5\"'*) echo 0.5;; *) echo '{\"score\": 0}';; esac; done",
                                 name: "stub-judge")
        let judged = try Evaluator(options: EvaluationOptions(judge: judge)).evaluate(.mmVet, samples: samples, outputs: outputs)
        #expect(abs((judged.metric("score")?.value ?? -1) - 50) < 1e-9)
        #expect(abs((judged.metric("score[ocr]")?.value ?? -1) - 75) < 1e-9)
        #expect(judged.metric("score[know]")?.value == 0)
        #expect(judged.scorers["judge"] == "stub-judge")
    }
}

@Suite struct CounterfactualAnswerTests {
    @Test func answerDisparityAndInconsistentSets() throws {
        let samples = try load(.counterfactualSets, "counterfactual/sets.jsonl", images: "counterfactual/images")
        // s1: asian-female, asian-male, black-female, black-male; s2 likewise.
        let texts = ["Yes.", "yes", "No", "yes", "yes", "Yes", "yes", "yes"]
        let options = EvaluationOptions(toxicityScorer: PresetToxicity(values: Array(repeating: 0, count: 8)))
        let report = try Evaluator(options: options).evaluate(.counterfactualSets, samples: samples,
                                                              outputs: Dictionary(uniqueKeysWithValues: zip(samples.map(\.id), texts)))
        // s1 has a "no", s2 is unanimous.
        #expect(report.metric("inconsistentSets")?.value == 0.5)
        // race: asian 4/4 yes, black 3/4 yes → gap 0.25 (for "yes" and for "no").
        #expect(abs((report.metric("answerDisparity[race]")?.value ?? -1) - 0.25) < 1e-12)
        // gender: female 3/4 yes, male 4/4 → 0.25.
        #expect(abs((report.metric("answerDisparity[gender]")?.value ?? -1) - 0.25) < 1e-12)
    }

    @Test func longDescriptionsSkipAnswerMetrics() throws {
        let samples = try load(.counterfactualSets, "counterfactual/sets.jsonl", images: "counterfactual/images")
        let options = EvaluationOptions(toxicityScorer: PresetToxicity(values: Array(repeating: 0, count: 8)))
        let outputs = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, "A person standing in a sunny park.") })
        let report = try Evaluator(options: options).evaluate(.counterfactualSets, samples: samples, outputs: outputs)
        #expect(report.metric("inconsistentSets") == nil)
        #expect(report.metric("answerDisparity[race]") == nil)
    }
}
