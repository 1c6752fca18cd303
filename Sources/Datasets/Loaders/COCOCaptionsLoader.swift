import Foundation

/// COCO Captions: `captions_<split>.json` with `images` (`id`, `file_name`) and `annotations`
/// (`image_id`, `caption`). One sample per image, its captions as references, in `images` order.
enum COCOCaptionsLoader {
    static func load(_ context: LoadContext) throws -> [Sample] {
        let file = context.main
        let document = try JSONFile.document(file, expecting: "COCO caption annotations ({\"images\", \"annotations\"})")
        let root = try JSONRecord(document, file: file.display, location: .file, what: "the annotations document")
        let images = try root.objects("images")
        var captions: [String: [String]] = [:]
        for (index, value) in try root.objects("annotations").enumerated() {
            let record = try JSONRecord(value, file: file.display, location: .record("annotations[\(index)]"), what: "an annotation")
            captions[try record.identifier("image_id"), default: []].append(try record.string("caption"))
        }
        let folder = context.imageFolder(default: context.mainFolder)
        var known = Set<String>()
        var samples: [Sample] = []
        for (index, value) in images.enumerated() {
            let record = try JSONRecord(value, file: file.display, location: .record("images[\(index)]"), what: "an image")
            let imageID = try record.identifier("id")
            known.insert(imageID)
            if context.reachedLimit(samples.count) { continue }
            let located = JSONRecord(record.object, file: file.display, location: .record("image id \(imageID)"))
            let fileName = try located.string("file_name")
            guard let references = captions[imageID], !references.isEmpty else {
                throw located.error("image has no captions in 'annotations'")
            }
            let imagePath = try context.image(fileName, in: folder, file: file.display, location: located.location)
            samples.append(Sample(id: "coco/\(imageID)", imagePath: imagePath, question: "", promptSuffix: context.suffix,
                                  references: references, answerType: .caption))
        }
        if let orphan = captions.keys.sorted().first(where: { !known.contains($0) }) {
            throw DatasetError(file: file.display, location: .record("image_id \(orphan)"),
                               message: "annotation refers to an image id that is not in 'images'")
        }
        return samples
    }
}
