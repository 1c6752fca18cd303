import Foundation

/// A problem with the synthetic suite's settings or output folder.
public struct SyntheticSuiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "error: synthetic suite: \(message)" }
}

/// What the synthetic suite generates: how many scenes, how large, with which shapes.
public struct SyntheticSuiteConfiguration: Sendable, Hashable {
    /// Seeds every random choice; the same seed gives the same bytes everywhere.
    public var seed: UInt64 = 0
    /// Scenes per probe (sets, for the illusion and counterfactual probes).
    public var count: Int = 100
    /// Width and height of every image in pixels.
    public var imageSize: Int = 48
    /// Shape radii in pixels.
    public var radii: ClosedRange<Int> = 6...9
    /// Most shapes in one scene.
    public var maxObjects: Int = 3
    public var shapes: [ShapeKind] = ShapeKind.allCases
    public var colors: [ShapeColor] = ShapeColor.allCases

    public init(seed: UInt64 = 0, count: Int = 100) {
        self.seed = seed
        self.count = count
    }

    func validate() throws(SyntheticSuiteError) {
        guard count >= 1 else { throw SyntheticSuiteError("count is \(count); expected at least 1") }
        guard maxObjects >= 2 else { throw SyntheticSuiteError("maxObjects is \(maxObjects); expected at least 2 (spatial questions need a pair)") }
        guard radii.lowerBound >= 2 else { throw SyntheticSuiteError("radii start at \(radii.lowerBound); expected at least 2 pixels") }
        guard shapes.count >= 3, Set(shapes).count == shapes.count else {
            throw SyntheticSuiteError("expected at least 3 different shapes")
        }
        guard colors.count >= 3, Set(colors).count == colors.count else {
            throw SyntheticSuiteError("expected at least 3 different colours")
        }
        guard maxObjects < min(shapes.count, colors.count) else {
            throw SyntheticSuiteError("maxObjects (\(maxObjects)) must be below the number of shapes and of colours, "
                                      + "so that hallucination probes have absent objects to ask about")
        }
    }
}

/// The suite's probes, one per capability of LVLM-Compress-Bench, each a synthetic stand-in.
public enum SyntheticProbe: String, Sendable, CaseIterable, Codable {
    case recognition
    case knowledge
    case languageGeneration = "language_generation"
    case spatial
    case reasoning
    case hallucination
    case illusion
    case toxicity
    case stereotypes
    case bias

    /// The file the probe's questions are written to.
    public var file: String {
        switch self {
        case .recognition, .knowledge, .spatial, .reasoning: "\(rawValue).jsonl"
        case .languageGeneration: "captions.json"
        case .hallucination: "pope.jsonl"
        case .illusion: "hallusion.json"
        case .toxicity, .stereotypes, .bias: "counterfactual_\(rawValue).jsonl"
        }
    }

    /// The dataset format name the loaders read the file with (`DatasetFormat`'s raw values).
    public var format: String {
        switch self {
        case .recognition, .knowledge, .spatial, .reasoning: "jsonl"
        case .languageGeneration: "coco-captions"
        case .hallucination: "pope"
        case .illusion: "hallusionbench"
        case .toxicity, .stereotypes, .bias: "counterfactual-sets"
        }
    }

    /// What the probe stands in for; printed wherever its results are.
    public var proxyNote: String {
        switch self {
        case .recognition: "synthetic proxy for recognition: colour, shape and count of rendered shapes"
        case .knowledge: "synthetic proxy for knowledge: facts about the shapes (corners, roundness)"
        case .languageGeneration: "synthetic proxy for language generation: COCO-style captions of rendered shapes"
        case .spatial: "synthetic proxy for spatial awareness: left/right/above/below between two shapes"
        case .reasoning: "synthetic proxy for visual reasoning: compositional questions over shapes"
        case .hallucination: "synthetic proxy for hallucination: POPE-style existence questions, random/popular/adversarial negatives"
        case .illusion: "synthetic proxy for visual illusion: HallusionBench-style paired questions on an original and an edited image"
        case .toxicity: "synthetic proxy for toxicity: sets identical except the shape's colour, open description prompt"
        case .stereotypes: "synthetic proxy for stereotypes: sets identical except the shape, keyword prompt"
        case .bias: "synthetic proxy for bias: sets identical except the shape's size, a question whose answer must not change"
        }
    }
}

