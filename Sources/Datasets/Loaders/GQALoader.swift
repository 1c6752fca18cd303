import Foundation

/// GQA: `testdev_balanced_questions.json`, an object keyed by question id whose values hold
/// `imageId`, `question`, `answer`. Images are `<imageId>.jpg` (default folder: `images/` beside the file).
enum GQALoader {
    static func load(_ context: LoadContext) throws -> [Sample] {
        let file = context.main
        let document = try JSONFile.document(file, expecting: "GQA questions (an object keyed by question id)")
        guard let byID = document as? [String: Any] else {
            throw DatasetError(file: file.display, message: "expected an object keyed by question id, found \(JSONRecord.describe(document))")
        }
        let images = context.imageFolder(default: context.mainFolder.appending("images"))
        var samples: [Sample] = []
        for questionID in sortedIDs(byID.keys) {
            if context.reachedLimit(samples.count) { break }
            let record = try JSONRecord(byID[questionID] as Any, file: file.display, location: .record(questionID), what: "a question")
            let imageID = try record.identifier("imageId")
            let question = try record.string("question")
            let answer = try record.string("answer")
            let imagePath = try context.image(imageID + ".jpg", in: images, file: file.display, location: record.location)
            samples.append(Sample(id: "gqa/\(questionID)", imagePath: imagePath, question: question,
                                  promptSuffix: context.suffix, references: [answer], answerType: .shortAnswer))
        }
        return samples
    }

    /// Numeric ids in numeric order, then the rest in text order: JSON objects carry no order.
    static func sortedIDs<S: Sequence>(_ ids: S) -> [String] where S.Element == String {
        ids.sorted { left, right in
            switch (Int(left), Int(right)) {
            case let (l?, r?): return l < r
            case (.some, nil): return true
            case (nil, .some): return false
            default: return left < right
            }
        }
    }
}
