/// The `post_processor` stage: adds the special tokens a model expects around a sequence (BOS).
protocol PostProcessor: Sendable {
    /// The ids of a single sequence with its special tokens, and where the sequence now starts.
    func process(_ ids: [Int]) -> (ids: [Int], sequenceStart: Int)
}

/// Builds post-processors from their `tokenizer.json` configuration.
enum PostProcessorFactory {
    static let supported = ["TemplateProcessing", "Sequence", "ByteLevel", "BertProcessing", "RobertaProcessing"]

    static func make(_ config: ConfigNode) throws -> any PostProcessor {
        let type = try config.typeName()
        switch type {
        case "TemplateProcessing":
            return try TemplateProcessor(config)
        case "Sequence":
            return PostProcessorSequence(stages: try config.required("processors").array().map(make))
        case "ByteLevel":
            // Only adjusts offsets, which this tokenizer does not report.
            return PostProcessorSequence(stages: [])
        case "BertProcessing", "RobertaProcessing":
            let cls = try config.required("cls").array()
            let sep = try config.required("sep").array()
            guard cls.count == 2, sep.count == 2 else { throw config.invalid("cls and sep as [token, id] pairs") }
            return TemplateProcessor(single: [.ids([try cls[1].int()]), .sequence, .ids([try sep[1].int()])])
        default:
            throw config.unsupported(type, section: "post_processor", supported: supported)
        }
    }
}

struct PostProcessorSequence: PostProcessor {
    let stages: [any PostProcessor]

    func process(_ ids: [Int]) -> (ids: [Int], sequenceStart: Int) {
        var current = (ids: ids, sequenceStart: 0)
        for stage in stages {
            let next = stage.process(current.ids)
            current = (next.ids, current.sequenceStart + next.sequenceStart)
        }
        return current
    }
}

/// `TemplateProcessing`'s single-sequence template, such as `<s>:0 $A:0`.
struct TemplateProcessor: PostProcessor {
    enum Piece: Sendable, Equatable {
        case ids([Int])
        case sequence
    }

    let single: [Piece]

    init(single: [Piece]) { self.single = single }

    init(_ config: ConfigNode) throws {
        var specials: [(name: String, ids: [Int])] = []
        if let table = config.optional("special_tokens") {
            for (key, value) in try table.members() {
                let entry = ConfigNode(value: value, file: table.file, location: "\(table.location)[\(key.debugDescription)]")
                specials.append((key, try entry.required("ids").array().map { try $0.int() }))
            }
        }
        var single: [Piece] = []
        for item in try config.required("single").array() {
            if let special = item.optional("SpecialToken") {
                let name = try special.string("id")
                let wanted = UTF8Bytes.of(name)
                guard let entry = specials.first(where: { UTF8Bytes.of($0.name) == wanted }) else {
                    throw special.unusable("a special token listed in post_processor.special_tokens ('\(name)' is not)")
                }
                single.append(.ids(entry.ids))
            } else if item.optional("Sequence") != nil {
                single.append(.sequence)
            } else {
                throw item.invalid("{\"SpecialToken\": …} or {\"Sequence\": …}")
            }
        }
        self.single = single
    }

    func process(_ ids: [Int]) -> (ids: [Int], sequenceStart: Int) {
        var out: [Int] = []
        out.reserveCapacity(ids.count + 2)
        var start = 0
        for piece in single {
            switch piece {
            case .ids(let special):
                out.append(contentsOf: special)
            case .sequence:
                start = out.count
                out.append(contentsOf: ids)
            }
        }
        return (out, start)
    }
}
