import Foundation
import Testing
import TestSupport
@testable import Datasets

private let tenTwos = ["2", "2", "two", "2", "3", "2", "2", "2", "2", "1"]
private let umbrellas = ["umbrella", "umbrella", "an umbrella", "umbrella", "umbrella", "parasol", "umbrella", "umbrella", "umbrellas", "umbrella"]

@Suite struct VQAAccuracyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let prediction: String
        let answers: [String]
        let expected: Double
        var testDescription: String { "\"\(prediction)\" → \(expected)" }
    }

    /// Worked by hand: after normalisation count the matching humans among the other nine for
    /// each of the ten leave-one-out subsets, take min(1, matches/3), average.
    static let cases: [Case] = [
        // Number words: "two" → "2"; eight humans said 2 (one of them "two"), so every subset has ≥ 3 matches.
        Case(prediction: "two", answers: tenTwos, expected: 1.0),
        // One human said 3: nine subsets contain that human (1/3 each), one does not.
        Case(prediction: "3", answers: tenTwos, expected: 0.3),
        // Articles and the trailing period go: "An umbrella." → "umbrella" (eight humans after "an umbrella" → "umbrella").
        Case(prediction: "An umbrella.", answers: umbrellas, expected: 1.0),
        Case(prediction: "umbrellas", answers: umbrellas, expected: 0.3),
        // Unanimous humans are compared without normalisation; the prediction is still processed ("No." → "no").
        Case(prediction: "No.", answers: Array(repeating: "no", count: 10), expected: 1.0),
        Case(prediction: "no way", answers: Array(repeating: "no", count: 10), expected: 0.0),
        // Contractions: "dont" → "don't" matches both "don't" and "dont": 2 humans → 2 × 1/3 + 8 × 2/3 over 10.
        Case(prediction: "Dont", answers: ["don't", "dont", "no", "no", "no", "no", "no", "no", "no", "no"], expected: 0.6),
        // Punctuation without surrounding spaces becomes a space: "black/white" → "black white".
        Case(prediction: "black/white", answers: Array(repeating: "black white", count: 10), expected: 1.0),
        // Digits are not number words: "10" stays, "ten" → "10".
        Case(prediction: "ten", answers: ["10", "10", "10", "ten", "10", "10", "10", "10", "10", "10"], expected: 1.0),
        // Question marks and commas are dropped; case folded.
        Case(prediction: "Yes, it is?", answers: ["yes it is", "yes it is", "yes it is", "yes", "yes", "yes", "yes", "yes", "yes", "yes"], expected: 0.9),
    ]

    @Test(arguments: cases)
    func handChecked(_ item: Case) {
        #expect(abs(VQAAccuracy.score(prediction: item.prediction, answers: item.answers) - item.expected) < 1e-12)
    }

    @Test func normalisationSteps() {
        #expect(VQAAccuracy.processDigitArticle("The Two dogs") == "2 dogs")
        #expect(VQAAccuracy.processDigitArticle("isnt it") == "isn't it")
        #expect(VQAAccuracy.processPunctuation("3.5 m. high", commaRun: false) == "3.5 m high")
        #expect(VQAAccuracy.processPunctuation("left - right", commaRun: false) == "left  right")
        #expect(VQAAccuracy.processPunctuation("1,000 (approx)", commaRun: false) == "1000 approx")
        #expect(VQAAccuracy.evalAIProcess("The man's hat, yes?") == "man 's hat yes")
    }
}

@Suite struct YesNoMetricTests {
    @Test(arguments: [("Yes, there is a snowboard.", "yes"), ("No.", "no"), ("There is not a car in it.", "no"),
                      ("I think so", "yes"), ("NO", "yes"), ("Yes. But no dog.", "yes")])
    func popeExtraction(_ output: String, _ expected: String) {
        #expect(AnswerExtraction.popeYesNo(output) == expected)
    }

    @Test(arguments: [("Yes", "yes"), (" no\n", "no"), ("No, it is not.", "no"), ("Yes.", "yes"), ("Maybe", "other"), ("I don't know", "other")])
    func mmeExtraction(_ output: String, _ expected: String) {
        #expect(AnswerExtraction.mmeYesNo(output) == expected)
    }

