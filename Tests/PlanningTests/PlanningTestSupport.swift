import Foundation
import Planning
import SpecLanguage
import TestSupport

/// An inspector that never touches the disk: identity from the path, sizes from a fixture config.
struct FixtureInspector: ModelInspecting {
    /// Fixture folder under Tests/Fixtures/planning whose config.json gives the sizes; nil = unknown cost.
    var configFixture: String? = "llava-gemma-2b"

    func inspect(_ model: ModelDescriptor) -> ModelInspection {
        let identity = ModelIdentity(
            weights: ContentKey(.object(["weights": .string(model.path)])),
            tokenizer: ContentKey(.object(["tokenizer": .string(model.path)])),
            preprocessor: ContentKey(.object(["preprocessor": .string(model.path)])))
        guard let configFixture else {
            return ModelInspection(identity: identity, architecture: nil, notes: ["model '\(model.name)': no config"])
        }
        let architecture = try? ModelArchitecture.read(checkpoint: Fixtures.url("planning/\(configFixture)"))
        return ModelInspection(identity: identity, architecture: architecture)
    }
}

/// Samples by dataset name.
struct TableSampleSource: SampleSource {
    var samples: [String: [SampleDescriptor]]

    func samples(of dataset: DatasetDescriptor) -> SampleList {
        SampleList(samples: samples[dataset.name] ?? [])
    }
}

func image(_ name: String) -> ContentKey { ContentKey(.string("image:" + name)) }

/// POPE-shaped: 4 images, 3 questions about each (12 samples).
let popeLike: [SampleDescriptor] = (0..<4).flatMap { picture in
    (0..<3).map { question in
        SampleDescriptor(id: "p\(picture)-\(question)", image: image("coco-\(picture)"),
                         question: "Is there a thing number \(question) in the image?", references: ["yes"])
    }
}

/// VQA-shaped: 5 images, one question each.
let vqaLike: [SampleDescriptor] = (0..<5).map { picture in
    SampleDescriptor(id: "v\(picture)", image: image("vqa-\(picture)"), question: "What colour is object \(picture)?",
                     references: ["red"])
}

let testSamples = TableSampleSource(samples: ["pope": popeLike, "vqa": vqaLike])

let gemmaModel = ModelDescriptor(name: "gemma", path: "/models/llava-gemma-2b", dtype: .auto, template: .gemma)

func dataset(_ name: String, suffix: String = "Answer the question using a single word or phrase.",
             metrics: [Metric] = [.accuracy]) -> DatasetDescriptor {
    DatasetDescriptor(name: name, source: .files(DatasetFiles(format: .jsonl, path: name, resolvedPath: "/data/\(name)",
                                                             answerType: .short)),
                      promptSuffix: suffix, metrics: metrics)
}

/// 3 KV methods × 3 bit widths in one regime.
func kvSweep(_ regime: KVRegime) -> [KVCacheQuantization] {
    let methods: [KVMethod] = [.uniform(scope: .perTensor), .outlier(outlierFraction: 0.01), .group(.groupDefaults)]
    return methods.flatMap { method in [2, 4, 8].map { KVCacheQuantization(method: method, bits: $0, regime: regime) } }
}

func cells(model: ModelDescriptor = gemmaModel, weights: [WeightQuantization?] = [nil], kv: [KVCacheQuantization?],
           datasets: [DatasetDescriptor] = [dataset("pope"), dataset("vqa")],
           generation: GenerationSettings = GenerationSettings(maxNewTokens: 8), experiment: String = "sweep",
           specFile: String = "sweep.yaml") -> [Cell] {
    weights.flatMap { weights in
        kv.flatMap { kv in
            datasets.map { dataset in
                Cell(model: model, weights: weights, kv: kv, dataset: dataset, generation: generation,
                     label: CellLabel(specFile: specFile, experiment: experiment, model: model.name,
                                      compression: "\(String(describing: weights))/\(String(describing: kv))",
                                      dataset: dataset.name))
            }
        }
    }
}

func planner(dedup: Bool = true, inspector: any ModelInspecting = FixtureInspector(),
             samples: any SampleSource = testSamples) -> Planner {
    try Planner(inspector: inspector, samples: samples, deduplicate: dedup)
}

extension Plan {
    func count(_ kind: JobKind) -> Int { jobs.filter { $0.kind == kind }.count }
    func keys(_ kind: JobKind) -> Set<ContentKey> { Set(jobs.filter { $0.kind == kind }.map(\.key)) }
}
