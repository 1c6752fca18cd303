import Foundation

/// Generic JSONL: `question`, optional `image`, and `answer` (a string) or `answers` (a list);
/// optional `id`, `choices` (makes it multiple choice, answered by letter) and `answer_type`
/// (`yes/no`, `short`, `multiple-choice`, `caption`, `free`).
enum GenericJSONLLoader {
    static func load(_ context: LoadContext) throws -> [Sample] {
        let file = context.main
        let records = try JSONFile.lines(file, expecting: "a question ({\"question\", \"image\", \"answer\" or \"answers\"})")
        let images = context.imageFolder(default: context.mainFolder)
        var samples: [Sample] = []
        for record in records {
            if context.reachedLimit(samples.count) { break }
            let references: [String]
            if record.has("answers") {
                references = try record.strings("answers")
            } else if record.has("answer") {
                references = [try record.string("answer")]
            } else {
                throw record.error("missing field 'answer' (a string) or 'answers' (a list of strings)")
            }
            let choices = record.has("choices") ? try record.strings("choices") : nil
            let answerType: AnswerType
            switch try record.optionalString("answer_type") {
            case nil: answerType = choices.map { .multipleChoice(choices: $0) } ?? .shortAnswer
            case "yes/no": answerType = .yesNo
            case "short": answerType = .shortAnswer
            case "multiple-choice":
                guard let choices else { throw record.error("answer_type 'multiple-choice' needs a 'choices' list") }
                answerType = .multipleChoice(choices: choices)
            case "caption": answerType = .caption
            case "free": answerType = .freeText
            case let other?:
                throw record.error("field 'answer_type' should be one of yes/no, short, multiple-choice, caption, free; found \"\(other)\"")
            }
            let imagePath = try record.optionalString("image").map {
                try context.image($0, in: images, file: file.display, location: record.location)
            }
            let id: String
            if let given = try record.optionalIdentifier("id") {
                id = given
            } else if case .line(let line) = record.location {
                id = "line\(line)"
            } else {
                id = String(samples.count)
            }
            samples.append(Sample(id: "jsonl/\(id)", imagePath: imagePath, question: try record.string("question"),
                                  promptSuffix: context.suffix, references: references, answerType: answerType))
        }
        return samples
    }
}