    @Test func popeCountsByHand() throws {
        let samples = try load(.pope, "pope/coco_pope_adversarial.json", images: "pope/images")
            + [Sample(id: "pope/extra", imagePath: nil, question: "q", references: ["yes"], answerType: .yesNo)]
        // labels: yes no yes no yes; predictions: yes yes no no yes → TP 2, FP 1, FN 1, TN 1.
        let outputs = ["pope/adversarial/1": "Yes.", "pope/adversarial/2": "Yes, there is.", "pope/adversarial/3": "No, there is not.",
                       "pope/adversarial/4": "no", "pope/extra": "yes"]
        let report = try Evaluator().evaluate(.pope, samples: samples, outputs: outputs)
        #expect(abs((report.metric("accuracy")?.value ?? -1) - 0.6) < 1e-12)
        #expect(abs((report.metric("precision")?.value ?? -1) - 2.0 / 3) < 1e-12)
        #expect(abs((report.metric("recall")?.value ?? -1) - 2.0 / 3) < 1e-12)
        #expect(abs((report.metric("f1")?.value ?? -1) - 2.0 / 3) < 1e-12)
        #expect(abs((report.metric("yesRatio")?.value ?? -1) - 0.6) < 1e-12)
        #expect(report.samples.map(\.parsed) == ["yes", "yes", "no", "no", "yes"])
        #expect(report.samples[1].components == ["correct": 0, "predictedYes": 1, "labelYes": 0])
        let f1 = try #require(report.metric("f1"))
        #expect(f1.standardError > 0)
        #expect(f1.errorMethod == .bootstrap(resamples: 1000, seed: BootstrapSettings().seed))
        // Same seed, same error: reports are reproducible.
        let again = try Evaluator().evaluate(.pope, samples: samples, outputs: outputs)
        #expect(again.metric("f1")?.standardError == f1.standardError)
    }

    @Test func popePerCategoryWhenSeveral() throws {
        let samples = try load(.pope, "pope/llava_pope_test.jsonl", images: "pope/images")
        let outputs = ["pope/random/1": "Yes", "pope/random/2": "No", "pope/popular/3": "No", "pope/popular/4": "No"]
        let report = try Evaluator().evaluate(.pope, samples: samples, outputs: outputs)
        #expect(report.metric("accuracy[random]")?.value == 1.0)
        #expect(report.metric("accuracy[popular]")?.value == 0.5)
        #expect(report.metric("f1[popular]")?.value == 0.0)
        #expect(report.metric("f1[mean of categories]")?.value == 0.5)
    }

    @Test func mmeScoresByHand() throws {
        let samples = try load(.mme, "mme")
        // existence: image 6040 both right, image 18150 one right → acc 3/4, acc+ 1/2 → 75 + 50.
        // OCR: both right → 200. commonsense_reasoning: both wrong → 0.
        let outputs = [
            "mme/existence/000000006040.jpg/0": "Yes", "mme/existence/000000006040.jpg/1": "No",
            "mme/existence/000000018150.jpg/0": "Yes", "mme/existence/000000018150.jpg/1": "Yes",
            "mme/OCR/0001.jpg/0": "Yes.", "mme/OCR/0001.jpg/1": "No, it is not",
            "mme/commonsense_reasoning/0005.png/0": "No", "mme/commonsense_reasoning/0005.png/1": "Maybe",
        ]
        let report = try Evaluator().evaluate(.mme, samples: samples, outputs: outputs)
        #expect(report.metric("score[existence]")?.value == 125)
        #expect(report.metric("score[OCR]")?.value == 200)
        #expect(report.metric("score[commonsense_reasoning]")?.value == 0)
        #expect(report.metric("perception")?.value == 325)
        #expect(report.metric("cognition")?.value == 0)
        #expect(report.samples.first { $0.sampleID == "mme/commonsense_reasoning/0005.png/1" }?.parsed == "other")
    }

    @Test func hallusionBenchByHand() throws {
        let samples = try load(.hallusionBench, "hallusionbench/HallusionBench.json")
        // gt: yes no no yes no; answers: right, wrong, right, right, right.
        let outputs = Dictionary(uniqueKeysWithValues: zip(samples.map(\.id), ["Yes", "Yes, same size", "No", "Yes", "No"]))
        let report = try Evaluator().evaluate(.hallusionBench, samples: samples, outputs: outputs)
        #expect(abs((report.metric("aAcc")?.value ?? -1) - 80) < 1e-9)
        // Figures VD_illusion_0_0 (right), VD_illusion_0_1 (wrong), VS_chart_3_1 (right); VS figure 0 is not a figure.
        #expect(abs((report.metric("fAcc")?.value ?? -1) - 200.0 / 3) < 1e-9)
        #expect(report.metric("fAcc")?.count == 3)
        // Questions VD_illusion_0_q0 (right, wrong), VD_illusion_0_q1 (right), VS_chart_3_q0 (right, right).
        #expect(abs((report.metric("qAcc")?.value ?? -1) - 200.0 / 3) < 1e-9)
    }
}