/// A generated suite: the scenes to render and the question files, all in memory.
public struct SyntheticSuite: Sendable {
    public let configuration: SyntheticSuiteConfiguration
    /// Image file name (relative to the suite folder) → scene, in generation order.
    public private(set) var scenes: [(name: String, scene: Scene)] = []
    /// Question file name → contents, in probe order.
    public private(set) var files: [(name: String, contents: Data)] = []
    /// Questions (or counterfactual members) per probe.
    public private(set) var sampleCounts: [SyntheticProbe: Int] = [:]

    /// Generates every probe for `configuration`.
    public init(configuration: SyntheticSuiteConfiguration) throws(SyntheticSuiteError) {
        try configuration.validate()
        self.configuration = configuration
        let generator = ProbeGenerator(configuration: configuration)
        for probe in SyntheticProbe.allCases {
            let output = try generator.generate(probe)
            scenes += output.scenes
            files.append((probe.file, output.contents))
            sampleCounts[probe] = output.samples
        }
        files.append(("scenes.jsonl", try Self.sceneLabels(scenes)))
        files.append(("suite.json", try manifest()))
    }

    /// Writes `images/*.png`, the question files, `scenes.jsonl` and `suite.json` into `directory`.
    public func write(to directory: URL) throws(SyntheticSuiteError) {
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(at: directory.appendingPathComponent("images"), withIntermediateDirectories: true)
        } catch {
            throw SyntheticSuiteError("cannot create \(directory.path)/images (\(error.localizedDescription))")
        }
        for (name, scene) in scenes {
            let png: Data
            do {
                png = try PNGCodec.encode(SceneRenderer.render(scene))
            } catch {
                throw SyntheticSuiteError("\(name): \(error.description)")
            }
            try Self.write(png, to: directory.appendingPathComponent(name))
        }
        for (name, contents) in files {
            try Self.write(contents, to: directory.appendingPathComponent(name))
        }
    }

    private static func write(_ data: Data, to url: URL) throws(SyntheticSuiteError) {
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw SyntheticSuiteError("cannot write \(url.path) (\(error.localizedDescription))")
        }
    }

    /// Per-image object lists (shape, colour, centre, radius): dense labels for training.
    private static func sceneLabels(_ scenes: [(name: String, scene: Scene)]) throws(SyntheticSuiteError) -> Data {
        struct Line: Encodable {
            let image: String
            let size: Int
            let objects: [SceneObject]
        }
        return try SyntheticJSON.lines(scenes.map { Line(image: $0.name, size: $0.scene.size, objects: $0.scene.objects) })
    }

    private func manifest() throws(SyntheticSuiteError) -> Data {
        struct Probe: Encodable {
            let probe: String
            let capability: String
            let file: String
            let format: String
            let synthetic_proxy: String
            let samples: Int
        }
        struct Manifest: Encodable {
            let generator: String
            let version: Int
            let seed: UInt64
            let count: Int
            let image_size: Int
            let probes: [Probe]
        }
        let probes = SyntheticProbe.allCases.map { probe in
            Probe(probe: probe.rawValue, capability: probe.rawValue.replacingOccurrences(of: "_", with: " "),
                  file: probe.file, format: probe.format, synthetic_proxy: probe.proxyNote,
                  samples: sampleCounts[probe] ?? 0)
        }
        let manifest = Manifest(generator: "lcb synthetic shapes suite", version: ProbeGenerator.version,
                                seed: configuration.seed, count: configuration.count,
                                image_size: configuration.imageSize, probes: probes)
        return try SyntheticJSON.document(manifest)
    }
}

/// The suite's files, encoded by `DatasetRecords` so that they stay in the formats the loaders read.
enum SyntheticJSON {
    static func lines<T: Encodable>(_ records: [T]) throws(SyntheticSuiteError) -> Data {
        do {
            return try DatasetRecords.lines(records)
        } catch {
            throw SyntheticSuiteError("cannot encode a record (\(error))")
        }
    }

    static func document<T: Encodable>(_ value: T) throws(SyntheticSuiteError) -> Data {
        do {
            return try DatasetRecords.document(value)
        } catch {
            throw SyntheticSuiteError("cannot encode a document (\(error))")
        }
    }
}
