import Foundation

/// HallusionBench: `HallusionBench.json`, a list of questions with `category` (VD/VS),
/// `subcategory`, `visual_input` (0 none, 1 original, 2 edited), `set_id`, `figure_id`,
/// `question_id`, `question`, `gt_answer` ("1" yes, "0" no) and `filename`.
///
/// Images resolve against the images folder (default: the JSON's folder); a record without a
/// `filename` uses the benchmark's own rule `<category>/<subcategory>/<set_id>_<figure_id>.png`.
enum HallusionBenchLoader {
    static func load(_ context: LoadContext) throws -> [Sample] {
        let file = context.main
        let document = try JSONFile.document(file, expecting: "the HallusionBench question list")
        guard let items = document as? [Any] else {
            throw DatasetError(file: file.display, message: "expected a JSON list of questions, found \(JSONRecord.describe(document))")
        }
        let images = context.imageFolder(default: context.mainFolder)
        var samples: [Sample] = []
        for (index, item) in items.enumerated() {
            if context.reachedLimit(samples.count) { break }
            let record = try JSONRecord(item, file: file.display, location: .record("[\(index)]"), what: "a question")
            let group = HallusionGroup(category: try record.string("category"), subcategory: try record.string("subcategory"),
                                       setID: try record.identifier("set_id"), figureID: try record.identifier("figure_id"),
                                       questionID: try record.identifier("question_id"), visualInput: try record.identifier("visual_input"))
            guard ["VD", "VS"].contains(group.category) else {
                throw record.error("field 'category' should be \"VD\" or \"VS\", found \"\(group.category)\"")
            }
            guard ["0", "1", "2"].contains(group.visualInput) else {
                throw record.error("field 'visual_input' should be 0, 1 or 2, found \"\(group.visualInput)\"")
            }
            let answer: String
            switch try record.identifier("gt_answer") {
            case "1": answer = "yes"
            case "0": answer = "no"
            case let other: throw record.error("field 'gt_answer' should be \"1\" (yes) or \"0\" (no), found \"\(other)\"")
            }
            var imagePath: String?
            if group.visualInput != "0" {
                var name = try record.optionalString("filename")
                    ?? "\(group.category)/\(group.subcategory)/\(group.setID)_\(group.figureID).png"
                if name.hasPrefix("./") { name.removeFirst(2) }
                imagePath = try context.image(name, in: images, file: file.display, location: record.location)
            }
            let id = "hallusionbench/\(group.category)_\(group.subcategory)_\(group.setID)_\(group.figureID)_\(group.questionID)"
            samples.append(Sample(id: id, imagePath: imagePath, question: try record.string("question"),
                                  promptSuffix: context.suffix, references: [answer], answerType: .yesNo,
                                  groups: SampleGroups(hallusion: group)))
        }
        return samples
    }
}
