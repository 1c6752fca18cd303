import SpecLanguage

/// One dataset sample as the planner needs it: its content, never its pixels.
///
/// The runner injects these from the real dataset loaders; `lcb plan` may use stand-ins (see
/// `StandInSampleSource`). Only content enters keys: the `id` is for reports and progress.
public struct SampleDescriptor: Sendable, Hashable {
    /// The dataset's own id for the sample (question id, line number).
    public var id: String
    /// SHA-256 of the image file's bytes; nil for a text-only sample.
    public var image: ContentKey?
    /// The user text the template's `{question}` receives, before the dataset's prompt suffix.
    public var question: String
    /// Reference answers the metrics compare against.
    public var references: [String]

    public init(id: String, image: ContentKey?, question: String, references: [String] = []) {
        self.id = id
        self.image = image
        self.question = question
        self.references = references
    }
}

/// A dataset as the planner sees it.
public struct DatasetDescriptor: Sendable, Hashable {
    /// The spec's name for it (a label; never part of a content key).
    public var name: String
    public var source: DatasetSource
    /// At most this many samples (the first ones, in the dataset's order).
    public var limit: Int?
    /// Appended to every question on a new line (LLaVA's "Answer the question using a single
    /// word or phrase."); empty for none.
    public var promptSuffix: String
    /// What scoring computes.
    public var metrics: [Metric]

    public init(name: String, source: DatasetSource, limit: Int? = nil, promptSuffix: String = "", metrics: [Metric] = []) {
        self.name = name
        self.source = source
        self.limit = limit
        self.promptSuffix = promptSuffix
        self.metrics = metrics
    }

    /// The descriptor of a spec's dataset definition.
    public init(_ definition: DatasetDefinition) {
        self.init(name: definition.name, source: definition.source, limit: definition.limit,
                  promptSuffix: definition.promptSuffix, metrics: definition.metrics)
    }

    /// The text the template's `{question}` receives for one sample.
    public func userText(for sample: SampleDescriptor) -> String {
        promptSuffix.isEmpty ? sample.question : sample.question + "\n" + promptSuffix
    }
}

extension DatasetSource {
    /// What the dataset is, without its name: suite settings, or format, resolved paths and split.
    public var canonical: CanonicalValue {
        switch self {
        case .synthetic(let suite):
            return .object([
                "suite": .string(suite.suite.rawValue), "seed": .integer(suite.seed), "size": .integer(suite.size),
                "probes": .array(suite.probes.map { .string($0.rawValue) }),
            ])
        case .files(let files):
            return .object([
                "format": .string(files.format.rawValue), "path": .string(files.resolvedPath),
                "images": .optional(files.resolvedImages, CanonicalValue.string),
                "split": .optional(files.split, CanonicalValue.string), "answer_type": .string(files.answerType.rawValue),
            ])
        }
    }
}

/// A dataset's samples, in order, with a word on how real their identities are.
public struct SampleList: Sendable {
    public var samples: [SampleDescriptor]
    /// True when identities are stand-ins (not the real image bytes and questions): the plan's
    /// counts are right, but keys are not the ones the run will use.
    public var isProvisional: Bool
    /// Why, when something could not be enumerated.
    public var note: String?

    public init(samples: [SampleDescriptor], isProvisional: Bool = false, note: String? = nil) {
        self.samples = samples
        self.isProvisional = isProvisional
        self.note = note
    }
}

/// Supplies each dataset's sample descriptors: the seam where the runner plugs in the loaders.
public protocol SampleSource: Sendable {
    /// The samples of `dataset`, in order. May stop at `dataset.limit`.
    func samples(of dataset: DatasetDescriptor) -> SampleList
}

/// Enumerates samples without loading any dataset, for `lcb plan` before a run.
///
/// Synthetic samples get a stand-in identity: the hash of the scene's description (suite, seed,
/// probe, index), one image and one question each, `size` per probe. Real-format datasets cannot
/// be read here (their loaders live in Datasets); with a `limit` they plan that many placeholder
/// samples, without one they plan none. Both carry a note, and the plan is marked provisional.
public struct StandInSampleSource: SampleSource {
    /// Most samples enumerated for one dataset; a larger one contributes none, with a note.
    public var maximumSamples: Int

    public init(maximumSamples: Int = 1_000_000) { self.maximumSamples = maximumSamples }

    private func tooLarge(_ dataset: DatasetDescriptor, _ count: Int) -> SampleList {
        SampleList(samples: [], isProvisional: true,
                   note: "dataset '\(dataset.name)' has \(count) samples; lcb plan enumerates at most \(maximumSamples) per dataset, "
                       + "so it adds no jobs to this plan: lower its size or set `limit`")
    }

    public func samples(of dataset: DatasetDescriptor) -> SampleList {
        switch dataset.source {
        case .synthetic(let suite):
            let (total, overflow) = max(suite.size, 0).multipliedReportingOverflow(by: suite.probes.count)
            let count = min(overflow ? Int.max : total, dataset.limit ?? Int.max)
            if count > maximumSamples { return tooLarge(dataset, count) }
            var samples: [SampleDescriptor] = []
            samples.reserveCapacity(count)
            let wanted = count
            outer: for probe in suite.probes {
                for index in 0..<max(suite.size, 0) {
                    if samples.count >= wanted { break outer }
                    let scene = ContentKey(.object([
                        "suite": .string(suite.suite.rawValue), "seed": .integer(suite.seed),
                        "probe": .string(probe.rawValue), "index": .integer(index),
                    ]))
                    samples.append(SampleDescriptor(id: "\(probe.rawValue)-\(index)", image: scene,
                                                    question: "\(probe.rawValue) question \(index)"))
                }
            }
            return SampleList(samples: samples, isProvisional: true,
                              note: "dataset '\(dataset.name)': synthetic samples stand in by scene description (images are not rendered at plan time)")
        case .files(let files):
            let what = "dataset '\(dataset.name)' (\(files.format.rawValue) at \(files.path))"
            if let limit = dataset.limit, limit > maximumSamples { return tooLarge(dataset, limit) }
            guard let limit = dataset.limit else {
                return SampleList(samples: [], isProvisional: true,
                                  note: "\(what): samples cannot be enumerated before its loader runs and it has no `limit`; it adds no jobs to this plan")
            }
            let origin = CanonicalValue.object([
                "format": .string(files.format.rawValue), "path": .string(files.resolvedPath),
                "split": .optional(files.split, CanonicalValue.string),
            ])
            let samples = (0..<max(limit, 0)).map { index in
                SampleDescriptor(id: "\(index)", image: ContentKey(.object(["placeholder": origin, "index": .integer(index)])),
                                 question: "question \(index)")
            }
            return SampleList(samples: samples, isProvisional: true,
                              note: "\(what): \(limit) placeholder samples from `limit`; questions sharing an image are not known until its loader runs")
        }
    }
}
