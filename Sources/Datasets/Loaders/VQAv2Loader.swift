import Foundation

/// VQAv2: questions JSON (`questions`: `question_id`, `image_id`, `question`; `data_subtype`) and,
/// except for test splits, annotations JSON (`annotations`: `question_id`, `answers` — ten
/// `{answer}` — and `answer_type`). Images are `COCO_<subtype>_<image_id, 12 digits>.jpg`.
enum VQAv2Loader {
    static func load(_ context: LoadContext) throws -> [Sample] {
        let file = context.main
        let document = try JSONFile.document(file, expecting: "VQAv2 questions ({\"questions\": [...]})")
        let root = try JSONRecord(document, file: file.display, location: .file, what: "the questions document")
        let questions = try root.objects("questions")
        guard let subtype = try context.options.split ?? root.optionalString("data_subtype") else {
            throw root.error("missing field 'data_subtype' (expected e.g. \"val2014\")",
                             hint: "set the split (the image subfolder, e.g. val2014) in the spec")
        }
        let images = context.imageFolder(default: context.mainFolder.appending(subtype))
        let annotations = try context.location.annotations.map {
            try loadAnnotations(UserPath($0, relativeTo: context.base))
        }
        var samples: [Sample] = []
        for (index, value) in questions.enumerated() {
            if context.reachedLimit(samples.count) { break }
            let record = try JSONRecord(value, file: file.display, location: .record("questions[\(index)]"), what: "a question")
            let questionID = try record.identifier("question_id")
            let located = JSONRecord(record.object, file: file.display, location: .record("question_id \(questionID)"))
            let imageID = try located.integer("image_id")
            let question = try located.string("question")
            var references: [String] = []
            var answerType: String?
            if let annotations {
                guard let annotation = annotations.byQuestion[questionID] else {
                    throw DatasetError(file: annotations.file, message: "no annotation for question_id \(questionID) of \(file.display)",
                                       hint: "use the annotations file of the same split as the questions")
                }
                references = annotation.answers
                answerType = annotation.answerType
            }
            let imageName = "COCO_\(subtype)_" + String(repeating: "0", count: max(0, 12 - String(imageID).count)) + String(imageID) + ".jpg"
            let imagePath = try context.image(imageName, in: images, file: file.display, location: located.location)
            samples.append(Sample(id: "vqav2/\(questionID)", imagePath: imagePath, question: question,
                                  promptSuffix: context.suffix, references: references, answerType: .shortAnswer,
                                  groups: SampleGroups(vqaAnswerType: answerType)))
        }
        return samples
    }

    struct Annotations {
        let file: String
        let byQuestion: [String: (answers: [String], answerType: String?)]
    }

    static func loadAnnotations(_ path: UserPath) throws -> Annotations {
        let document = try JSONFile.document(path, expecting: "VQAv2 annotations ({\"annotations\": [...]})")
        let root = try JSONRecord(document, file: path.display, location: .file, what: "the annotations document")
        var byQuestion: [String: (answers: [String], answerType: String?)] = [:]
        for (index, value) in try root.objects("annotations").enumerated() {
            let record = try JSONRecord(value, file: path.display, location: .record("annotations[\(index)]"), what: "an annotation")
            let questionID = try record.identifier("question_id")
            let located = JSONRecord(record.object, file: path.display, location: .record("question_id \(questionID)"))
            let answers = try located.objects("answers").enumerated().map { position, item in
                try JSONRecord(item, file: path.display, location: located.location, what: "answers[\(position)]").string("answer")
            }
            guard !answers.isEmpty else { throw located.error("field 'answers' is empty; expected the ten human answers") }
            byQuestion[questionID] = (answers, try located.optionalString("answer_type"))
        }
        return Annotations(file: path.display, byQuestion: byQuestion)
    }
}
