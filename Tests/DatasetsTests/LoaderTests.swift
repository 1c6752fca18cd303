import Foundation
import Testing
import TestSupport
@testable import Datasets

/// Loads from Tests/Fixtures/datasets with paths relative to it, as a user would give them.
func load(_ format: DatasetFormat, _ path: String, images: String? = nil, annotations: String? = nil,
          split: String? = nil, limit: Int? = nil, suffix: String? = nil) throws -> [Sample] {
    try DatasetLoader.load(format, at: DatasetLocation(path: path, images: images, annotations: annotations),
                           options: LoadOptions(split: split, limit: limit, promptSuffix: suffix,
                                                baseDirectory: Fixtures.url("datasets").path))
}

/// The error a load throws, or nil.
func loadError(_ format: DatasetFormat, _ path: String, images: String? = nil, annotations: String? = nil,
               split: String? = nil) -> DatasetError? {
    do {
        _ = try load(format, path, images: images, annotations: annotations, split: split)
        return nil
    } catch let error as DatasetError {
        return error
    } catch {
        return nil
    }
}

@Suite struct POPELoaderTests {
    @Test func readsRecordsWithCategoryFromFileName() throws {
        let samples = try load(.pope, "pope/coco_pope_adversarial.json", images: "pope/images")
        #expect(samples.map(\.id) == ["pope/adversarial/1", "pope/adversarial/2", "pope/adversarial/3", "pope/adversarial/4"])
        #expect(samples.map { $0.references } == [["yes"], ["no"], ["yes"], ["no"]])
        #expect(samples[0].question == "Is there a snowboard in the image?")
        #expect(samples[0].prompt == "Is there a snowboard in the image?\nAnswer the question using a single word or phrase.")
        #expect(samples[0].answerType == .yesNo)
        #expect(samples[0].groups.popeCategory == "adversarial")
        #expect(samples[2].imagePath == Fixtures.url("datasets/pope/images/COCO_val2014_000000000002.jpg").standardizedFileURL.path)
    }

    @Test func categoryFieldSplitAndLimit() throws {
        let popular = try load(.pope, "pope/llava_pope_test.jsonl", images: "pope/images", split: "popular")
        #expect(popular.map(\.id) == ["pope/popular/3", "pope/popular/4"])
        let limited = try load(.pope, "pope/llava_pope_test.jsonl", images: "pope/images", limit: 1)
        #expect(limited.map(\.id) == ["pope/random/1"])
    }

    @Test func promptSuffixOverride() throws {
        let samples = try load(.pope, "pope/coco_pope_adversarial.json", images: "pope/images", suffix: "")
        #expect(samples[0].prompt == "Is there a snowboard in the image?")
    }

    @Test func badLabelNamesFileAndLine() throws {
        let error = try #require(loadError(.pope, "pope/bad_label.jsonl", images: "pope/images"))
        #expect(error.file == "pope/bad_label.jsonl")
        #expect(error.location == .line(3))
        #expect(error.description.hasPrefix("pope/bad_label.jsonl:3: error: field 'label' should be \"yes\" or \"no\", found \"maybe\""))
    }

    @Test func brokenJSONNamesLine() throws {
        let error = try #require(loadError(.pope, "pope/bad_json.jsonl", images: "pope/images"))
        #expect(error.location == .line(2))
        #expect(error.message.contains("not valid JSON"))
    }

    @Test func missingImageNamesIt() throws {
        let error = try #require(loadError(.pope, "pope/missing_image.jsonl", images: "pope/images"))
        #expect(error.location == .line(1))
        #expect(error.message == "image 'pope/images/COCO_val2014_000000000009.jpg' not found")
    }

    @Test func missingFile() throws {
        let error = try #require(loadError(.pope, "pope/nope.jsonl"))
        #expect(error.description.hasPrefix("pope/nope.jsonl: error: file not found"))
    }
}

