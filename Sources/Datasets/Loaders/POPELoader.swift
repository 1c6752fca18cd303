import Foundation

/// POPE: JSONL, one question per line: `question_id`, `image`, `text`, `label` (yes/no), optional `category`.
///
/// The original files are one per negative-sampling setting (`coco_pope_adversarial.json`); LLaVA's
/// combined file carries a `category` field. The category comes from that field, else from the
/// file name. `split` keeps one category.
enum POPELoader {
    static let categories = ["random", "popular", "adversarial"]

    static func load(_ context: LoadContext) throws -> [Sample] {
        let file = context.main
        let records = try JSONFile.lines(file, expecting: "a POPE question ({\"question_id\", \"image\", \"text\", \"label\"})")
        let images = context.imageFolder(default: context.mainFolder)
        let fileCategory = categories.first { (file.display as NSString).lastPathComponent.lowercased().contains($0) }
        if let split = context.options.split, !categories.contains(split) {
            throw DatasetError(file: file.display, message: "unknown POPE split '\(split)'; expected one of \(categories.joined(separator: ", "))")
        }
        var samples: [Sample] = []
        for record in records {
            if context.reachedLimit(samples.count) { break }
            let questionID = try record.identifier("question_id")
            let imageName = try record.string("image")
            let text = try record.string("text")
            let label = try record.string("label").trimmingCharacters(in: .whitespaces).lowercased()
            guard label == "yes" || label == "no" else {
                throw record.error("field 'label' should be \"yes\" or \"no\", found \"\(label)\"")
            }
            let category = try record.optionalString("category") ?? fileCategory
            if let split = context.options.split, category != split { continue }
            let imagePath = try context.image(imageName, in: images, file: file.display, location: record.location)
            let id = category.map { "pope/\($0)/\(questionID)" } ?? "pope/\(questionID)"
            samples.append(Sample(id: id, imagePath: imagePath, question: text, promptSuffix: context.suffix,
                                  references: [label], answerType: .yesNo,
                                  groups: SampleGroups(popeCategory: category)))
        }
        return samples
    }
}
