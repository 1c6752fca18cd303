import Foundation

/// Records in the on-disk formats the loaders read, for tools that produce datasets (the
/// synthetic suite, exporters). Writing through these keeps producers and loaders in step.
public enum DatasetRecords {
    /// One POPE question line.
    public struct POPE: Codable, Sendable, Hashable {
        public var questionID: Int
        public var image: String
        public var text: String
        /// "yes" or "no".
        public var label: String
        public var category: String?

        public init(questionID: Int, image: String, text: String, label: String, category: String? = nil) {
            self.questionID = questionID
            self.image = image
            self.text = text
            self.label = label
            self.category = category
        }

        enum CodingKeys: String, CodingKey {
            case questionID = "question_id", image, text, label, category
        }
    }

    /// A COCO captions annotation document (`images`, `annotations`).
    public struct COCOCaptions: Codable, Sendable, Hashable {
        public struct Image: Codable, Sendable, Hashable {
            public var id: Int
            public var fileName: String
            public init(id: Int, fileName: String) {
                self.id = id
                self.fileName = fileName
            }
            enum CodingKeys: String, CodingKey { case id, fileName = "file_name" }
        }

        public struct Annotation: Codable, Sendable, Hashable {
            public var imageID: Int
            public var id: Int
            public var caption: String
            public init(imageID: Int, id: Int, caption: String) {
                self.imageID = imageID
                self.id = id
                self.caption = caption
            }
            enum CodingKeys: String, CodingKey { case imageID = "image_id", id, caption }
        }

        public var images: [Image]
        public var annotations: [Annotation]
        public init(images: [Image], annotations: [Annotation]) {
            self.images = images
            self.annotations = annotations
        }
    }

    /// One counterfactual-set member line.
    public struct CounterfactualMember: Codable, Sendable, Hashable {
        public var id: String?
        public var setID: String
        public var attributes: [String: String]
        public var image: String
        public var prompt: String

        public init(id: String? = nil, setID: String, attributes: [String: String], image: String, prompt: String) {
            self.id = id
            self.setID = setID
            self.attributes = attributes
            self.image = image
            self.prompt = prompt
        }

        enum CodingKeys: String, CodingKey { case id, setID = "set_id", attributes, image, prompt }
    }

    /// One generic JSONL question line.
    public struct Question: Codable, Sendable, Hashable {
        public var id: String?
        public var question: String
        public var image: String?
        public var answers: [String]
        public var choices: [String]?
        /// `yes/no`, `short`, `multiple-choice`, `caption` or `free`.
        public var answerType: String?

        public init(id: String? = nil, question: String, image: String? = nil, answers: [String],
                    choices: [String]? = nil, answerType: String? = nil) {
            self.id = id
            self.question = question
            self.image = image
            self.answers = answers
            self.choices = choices
            self.answerType = answerType
        }

        enum CodingKeys: String, CodingKey { case id, question, image, answers, choices, answerType = "answer_type" }
    }

    /// Deterministic JSON: sorted keys, no escaped slashes, so regenerated files diff cleanly.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Writes one JSON object per line.
    public static func writeLines<Record: Encodable>(_ records: [Record], to url: URL) throws {
        let encoder = encoder()
        var data = Data()
        for record in records {
            data.append(try encoder.encode(record))
            data.append(UInt8(ascii: "\n"))
        }
        try data.write(to: url, options: .atomic)
    }

    /// Writes one JSON document.
    public static func writeDocument<Document: Encodable>(_ document: Document, to url: URL) throws {
        try encoder().encode(document).write(to: url, options: .atomic)
    }
}