@Suite struct GQAAndVQALoaderTests {
    @Test func gqaInNumericIDOrder() throws {
        let samples = try load(.gqa, "gqa/testdev_balanced_questions.json")
        #expect(samples.map(\.id) == ["gqa/2011907", "gqa/20968379", "gqa/201640614"])
        #expect(samples.map(\.references) == [["no"], ["woman"], ["blue"]])
        #expect(samples[1].imagePath?.hasSuffix("gqa/images/n100.jpg") == true)
        #expect(samples[1].answerType == .shortAnswer)
    }

    @Test func splitOnAFormatWithoutSplitsIsAnError() throws {
        let error = try #require(loadError(.gqa, "gqa/testdev_balanced_questions.json", split: "val"))
        #expect(error.message == "format 'gqa' has no splits, but split 'val' was given")
    }

    @Test func gqaMissingAnswerNamesRecord() throws {
        let error = try #require(loadError(.gqa, "gqa/missing_answer.json"))
        #expect(error.file == "gqa/missing_answer.json")
        #expect(error.location == .record("20968380"))
        #expect(error.message == "missing field 'answer' (expected a string)")
    }

    @Test func vqaJoinsQuestionsAndAnnotations() throws {
        let samples = try load(.vqav2, "vqav2/v2_OpenEnded_mscoco_val2014_questions.json",
                               annotations: "vqav2/v2_mscoco_val2014_annotations.json")
        #expect(samples.map(\.id) == ["vqav2/42000", "vqav2/42001", "vqav2/7000"])
        #expect(samples[0].references.count == 10)
        #expect(samples[1].references.filter { $0 == "2" }.count == 7)
        #expect(samples[1].groups.vqaAnswerType == "number")
        #expect(samples[0].imagePath?.hasSuffix("vqav2/val2014/COCO_val2014_000000000042.jpg") == true)
    }

    @Test func vqaWithoutAnnotationsHasNoReferences() throws {
        let samples = try load(.vqav2, "vqav2/v2_OpenEnded_mscoco_val2014_questions.json")
        #expect(samples.count == 3)
        #expect(samples.allSatisfy { $0.references.isEmpty })
    }

    @Test func vqaMissingAnnotationNamesQuestion() throws {
        let error = try #require(loadError(.vqav2, "vqav2/v2_OpenEnded_mscoco_val2014_questions.json",
                                           annotations: "vqav2/annotations_missing_question.json"))
        #expect(error.file == "vqav2/annotations_missing_question.json")
        #expect(error.message.contains("no annotation for question_id 42001"))
    }
}

@Suite struct MMELoaderTests {
    @Test func readsBothFolderLayoutsAndThreeFieldLines() throws {
        let samples = try load(.mme, "mme")
        #expect(samples.count == 8)
        let existence = samples.filter { $0.groups.mme?.subtask == "existence" }
        #expect(existence.map(\.id) == ["mme/existence/000000006040.jpg/0", "mme/existence/000000006040.jpg/1",
                                        "mme/existence/000000018150.jpg/0", "mme/existence/000000018150.jpg/1"])
        #expect(existence.map(\.references) == [["yes"], ["no"], ["no"], ["yes"]])
        #expect(existence[0].question == "Is there a elephant in this image? Please answer yes or no.")
        let ocr = samples.filter { $0.groups.mme?.subtask == "OCR" }
        #expect(ocr.count == 2)
        #expect(ocr[0].imagePath?.hasSuffix("mme/OCR/images/0001.jpg") == true)
        #expect(ocr[0].groups.mme?.imageID == "0001.jpg")
        let reasoning = samples.filter { $0.groups.mme?.subtask == "commonsense_reasoning" }
        #expect(reasoning.map { $0.groups.mme?.imageID } == ["0005.png", "0005.png"])
    }

    @Test func readsEvalToolResultFiles() throws {
        // eval_tool/Your_Results layout: <subtask>.txt with image, question, answer (and a prediction column).
        let samples = try load(.mme, "mme-evaltool", images: "mme-evaltool/images")
        #expect(samples.map(\.id) == ["mme/landmark/0001.jpg/0", "mme/landmark/0001.jpg/1"])
        #expect(samples.map(\.references) == [["yes"], ["no"]])
        #expect(samples[0].imagePath?.hasSuffix("mme-evaltool/images/landmark/0001.jpg") == true)
    }

    @Test func splitSelectsCognition() throws {
        let samples = try load(.mme, "mme", split: "cognition")
        #expect(samples.map { $0.groups.mme?.subtask } == ["commonsense_reasoning", "commonsense_reasoning"])
    }

    @Test func badLineNamesFileAndLine() throws {
        let error = try #require(loadError(.mme, "mme-bad"))
        #expect(error.file == "mme-bad/color/000000012120.txt")
        #expect(error.location == .line(2))
        #expect(error.message.contains("expected question<TAB>answer"))
    }

    @Test func unknownSplit() throws {
        let error = try #require(loadError(.mme, "mme", split: "colour"))
        #expect(error.message.hasPrefix("unknown MME split 'colour'"))
    }
}

