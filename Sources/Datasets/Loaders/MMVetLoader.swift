import Foundation

/// MM-Vet: `mm-vet.json`, an object keyed by id (`v1_0`, …) whose values hold `imagename`,
/// `question`, `answer` and `capability` (a list of tags). Images in `images/` beside the file.
enum MMVetLoader {
    static func load(_ context: LoadContext) throws -> [Sample] {
        let file = context.main
        let document = try JSONFile.document(file, expecting: "MM-Vet questions (an object keyed by id)")
        guard let byID = document as? [String: Any] else {
            throw DatasetError(file: file.display, message: "expected an object keyed by id, found \(JSONRecord.describe(document))")
        }
        let images = context.imageFolder(default: context.mainFolder.appending("images"))
        let ids = byID.keys.sorted { left, right in
            let l = Int(left.split(separator: "_").last ?? ""), r = Int(right.split(separator: "_").last ?? "")
            if let l, let r, l != r { return l < r }
            return left < right
        }
        var samples: [Sample] = []
        for id in ids {
            if context.reachedLimit(samples.count) { break }
            let record = try JSONRecord(byID[id] as Any, file: file.display, location: .record(id), what: "a question")
            let imagePath = try context.image(try record.string("imagename"), in: images, file: file.display, location: record.location)
            samples.append(Sample(id: "mm-vet/\(id)", imagePath: imagePath, question: try record.string("question"),
                                  promptSuffix: context.suffix, references: [try record.string("answer")], answerType: .freeText,
                                  groups: SampleGroups(capabilities: try record.strings("capability"))))
        }
        return samples
    }
}
