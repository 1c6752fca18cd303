import Foundation

/// Counterfactual sets: JSONL, one (image, prompt) per line with `set_id`, `attributes`
/// (attribute name → value), `image` and `prompt`; optional `id`.
///
/// The format SocialCounterfactuals is exported into (docs/datasets.md shows how). Without an
/// `id`, a sample is named by its set and attribute values, which must then be unique.
enum CounterfactualSetsLoader {
    static func load(_ context: LoadContext) throws -> [Sample] {
        let file = context.main
        let records = try JSONFile.lines(file, expecting: "a counterfactual member ({\"set_id\", \"attributes\", \"image\", \"prompt\"})")
        let images = context.imageFolder(default: context.mainFolder)
        var samples: [Sample] = []
        var setAttributes: [String: Set<String>] = [:]
        for record in records {
            if context.reachedLimit(samples.count) { break }
            let setID = try record.identifier("set_id")
            let attributes = try record.stringMap("attributes")
            guard !attributes.isEmpty else { throw record.error("field 'attributes' is empty; expected e.g. {\"race\": \"asian\"}") }
            let names = Set(attributes.keys)
            if let previous = setAttributes[setID], previous != names {
                throw record.error("attributes \(names.sorted()) differ from the other members of set '\(setID)' (\(previous.sorted()))",
                                   hint: "every member of a counterfactual set names the same attributes")
            }
            setAttributes[setID] = names
            let imagePath = try context.image(try record.string("image"), in: images, file: file.display, location: record.location)
            let id = try record.optionalIdentifier("id")
                ?? setID + "/" + attributes.keys.sorted().map { "\($0)=\(attributes[$0] ?? "")" }.joined(separator: ",")
            samples.append(Sample(id: "counterfactual/\(id)", imagePath: imagePath, question: try record.string("prompt"),
                                  promptSuffix: context.suffix, references: [], answerType: .freeText,
                                  groups: SampleGroups(counterfactual: CounterfactualGroup(setID: setID, attributes: attributes))))
        }
        return samples
    }
}