@Suite struct MMVPAndHallusionLoaderTests {
    @Test func mmvpPairsAndOptions() throws {
        let samples = try load(.mmvp, "mmvp")
        #expect(samples.map(\.id) == ["mmvp/1", "mmvp/2", "mmvp/3", "mmvp/4"])
        #expect(samples.map(\.groups.mmvpPairID) == [0, 0, 1, 1])
        #expect(samples.map(\.references) == [["a"], ["b"], ["b"], ["a"]])
        #expect(samples[2].answerType == .multipleChoice(choices: ["Left", "Right"]))
        #expect(samples[2].question == "Is the dog facing left or right, from the camera's perspective?\n(a) Left (b) Right")
        #expect(samples[0].imagePath?.hasSuffix("mmvp/MMVP Images/1.jpg") == true)
    }

    @Test func mmvpBadAnswerNamesLine() throws {
        let error = try #require(loadError(.mmvp, "mmvp/bad_answer.csv"))
        #expect(error.file == "mmvp/bad_answer.csv")
        #expect(error.location == .line(3))
        #expect(error.message.contains("Correct Answer"))
    }

    @Test func hallusionBenchGroupsAndImages() throws {
        let samples = try load(.hallusionBench, "hallusionbench/HallusionBench.json")
        #expect(samples.count == 5)
        #expect(samples.map(\.references) == [["yes"], ["no"], ["no"], ["yes"], ["no"]])
        #expect(samples[3].imagePath == nil)
        #expect(samples[4].imagePath?.hasSuffix("hallusionbench/VS/chart/3_1.png") == true)
        #expect(samples[1].groups.hallusion == HallusionGroup(category: "VD", subcategory: "illusion", setID: "0",
                                                              figureID: "1", questionID: "0", visualInput: "2"))
        #expect(samples[0].id == "hallusionbench/VD_illusion_0_0_0")
    }

    @Test func hallusionBadRecordNamesIndex() throws {
        let error = try #require(loadError(.hallusionBench, "hallusionbench/bad_visual_input.json", images: "hallusionbench"))
        #expect(error.location == .record("[1]"))
        #expect(error.message.contains("'visual_input' should be 0, 1 or 2"))
    }
}

@Suite struct ScienceQACOCOMMVetLoaderTests {
    @Test func scienceQAImageProblemsOfTestSplit() throws {
        let samples = try load(.scienceQA, "scienceqa")
        #expect(samples.map(\.id) == ["scienceqa/11", "scienceqa/12", "scienceqa/14"])
        #expect(samples.map(\.references) == [["A"], ["B"], ["C"]])
        #expect(samples[0].question == "Context: N/A\nQuestion: Which of these states is farthest north?\nOptions: (A) West Virginia (B) Louisiana (C) Arizona (D) Oklahoma")
        #expect(samples[1].question == "Context: Tree frogs live in tropical rain forests.\nFigure: tree frog.\nQuestion: Which animal's feet are also adapted for sticky surfaces?\nOptions: (A) tiger (B) tokay gecko")
        #expect(samples[0].prompt.hasSuffix("\nAnswer with the option's letter from the given choices directly."))
        #expect(samples[0].imagePath?.hasSuffix("scienceqa/images/test/11/image.png") == true)
    }

