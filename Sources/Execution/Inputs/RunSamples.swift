import Crypto
import Datasets
import Foundation
import Planning
import SpecLanguage

/// One sample as a run needs it: the planner's descriptor, the loader's sample (for scoring), the
/// image file, and the format its answers are scored in.
public struct LoadedSample: Sendable {
    public var descriptor: SampleDescriptor
    public var sample: DatasetSample
    public var format: LoaderFormat
    /// The probe a synthetic sample belongs to (results are reported per probe); nil for real data.
    public var probe: String?
    public var imageURL: URL?
    /// Why the image cannot be used (missing, unreadable); the sample then fails with this message.
    public var imageProblem: String?
}

/// A dataset's samples, or why they could not be loaded.
public struct LoadedDataset: Sendable {
    public var samples: [LoadedSample]
    public var error: String?
}

/// The runner's sample source: loads every dataset a spec names (rendering synthetic suites into
/// the lcb home first) and gives the planner real content identities.
///
/// Image identities are SHA-256 digests of the image files' bytes, so renaming or moving a
/// dataset never invalidates results, and editing one image recomputes exactly its samples.
public final class RunSamples: SampleSource, @unchecked Sendable {
    private var loaded: [DatasetDescriptor: LoadedDataset] = [:]
    private let lock = NSLock()

    /// Loads every dataset of `descriptors` now (synthetic suites are rendered to `syntheticRoot`).
    public init(descriptors: [DatasetDescriptor], syntheticRoot: URL) {
        for descriptor in descriptors where loaded[descriptor] == nil {
            loaded[descriptor] = Self.load(descriptor, syntheticRoot: syntheticRoot)
        }
    }

    /// The loaded form of `descriptor` (an error when it was never loaded).
    public func dataset(_ descriptor: DatasetDescriptor) -> LoadedDataset {
        lock.lock()
        defer { lock.unlock() }
        return loaded[descriptor] ?? LoadedDataset(samples: [], error: "dataset '\(descriptor.name)' was not loaded")
    }

    public func samples(of dataset: DatasetDescriptor) -> SampleList {
        let entry = self.dataset(dataset)
        var samples = entry.samples.map(\.descriptor)
        if let limit = dataset.limit { samples = Array(samples.prefix(max(limit, 0))) }
        return SampleList(samples: samples, isProvisional: false, note: entry.error)
    }

    /// Every load error, by dataset name.
    public var errors: [(dataset: String, message: String)] {
        loaded.compactMap { descriptor, entry in entry.error.map { (descriptor.name, $0) } }.sorted { $0.dataset < $1.dataset }
    }

    // MARK: Loading

    static func load(_ descriptor: DatasetDescriptor, syntheticRoot: URL) -> LoadedDataset {
        do {
            switch descriptor.source {
            case .synthetic(let suite):
                return LoadedDataset(samples: try loadSynthetic(suite, root: syntheticRoot, limit: descriptor.limit), error: nil)
            case .files(let files):
                guard let format = LoaderFormat(rawValue: files.format.rawValue) else {
                    return LoadedDataset(samples: [], error: "dataset '\(descriptor.name)': format '\(files.format.rawValue)' has no loader")
                }
                let location = DatasetLocation(path: files.resolvedPath, images: files.resolvedImages)
                let options = LoadOptions(split: files.split, limit: descriptor.limit, promptSuffix: "", checkImages: false)
                let samples = try DatasetLoader.load(format, at: location, options: options)
                return LoadedDataset(samples: samples.map { loadedSample($0, format: format, probe: nil) }, error: nil)
            }
        } catch {
            return LoadedDataset(samples: [], error: "dataset '\(descriptor.name)': \(error)")
        }
    }

    /// Renders the suite once into `root/<settings digest>/` (reused by later runs), then loads
    /// each probe's file with its format's loader and keeps the first `size` samples per probe.
    static func loadSynthetic(_ suite: SpecLanguage.SyntheticSuite, root: URL, limit: Int?) throws -> [LoadedSample] {
        let settings = "shapes seed=\(suite.seed) count=\(suite.size) v1"
        let folder = root.appendingPathComponent(hex(Array(SHA256.hash(data: Array(settings.utf8)))).prefix(16).description)
        let marker = folder.appendingPathComponent("suite.json")
        if !FileManager.default.fileExists(atPath: marker.path) {
            let configuration = SyntheticSuiteConfiguration(seed: UInt64(max(suite.seed, 0)), count: max(suite.size, 1))
            let generated = try SyntheticSuiteGenerator(configuration: configuration)
            // Render beside, then rename: a run killed mid-render never leaves a half suite behind.
            let staging = root.appendingPathComponent(".staging-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
            try generated.write(to: staging)
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try FileManager.default.moveItem(at: staging, to: folder)
        }
        var result: [LoadedSample] = []
        let wanted = limit ?? Int.max
        for probe in suite.probes {
            guard result.count < wanted else { break }
            let generatorProbe = Self.generatorProbe(probe)
            guard let format = LoaderFormat(rawValue: generatorProbe.format) else { continue }
            // The question files name their images relative to the suite folder.
            let location = DatasetLocation(path: folder.appendingPathComponent(generatorProbe.file).path)
            let samples = try DatasetLoader.load(format, at: location, options: LoadOptions(promptSuffix: "", checkImages: false))
            for var sample in samples.prefix(min(suite.size, wanted - result.count)) {
                // COCO-format captions carry no question: real COCO gets LLaVA's instruction as its
                // prompt suffix, but a synthetic suite has no suffix, so the instruction is the
                // question here (the prompt the tiny models were trained and evaluated with).
                if format == .cocoCaptions, sample.question.isEmpty { sample.question = PromptSuffix.caption }
                result.append(loadedSample(sample, format: format, probe: probe.rawValue))
            }
        }
        return result
    }

    /// The generator's probe for a spec probe (the spec says `captioning`, the generator `language_generation`).
    static func generatorProbe(_ probe: SpecLanguage.SyntheticProbe) -> GeneratorProbe {
        switch probe {
        case .recognition: return .recognition
        case .knowledge: return .knowledge
        case .captioning: return .languageGeneration
        case .spatial: return .spatial
        case .reasoning: return .reasoning
        case .hallucination: return .hallucination
        case .illusion: return .illusion
        case .toxicity: return .toxicity
        case .stereotypes: return .stereotypes
        case .bias: return .bias
        }
    }

    static func loadedSample(_ sample: DatasetSample, format: LoaderFormat, probe: String?) -> LoadedSample {
        var imageKey: ContentKey?
        var url: URL?
        var problem: String?
        if let path = sample.imagePath {
            url = URL(fileURLWithPath: path)
            if let digest = Provenance.sha256(of: URL(fileURLWithPath: path)), let key = ContentKey(hex: digest.digest) {
                imageKey = key
            } else {
                problem = "\(path): image file not found or unreadable (sample '\(sample.id)'); check the dataset's image folder"
                // A stand-in identity: the path. The sample fails now and is retried when the file appears.
                imageKey = ContentKey(.object(["unreadable_image": .string(path)]))
            }
        }
        let descriptor = SampleDescriptor(id: sample.id, image: imageKey, question: sample.question, references: sample.references)
        return LoadedSample(descriptor: descriptor, sample: sample, format: format, probe: probe, imageURL: url, imageProblem: problem)
    }
}
