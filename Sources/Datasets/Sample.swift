/// One evaluation item: what the model sees, what it should answer, and how metrics group it.
///
/// Every loader produces these, and so does the synthetic suite generator (through the files it
/// writes), so the runner and the metrics never see a dataset's own record layout.
public struct Sample: Sendable, Hashable, Codable {
    /// Stable identifier, `<dataset>/<native id>`; unique within a dataset and the same on every load.
    public var id: String
    /// Absolute path of the image file, or nil for text-only questions (HallusionBench `visual_input` 0).
    public var imagePath: String?
    /// The question or instruction as the dataset states it.
    public var question: String
    /// The instruction appended after a newline (LLaVA's per-dataset evaluation suffix); empty for none.
    public var promptSuffix: String
    /// Reference answers: one for most datasets, ten for VQAv2, five or more captions for COCO.
    public var references: [String]
    /// What shape the answer takes, which decides how an output is parsed.
    public var answerType: AnswerType
    /// Fields that metrics group by (category, subtask, pair, set, attributes).
    public var groups: SampleGroups

    public init(id: String, imagePath: String?, question: String, promptSuffix: String = "",
                references: [String], answerType: AnswerType, groups: SampleGroups = SampleGroups()) {
        self.id = id
        self.imagePath = imagePath
        self.question = question
        self.promptSuffix = promptSuffix
        self.references = references
        self.answerType = answerType
        self.groups = groups
    }

    /// The text sent to the model after the image: the question, then the suffix on its own line.
    public var prompt: String {
        promptSuffix.isEmpty ? question : question + "\n" + promptSuffix
    }
}

/// The form an answer takes.
public enum AnswerType: Sendable, Hashable, Codable {
    /// "yes" or "no" (POPE, MME, HallusionBench).
    case yesNo
    /// A single word or phrase (VQAv2, GQA).
    case shortAnswer
    /// One of `choices`, answered by its letter (ScienceQA: A, B, …; MMVP: a, b).
    case multipleChoice(choices: [String])
    /// An image caption (COCO).
    case caption
    /// Open text (MM-Vet, counterfactual prompts).
    case freeText

    /// The case's name without its payload, for messages (`multiple-choice`).
    public var kind: String {
        switch self {
        case .yesNo: return "yes/no"
        case .shortAnswer: return "short"
        case .multipleChoice: return "multiple-choice"
        case .caption: return "caption"
        case .freeText: return "free"
        }
    }

    /// Whether the answer is one checked for equality with a reference: yes/no or short. Such
    /// answers can share one exact-match score.
    public var isClosedAnswer: Bool {
        switch self {
        case .yesNo, .shortAnswer: return true
        case .multipleChoice, .caption, .freeText: return false
        }
    }
}

/// The grouping fields the official metrics need; each dataset fills only its own.
public struct SampleGroups: Sendable, Hashable, Codable {
    /// POPE negative-sampling setting: `random`, `popular` or `adversarial`.
    public var popeCategory: String?
    /// MME subtask (e.g. `existence`) and the image both of its questions share.
    public var mme: MMEGroup?
    /// MMVP pair number: questions 1–2 are pair 0, 3–4 pair 1, ….
    public var mmvpPairID: Int?
    /// HallusionBench identifiers used by fAcc and qAcc.
    public var hallusion: HallusionGroup?
    /// Counterfactual set id and the attribute values of this member.
    public var counterfactual: CounterfactualGroup?
    /// MM-Vet capability tags (`rec`, `ocr`, `know`, `gen`, `spat`, `math`).
    public var capabilities: [String]
    /// VQAv2 `answer_type` (`yes/no`, `number`, `other`), for per-type breakdowns.
    public var vqaAnswerType: String?

    public init(popeCategory: String? = nil, mme: MMEGroup? = nil, mmvpPairID: Int? = nil,
                hallusion: HallusionGroup? = nil, counterfactual: CounterfactualGroup? = nil,
                capabilities: [String] = [], vqaAnswerType: String? = nil) {
        self.popeCategory = popeCategory
        self.mme = mme
        self.mmvpPairID = mmvpPairID
        self.hallusion = hallusion
        self.counterfactual = counterfactual
        self.capabilities = capabilities
        self.vqaAnswerType = vqaAnswerType
    }
}

/// MME grouping: acc+ needs both questions about one image.
public struct MMEGroup: Sendable, Hashable, Codable {
    public var subtask: String
    public var imageID: String
    public init(subtask: String, imageID: String) {
        self.subtask = subtask
        self.imageID = imageID
    }
}

/// HallusionBench identifiers, kept as the strings the JSON holds.
public struct HallusionGroup: Sendable, Hashable, Codable {
    /// `VD` (visual dependent) or `VS` (visual supplement).
    public var category: String
    public var subcategory: String
    public var setID: String
    public var figureID: String
    public var questionID: String
    /// `0` no image, `1` original image, `2` edited image.
    public var visualInput: String

    public init(category: String, subcategory: String, setID: String, figureID: String,
                questionID: String, visualInput: String) {
        self.category = category
        self.subcategory = subcategory
        self.setID = setID
        self.figureID = figureID
        self.questionID = questionID
        self.visualInput = visualInput
    }
}

/// Membership in a counterfactual set: images that differ only in the named attributes.
public struct CounterfactualGroup: Sendable, Hashable, Codable {
    public var setID: String
    /// Attribute name → value, e.g. `race: asian`, `gender: female`.
    public var attributes: [String: String]
    public init(setID: String, attributes: [String: String]) {
        self.setID = setID
        self.attributes = attributes
    }
}