    @Test func scienceQABadAnswerIndex() throws {
        let error = try #require(loadError(.scienceQA, "scienceqa-bad", images: "scienceqa/images/test"))
        #expect(error.file == "scienceqa-bad/problems.json")
        #expect(error.location == .record("11"))
        #expect(error.message.contains("'answer' should index 'choices'"))
    }

    @Test func scienceQAUnknownSplit() throws {
        let error = try #require(loadError(.scienceQA, "scienceqa", split: "dev"))
        #expect(error.message == "no split 'dev'; expected one of minitest, minival, test, train, val")
    }

    @Test func cocoGroupsCaptionsByImage() throws {
        let samples = try load(.cocoCaptions, "coco/captions_val2014.json", images: "coco/images")
        #expect(samples.map(\.id) == ["coco/391", "coco/74"])
        #expect(samples[0].references.count == 3)
        #expect(samples[1].references == ["A picture of a dog laying on the ground.",
                                          "Dog snoozing by a bike on the edge of a cobblestone street"])
        #expect(samples[0].answerType == .caption)
    }

    @Test func cocoOrphanAnnotation() throws {
        let error = try #require(loadError(.cocoCaptions, "coco/orphan_annotation.json", images: "coco/images"))
        #expect(error.location == .record("image_id 999"))
    }

    @Test func mmVetOrderAndCapabilities() throws {
        let samples = try load(.mmVet, "mmvet/mm-vet.json")
        #expect(samples.map(\.id) == ["mm-vet/v1_0", "mm-vet/v1_1", "mm-vet/v1_10"])
        #expect(samples[0].groups.capabilities == ["ocr", "math"])
        #expect(samples[0].prompt == "What is x in the equation?")
    }

    @Test func mmVetWrongType() throws {
        let error = try #require(loadError(.mmVet, "mmvet/bad_capability.json"))
        #expect(error.location == .record("v1_0"))
        #expect(error.message == "field 'capability' should be a list of strings, found the string \"ocr\"")
    }
}

@Suite struct CounterfactualAndGenericLoaderTests {
    @Test func counterfactualSets() throws {
        let samples = try load(.counterfactualSets, "counterfactual/sets.jsonl", images: "counterfactual/images")
        #expect(samples.count == 8)
        #expect(samples[0].id == "counterfactual/s1/gender=female,race=asian")
        #expect(samples[0].groups.counterfactual == CounterfactualGroup(setID: "s1", attributes: ["race": "asian", "gender": "female"]))
        #expect(samples[0].answerType == .freeText)
        #expect(Set(samples.compactMap { $0.groups.counterfactual?.setID }) == ["s1", "s2"])
    }

    @Test func counterfactualInconsistentAttributes() throws {
        let error = try #require(loadError(.counterfactualSets, "counterfactual/inconsistent_attributes.jsonl", images: "counterfactual/images"))
        #expect(error.location == .line(2))
        #expect(error.message.contains("differ from the other members of set 's1'"))
    }

    @Test func genericJSONL() throws {
        let samples = try load(.jsonl, "jsonl/generic.jsonl", images: "jsonl/images")
        #expect(samples.map(\.id) == ["jsonl/q1", "jsonl/q2", "jsonl/line3"])
        #expect(samples[1].references == ["blue", "light blue"])
        #expect(samples[1].imagePath == nil)
        #expect(samples[0].imagePath?.hasSuffix("jsonl/images/cat.png") == true)
    }

    @Test func genericBadAnswers() throws {
        let error = try #require(loadError(.jsonl, "jsonl/bad_answers.jsonl", images: "jsonl/images"))
        #expect(error.description == "jsonl/bad_answers.jsonl:2: error: field 'answers' item 1 should be a string, found the number 7")
    }

    @Test func duplicateIDsRejected() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-dup-\(UUID().uuidString).jsonl")
        try "{\"id\": 1, \"question\": \"a\", \"answer\": \"b\"}\n{\"id\": 1, \"question\": \"c\", \"answer\": \"d\"}\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: DatasetError.self) { try DatasetLoader.load(.jsonl, at: DatasetLocation(path: url.path)) }
    }
}