@Suite struct ChoiceMetricTests {
    @Test(arguments: [("A", 0), ("B. tokay gecko", 1), ("The answer is C.", 2), ("The answer is B. The answer is A.", nil),
                      ("I think B", nil), ("E", nil), ("b", nil), (" C\n", 2), ("The answer is B\nok", nil)] as [(String, Int?)])
    func llavaLetterRule(_ output: String, _ expected: Int?) {
        #expect(AnswerExtraction.llavaOptionLetter(output, choiceCount: 4) == expected)
    }

    @Test(arguments: [("(a)", 0), ("b", 1), ("B", 1), ("(b) Closed", 1), ("a.", 0), ("Closed", 1), ("(c)", nil), ("Neither", nil)] as [(String, Int?)])
    func lenientLetterRule(_ output: String, _ expected: Int?) {
        #expect(AnswerExtraction.optionLetter(output, choices: ["Open", "Closed"]) == expected)
    }

    @Test func mmvpPairAccuracy() throws {
        let samples = try load(.mmvp, "mmvp")
        // pair 0 (a, b): both right; pair 1 (b, a): first right, second wrong.
        let outputs = ["mmvp/1": "(a)", "mmvp/2": "b", "mmvp/3": "(b) Right", "mmvp/4": "(b)"]
        let report = try Evaluator().evaluate(.mmvp, samples: samples, outputs: outputs)
        #expect(report.metric("pairAccuracy")?.value == 0.5)
        #expect(report.metric("pairAccuracy")?.count == 2)
        #expect(report.metric("questionAccuracy")?.value == 0.75)
    }

    @Test func scienceQAAccuracy() throws {
        let samples = try load(.scienceQA, "scienceqa")
        let outputs = ["scienceqa/11": "A", "scienceqa/12": "B. tokay gecko", "scienceqa/14": "The answer is A."]
        let report = try Evaluator().evaluate(.scienceQA, samples: samples, outputs: outputs)
        #expect(abs((report.metric("accuracy")?.value ?? -1) - 2.0 / 3) < 1e-12)
        // Analytic error of a mean of (1, 1, 0): s = √(1/3), s/√3 = 1/3.
        #expect(abs((report.metric("accuracy")?.standardError ?? -1) - 1.0 / 3) < 1e-12)
        #expect(report.samples.map(\.parsed) == ["A", "B", "A"])
    }

    @Test func gqaExactMatch() throws {
        let samples = try load(.gqa, "gqa/testdev_balanced_questions.json")
        let outputs = ["gqa/2011907": "No.", "gqa/20968379": "Woman", "gqa/201640614": "white"]
        let report = try Evaluator().evaluate(.gqa, samples: samples, outputs: outputs)
        #expect(abs((report.metric("exactMatch")?.value ?? -1) - 2.0 / 3) < 1e-12)
    }

    @Test func vqaReportInPercent() throws {
        let samples = try load(.vqav2, "vqav2/v2_OpenEnded_mscoco_val2014_questions.json", annotations: "vqav2/v2_mscoco_val2014_annotations.json")
        let outputs = ["vqav2/42000": "Umbrella", "vqav2/42001": "3", "vqav2/7000": "no"]
        let report = try Evaluator().evaluate(.vqav2, samples: samples, outputs: outputs)
        #expect(abs((report.metric("vqaAccuracy")?.value ?? -1) - (1 + 0.3 + 1) / 3 * 100) < 1e-9)
        #expect(abs((report.metric("vqaAccuracy[number]")?.value ?? -1) - 30) < 1e-9)
    }

    @Test func missingOutputIsAnError() throws {
        let samples = try load(.gqa, "gqa/testdev_balanced_questions.json")
        #expect(throws: EvaluationError.self) { try Evaluator().evaluate(.gqa, samples: samples, outputs: [:]) }
    }
}

@Suite struct CaptionEvaluatorTests {
    @Test func evaluatorReportsPycocoevalcapNumbers() throws {
        let fixture = try CocoEvalFixture.load()
        let samples = fixture.images.map {
            Sample(id: "coco/\($0.id)", imagePath: nil, question: "", references: $0.references, answerType: .caption)
        }
        let outputs = Dictionary(uniqueKeysWithValues: fixture.images.map { ("coco/\($0.id)", $0.candidate) })
        let report = try Evaluator().evaluate(.cocoCaptions, samples: samples, outputs: outputs)
        #expect(abs((report.metric("CIDEr-D")?.value ?? -1) - (fixture.corpus["CIDEr"] ?? 0)) < 1e-6)
        #expect(abs((report.metric("BLEU-4")?.value ?? -1) - (fixture.corpus["Bleu_4"] ?? 0)) < 1e-6)
        #expect(abs((report.metric("ROUGE-L")?.value ?? -1) - (fixture.corpus["ROUGE_L"] ?? 0)) < 1e-6)
        #expect((report.metric("BLEU-4")?.standardError ?? 0) > 0)
        let first = try #require(fixture.perImage[fixture.images[0].id]?["CIDEr"] as? Double)
        #expect(abs((report.samples[0].components["CIDEr-D"] ?? -1) - first) < 1e-6)
    }
}

