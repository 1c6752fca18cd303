import Foundation
import Testing
import TestSupport
@testable import Datasets

/// What producers write, the loaders read back unchanged.
@Suite struct DatasetRecordsTests {
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-records-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func popeRoundTrip() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try DatasetRecords.writeLines([
            DatasetRecords.POPE(questionID: 1, image: "a.png", text: "Is there a cat in the image?", label: "yes", category: "random"),
            DatasetRecords.POPE(questionID: 2, image: "a.png", text: "Is there a dog in the image?", label: "no", category: "random"),
        ], to: folder.appendingPathComponent("pope.jsonl"))
        let samples = try DatasetLoader.load(.pope, at: DatasetLocation(path: folder.appendingPathComponent("pope.jsonl").path),
                                             options: LoadOptions(checkImages: false))
        #expect(samples.map(\.id) == ["pope/random/1", "pope/random/2"])
        #expect(samples.map(\.references) == [["yes"], ["no"]])
        #expect(samples[1].question == "Is there a dog in the image?")
    }

    @Test func cocoRoundTrip() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let document = DatasetRecords.COCOCaptions(
            images: [.init(id: 7, fileName: "img/7.png")],
            annotations: [.init(imageID: 7, id: 1, caption: "a red square"), .init(imageID: 7, id: 2, caption: "a square in red")])
        let url = folder.appendingPathComponent("captions.json")
        try DatasetRecords.writeDocument(document, to: url)
        let samples = try DatasetLoader.load(.cocoCaptions, at: DatasetLocation(path: url.path), options: LoadOptions(checkImages: false))
        #expect(samples.map(\.id) == ["coco/7"])
        #expect(samples[0].references == ["a red square", "a square in red"])
        #expect(samples[0].imagePath == folder.appendingPathComponent("img/7.png").standardizedFileURL.path)
    }

    @Test func counterfactualAndGenericRoundTrip() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sets = folder.appendingPathComponent("sets.jsonl")
        try DatasetRecords.writeLines([
            DatasetRecords.CounterfactualMember(setID: "0", attributes: ["shade": "dark"], image: "0/dark.png", prompt: "Describe the person."),
            DatasetRecords.CounterfactualMember(setID: "0", attributes: ["shade": "light"], image: "0/light.png", prompt: "Describe the person."),
        ], to: sets)
        let members = try DatasetLoader.load(.counterfactualSets, at: DatasetLocation(path: sets.path), options: LoadOptions(checkImages: false))
        #expect(members.map(\.id) == ["counterfactual/0/shade=dark", "counterfactual/0/shade=light"])
        #expect(members[1].groups.counterfactual?.attributes == ["shade": "light"])

        let questions = folder.appendingPathComponent("q.jsonl")
        try DatasetRecords.writeLines([
            DatasetRecords.Question(id: "a", question: "Which shape?", image: "s.png", answers: ["B"], choices: ["circle", "square"]),
        ], to: questions)
        let loaded = try DatasetLoader.load(.jsonl, at: DatasetLocation(path: questions.path), options: LoadOptions(checkImages: false))
        #expect(loaded[0].answerType == .multipleChoice(choices: ["circle", "square"]))
        #expect(loaded[0].references == ["B"])
    }
}