@Suite struct GenericJSONLMetricTests {
    @Test func shortAnswersUseExactMatchAndVQAAccuracy() throws {
        let samples = try load(.jsonl, "jsonl/generic.jsonl", images: "jsonl/images")
        let outputs = ["jsonl/q1": "Cat.", "jsonl/q2": "light blue", "jsonl/line3": "blue"]
        let report = try Evaluator().evaluate(.jsonl, samples: samples, outputs: outputs)
        #expect(abs((report.metric("exactMatch")?.value ?? -1) - 2.0 / 3) < 1e-12)
        // q1 and line3 have one reference, where leave-one-out is meaningless: no VQA accuracy.
        #expect(report.metric("vqaAccuracy") == nil)
        let several = samples.filter { $0.references.count > 1 }
        let vqa = try Evaluator().evaluate(.jsonl, samples: several, outputs: outputs)
        // q2: "light blue" among ["blue", "light blue"]: subsets {light blue} → 1/3, {blue} → 0; mean 1/6.
        #expect(abs((vqa.metric("vqaAccuracy")?.value ?? -1) - 100.0 / 6) < 1e-9)
    }

    @Test func mixedAnswerTypesAreRejected() {
        let samples = [Sample(id: "a", imagePath: nil, question: "q", references: ["yes"], answerType: .yesNo),
                       Sample(id: "b", imagePath: nil, question: "q", references: ["x"], answerType: .caption)]
        #expect(throws: EvaluationError.self) { try Evaluator().evaluate(.jsonl, samples: samples, outputs: ["a": "yes", "b": "x"]) }
    }
}

/// A JSONL file mixing yes/no and short answers (the synthetic knowledge and reasoning probes).
@Suite struct MixedClosedAnswerTests {
    @Test func yesNoAndShortAnswersShareOneExactMatch() throws {
        let samples = [
            Sample(id: "a", imagePath: nil, question: "Is it round?", references: ["yes"], answerType: .yesNo),
            Sample(id: "b", imagePath: nil, question: "Is it round?", references: ["no"], answerType: .yesNo),
            Sample(id: "c", imagePath: nil, question: "Is it round?", references: ["no"], answerType: .yesNo),
            Sample(id: "d", imagePath: nil, question: "How many corners?", references: ["4"], answerType: .shortAnswer),
            Sample(id: "e", imagePath: nil, question: "How many corners?", references: ["3"], answerType: .shortAnswer),
        ]
        // a right ("Yes."), b right ("no"), c wrong: neither yes nor no counts wrong under the strict
        // rule (POPE's would read it as "yes" — also wrong here, but "maybe" must not be a "no").
        // d right after normalization ("4." → "4"), e wrong.
        let outputs = ["a": "Yes.", "b": "no", "c": "maybe", "d": "4.", "e": "12"]
        let report = try Evaluator().evaluate(.jsonl, samples: samples, outputs: outputs)
        let byKey = Dictionary(uniqueKeysWithValues: report.metrics.map { ($0.key, $0) })
        #expect(byKey["exactMatch"]?.value == 3.0 / 5)
        #expect(byKey["exactMatch"]?.count == 5)
        #expect(byKey["exactMatch[yes/no]"]?.value == 2.0 / 3)
        #expect(byKey["exactMatch[short]"]?.value == 0.5)
        #expect(report.samples.map { $0.components["correct"] } == [1, 1, 0, 1, 0])
        #expect(report.samples.map(\.parsed) == ["yes", "no", "other", "4", "12"])
    }

    @Test func otherMixesAreRefusedNamingBothSamples() {
        let samples = [
            Sample(id: "q", imagePath: nil, question: "What is it?", references: ["cat"], answerType: .shortAnswer),
            Sample(id: "c", imagePath: nil, question: "Describe it.", references: ["a cat"], answerType: .caption),
        ]
        #expect {
            _ = try Evaluator().evaluate(.jsonl, samples: samples, outputs: ["q": "cat", "c": "a cat"])
        } throws: { error in
            "\(error)".contains("sample 'c' is caption but 'q' is short")
        }
    }
}
