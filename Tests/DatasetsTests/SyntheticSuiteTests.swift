import Foundation
import Testing
@testable import Datasets

@Suite("Synthetic random numbers (SplitMix64)")
struct SyntheticRandomTests {
    @Test("matches the published SplitMix64 sequence")
    func referenceValues() {
        var zero = SyntheticRandom(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
        #expect(zero.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(zero.next() == 0x06C4_5D18_8009_454F)
        var other = SyntheticRandom(seed: 1_234_567)
        #expect(other.next() == 0x599E_D017_FB08_FC85)
    }

    @Test("bounded draws are in range and roughly uniform")
    func bounded() {
        var rng = SyntheticRandom(seed: 42)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 { counts[rng.below(7)] += 1 }
        #expect(counts.allSatisfy { $0 > 850 && $0 < 1150 }, "\(counts)")
        let shuffled = rng.shuffled(Array(0..<20))
        #expect(shuffled.sorted() == Array(0..<20))
        #expect(shuffled != Array(0..<20))
    }

    @Test("named streams are independent and reproducible")
    func streams() {
        var a = SyntheticRandom(seed: 7, stream: "spatial", index: 3)
        var b = SyntheticRandom(seed: 7, stream: "spatial", index: 3)
        var c = SyntheticRandom(seed: 7, stream: "spatial", index: 4)
        var d = SyntheticRandom(seed: 7, stream: "reasoning", index: 3)
        let first = a.next()
        #expect(first == b.next())
        #expect(first != c.next())
        #expect(first != d.next())
    }
}

@Suite("Synthetic scenes")
struct SyntheticSceneTests {
    @Test("rendered shapes have their colour at the centre and the background outside", arguments: ShapeKind.allCases)
    func rendering(shape: ShapeKind) {
        let object = SceneObject(shape: shape, color: .orange, x: 20, y: 24, radius: 8)
        let raster = SceneRenderer.render(Scene(size: 48, objects: [object]))
        #expect(raster[20, 24] == ShapeColor.orange.rgb)
        #expect(raster[2, 2] == Scene.background)
        #expect(raster[20, 24 + 12] == Scene.background)
        // Coverage matches the shape's area to within its antialiased edge.
        let covered = stride(from: 0, to: raster.pixels.count, by: 3).filter { raster.pixels[$0] != Scene.background.red }.count
        let expectedArea: Double = switch shape {
        case .circle: Double.pi * 64
        case .square: (2 * 8 * 0.85) * (2 * 8 * 0.85)
        case .diamond: 2 * (8 * 1.15) * (8 * 1.15)
        case .cross: 2 * (16 * 16.0 / 3) - (16.0 / 3) * (16.0 / 3)
        case .triangle: 3.0.squareRoot() / 4 * 3 * (8 * 1.1) * (8 * 1.1)
        }
        #expect(abs(Double(covered) - expectedArea) < 0.35 * expectedArea, "\(shape): \(covered) pixels vs \(expectedArea)")
    }

    @Test("spatial relations are only called when clear")
    func relations() {
        let a = SceneObject(shape: .circle, color: .red, x: 10, y: 20, radius: 6)
        let b = SceneObject(shape: .square, color: .blue, x: 30, y: 22, radius: 6)
        let c = SceneObject(shape: .cross, color: .green, x: 14, y: 34, radius: 6)
        #expect(SpatialRelation.between(a, b, margin: 6) == .left)
        #expect(SpatialRelation.between(b, a, margin: 6) == .right)
        #expect(SpatialRelation.between(a, c, margin: 6) == .above)  // dy 14 ≥ 2 × dx 4
        #expect(SpatialRelation.between(c, b, margin: 6) == nil)  // diagonal
    }

    @Test("PNG encoding round-trips through libpng")
    func pngRoundTrip() throws {
        let scene = Scene(size: 48, objects: [SceneObject(shape: .triangle, color: .yellow, x: 20, y: 20, radius: 9),
                                              SceneObject(shape: .circle, color: .blue, x: 36, y: 36, radius: 6)])
        let raster = SceneRenderer.render(scene)
        let png = try PNGCodec.encode(raster)
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // IHDR: width, height, 8-bit, colour type 2 (RGB), no interlace.
        #expect(Array(png[16..<29]) == [0, 0, 0, 48, 0, 0, 0, 48, 8, 2, 0, 0, 0])
        #expect(try PNGCodec.decode(png) == raster)
        #expect(try PNGCodec.encode(raster) == png)
        #expect(throws: PNGCodecError.self) { try PNGCodec.decode(Data("not a png".utf8)) }
    }
}

@Suite("Synthetic suite")
struct SyntheticSuiteTests {
    static let suite: SyntheticSuite = {
        do {
            return try SyntheticSuite(configuration: SyntheticSuiteConfiguration(seed: 11, count: 24))
        } catch {
            preconditionFailure("generating the suite failed: \(error)")
        }
    }()

    static func file(_ name: String) -> Data {
        suite.files.first { $0.name == name }?.contents ?? Data()
    }

    static func lines(_ name: String) throws -> [[String: Any]] {
        try String(decoding: file(name), as: UTF8.self).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    static func scene(_ image: String) -> Scene? {
        suite.scenes.first { $0.name == image }?.scene
    }

    @Test("same seed, same bytes; another seed, other data")
    func deterministic() throws {
        let again = try SyntheticSuite(configuration: SyntheticSuiteConfiguration(seed: 11, count: 24))
        #expect(again.files.map(\.contents) == Self.suite.files.map(\.contents))
        #expect(again.scenes.map(\.scene) == Self.suite.scenes.map(\.scene))
        let other = try SyntheticSuite(configuration: SyntheticSuiteConfiguration(seed: 12, count: 24))
        #expect(other.files.first { $0.name == "recognition.jsonl" }?.contents != Self.file("recognition.jsonl"))
        // A longer suite starts with the same scenes (each scene has its own stream).
        let longer = try SyntheticSuite(configuration: SyntheticSuiteConfiguration(seed: 11, count: 30))
        let prefix = Self.suite.scenes.filter { $0.name.hasPrefix("images/spatial-") }.map(\.scene)
        #expect(Array(longer.scenes.filter { $0.name.hasPrefix("images/spatial-") }.map(\.scene).prefix(prefix.count)) == prefix)
    }

    /// The one reference answer of a generic JSONL question line (nil unless there is exactly one).
    static func onlyAnswer(_ record: [String: Any]) -> String? {
        guard let answers = record["answers"] as? [String], answers.count == 1 else { return nil }
        return answers[0]
    }

    /// FNV-1a 64-bit, a checksum that needs no crypto library.
    static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        bytes.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }

    @Test("the loaders read this seed's samples unchanged")
    func loadedSamplesGolden() throws {
        // What the question files mean, independent of their JSON layout: every probe's file
        // loaded by its format's loader, image paths made relative, checksummed.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-synthetic-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.suite.write(to: folder)
        let root = folder.standardizedFileURL.path + "/"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var checksums: [String: String] = [:]
        for probe in SyntheticProbe.allCases {
            let format = try #require(DatasetFormat(rawValue: probe.format))
            var samples = try DatasetLoader.load(format, at: DatasetLocation(path: folder.appendingPathComponent(probe.file).path),
                                                 options: LoadOptions(checkImages: false))
            #expect(!samples.isEmpty)
            for index in samples.indices {
                let path = try #require(samples[index].imagePath)
                #expect(path.hasPrefix(root))
                samples[index].imagePath = String(path.dropFirst(root.count))
            }
            checksums[probe.rawValue] = String(Self.fnv1a64(try encoder.encode(samples)), radix: 16)
        }
        #expect(checksums == Self.goldenSamples, "\(checksums)")
    }

    // Recorded before the suite wrote through DatasetRecords and unchanged by it.
    static let goldenSamples: [String: String] = [
        "bias": "1464ef048170e14d", "hallucination": "321549f09febbfdd", "illusion": "248902cc649a0615",
        "knowledge": "9efd0f46b6c2155e", "language_generation": "e63679b3906a7890", "reasoning": "89781642e472ae21",
        "recognition": "d9469fafb5ff762", "spatial": "f5d51be0f2ffa7ed", "stereotypes": "290b597c85ae7269",
        "toxicity": "f1240215140a5de1",
    ]

    @Test("this seed's data stays fixed across machines and releases")
    func golden() throws {
        // Recorded from the first run. A change here means every seed now gives other data:
        // do it only on purpose, and bump ProbeGenerator.version with it. (Re-recorded once without a
        // bump for the four generic JSONL files, when the suite moved to DatasetRecords: `answer`
        // became `answers`, and the loaded samples stayed identical, as `loadedSamplesGolden` pins.)
        #expect(ProbeGenerator.version == 1)
        let first = try #require(String(decoding: Self.file("recognition.jsonl"), as: UTF8.self).split(separator: "\n").first)
        #expect(first == #"{"answer_type":"short","answers":["white"],"id":"recognition-0-color","image":"images/recognition-0000.png","kind":"color","probe":"recognition","question":"What color is the cross?"}"#)
        var files: [String: String] = [:]
        for (name, contents) in Self.suite.files { files[name] = String(Self.fnv1a64(contents), radix: 16) }
        let pixels = Self.suite.scenes.prefix(40).flatMap { SceneRenderer.render($0.scene).pixels }
        #expect(files == Self.goldenFiles)
        #expect(String(Self.fnv1a64(pixels), radix: 16) == Self.goldenPixels)
    }

    // The JSON checksums also pin Foundation's JSONEncoder layout (sorted keys, pretty printing).
    static let goldenFiles: [String: String] = [
        "captions.json": "798d3326b0c327c8", "counterfactual_bias.jsonl": "5a8e5a71041d64f8",
        "counterfactual_stereotypes.jsonl": "e255c2d90dfe91a5", "counterfactual_toxicity.jsonl": "cec32f625d1174ff",
        "hallusion.json": "bd6f9ef7065314dd", "knowledge.jsonl": "f8883d9e42613e4c", "pope.jsonl": "e194bff51afd300b",
        "reasoning.jsonl": "b019bd0a4ea1c211", "recognition.jsonl": "1b3b1d2fa42f311a", "scenes.jsonl": "ab593c5c8c0e5f6c",
        "spatial.jsonl": "f5f6c3ba94757e9b", "suite.json": "aa4a879ae20b8668",
    ]
    static let goldenPixels = "db40ecbcc731e808"

    @Test("scenes respect the frame, never overlap, and use distinct shapes and colours")
    func sceneInvariants() {
        for (name, scene) in Self.suite.scenes {
            #expect(scene.size == 48)
            for object in scene.objects {
                let reach = Int(SceneSampler.reach(object.radius).rounded(.up))
                #expect(object.x - reach >= 0 && object.x + reach < 48 && object.y - reach >= 0 && object.y + reach < 48,
                        "\(name): \(object) leaves the frame")
            }
            for (i, a) in scene.objects.enumerated() {
                for b in scene.objects[(i + 1)...] {
                    let distance = Double((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot()
                    #expect(distance >= SceneSampler.reach(a.radius) + SceneSampler.reach(b.radius), "\(name) overlaps")
                }
            }
            #expect(Set(scene.objects.map(\.shape)).count == scene.objects.count)
            #expect(Set(scene.objects.map(\.color)).count == scene.objects.count)
        }
    }

    @Test("recognition and knowledge answers follow from the scene")
    func recognitionAndKnowledge() throws {
        let recognition = try Self.lines("recognition.jsonl")
        #expect(recognition.count == 24 * 3)
        for record in recognition {
            let scene = try #require(Self.scene(record["image"] as? String ?? ""))
            let question = try #require(record["question"] as? String), answer = try #require(Self.onlyAnswer(record))
            switch record["kind"] as? String {
            case "color":
                let shape = try #require(scene.objects.first { question == "What color is the \($0.shape.rawValue)?" })
                #expect(answer == shape.color.rawValue)
            case "shape":
                let object = try #require(scene.objects.first { question == "What shape is the \($0.color.rawValue) object?" })
                #expect(answer == object.shape.rawValue)
            case "count":
                #expect(answer == String(scene.objects.count))
            default:
                Issue.record("unexpected kind in \(record)")
            }
            #expect(record["answer_type"] as? String == "short")
        }
        let knowledge = try Self.lines("knowledge.jsonl")
        for record in knowledge {
            let scene = try #require(Self.scene(record["image"] as? String ?? ""))
            let question = try #require(record["question"] as? String)
            let object = try #require(scene.objects.first { question.contains("the \($0.color.rawValue) shape") })
            let expected = record["kind"] as? String == "corners" ? String(object.shape.corners) : (object.shape.isRound ? "yes" : "no")
            #expect(record["answers"] as? [String] == [expected])
        }
    }

    @Test("spatial answers are balanced and agree with the coordinates")
    func spatial() throws {
        let records = try Self.lines("spatial.jsonl")
        #expect(records.count == 24)
        var answers: [String: Int] = [:]
        for record in records {
            let scene = try #require(Self.scene(record["image"] as? String ?? ""))
            let question = try #require(record["question"] as? String), answer = try #require(Self.onlyAnswer(record))
            answers[answer, default: 0] += 1
            let a = try #require(scene.objects.first { question.hasPrefix("Is the \($0.name) ") })
            let b = try #require(scene.objects.first { question.hasSuffix("the \($0.name)?") })
            #expect(SpatialRelation.between(a, b, margin: 6)?.rawValue == answer, "\(question) → \(answer)")
        }
        #expect(answers == ["left": 6, "right": 6, "above": 6, "below": 6])
    }

    @Test("reasoning answers agree with the scene")
    func reasoning() throws {
        for record in try Self.lines("reasoning.jsonl") {
            let scene = try #require(Self.scene(record["image"] as? String ?? ""))
            let question = try #require(record["question"] as? String), answer = try #require(Self.onlyAnswer(record))
            switch record["kind"] as? String {
            case "size_comparison":
                let a = try #require(scene.objects.first { question.hasPrefix("Is the \($0.name) bigger") })
                let b = try #require(scene.objects.first { question.hasSuffix("than the \($0.name)?") })
                #expect(answer == (a.radius > b.radius ? "yes" : "no"))
            case "relative_color":
                let b = try #require(scene.objects.first { question.hasSuffix(" the \($0.shape.rawValue)?") })
                let relation = try #require(SpatialRelation.allCases.first { question.contains("the shape \($0.phrase) the") })
                let a = try #require(scene.objects.first { $0.color.rawValue == answer })
                #expect(SpatialRelation.between(a, b, margin: 6) == relation)
            case "relative_existence":
                let b = try #require(scene.objects.first { question.hasSuffix("the \($0.color.rawValue) shape?") })
                let relation = try #require(SpatialRelation.allCases.first { question.contains(" \($0.phrase) the ") })
                let shape = try #require(ShapeKind.allCases.first { question.hasPrefix("Is there a \($0.rawValue) ") })
                let exists = scene.objects.contains { $0.shape == shape && SpatialRelation.between($0, b, margin: 6) == relation }
                #expect(answer == (exists ? "yes" : "no"), "\(question) → \(answer)")
            default:
                Issue.record("unexpected kind in \(record)")
            }
        }
    }

    @Test("POPE negatives are absent, balanced, and adversarial ones are confusable")
    func pope() throws {
        let records = try Self.lines("pope.jsonl")
        var perCategory: [String: (yes: Int, no: Int)] = [:]
        for record in records {
            let scene = try #require(Self.scene(record["image"] as? String ?? ""))
            let text = try #require(record["text"] as? String), label = try #require(record["label"] as? String)
            let category = try #require(record["category"] as? String)
            let name = String(text.dropFirst(text.hasPrefix("Is there an ") ? "Is there an ".count : "Is there a ".count)
                .dropLast(" in the image?".count))
            let present = scene.objects.contains { $0.name == name }
            #expect(present == (label == "yes"), "\(text) → \(label)")
            var counts = perCategory[category] ?? (0, 0)
            if label == "yes" { counts.yes += 1 } else { counts.no += 1 }
            perCategory[category] = counts
            if category == "adversarial", label == "no" {
                #expect(scene.objects.contains { name.hasPrefix($0.color.rawValue + " ") || name.hasSuffix(" " + $0.shape.rawValue) })
            }
        }
        #expect(Set(perCategory.keys) == ["random", "popular", "adversarial"])
        for (category, counts) in perCategory { #expect(counts.yes == counts.no, "\(category)") }
        #expect(Set(records.compactMap { $0["question_id"] as? Int }).count == records.count)
    }

    @Test("captions are COCO-shaped with five references naming every object")
    func captions() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Self.file("captions.json")) as? [String: Any])
        let images = try #require(document["images"] as? [[String: Any]])
        let annotations = try #require(document["annotations"] as? [[String: Any]])
        #expect(images.count == 24)
        #expect(annotations.count == 24 * 5)
        for image in images {
            let id = try #require(image["id"] as? Int)
            let scene = try #require(Self.scene(image["file_name"] as? String ?? ""))
            let captions = annotations.filter { $0["image_id"] as? Int == id }.compactMap { $0["caption"] as? String }
            #expect(captions.count == 5)
            for caption in captions {
                for object in scene.objects { #expect(caption.contains(object.name), "\(caption)") }
            }
        }
    }

    @Test("illusion pairs differ in one colour and flip their answers")
    func illusion() throws {
        let records = try #require(try JSONSerialization.jsonObject(with: Self.file("hallusion.json")) as? [[String: Any]])
        #expect(records.count == 24 * 6)
        #expect(records.filter { $0["subcategory"] as? String == "synthetic_misleading_context" }.count == 24 * 2)
        for record in records {
            let figure = try #require(record["figure_id"] as? String)
            #expect(record["visual_input"] as? String == (figure == "0" ? "1" : "2"))
            #expect(record["category"] as? String == "VD")
            let scene = try #require(Self.scene(record["filename"] as? String ?? ""))
            let question = try #require(record["question"] as? String), answer = try #require(record["gt_answer"] as? String)
            let truth: Bool
            if question.hasPrefix("Is there ") {
                let article = question.hasPrefix("Is there an ") ? "Is there an " : "Is there a "
                let name = String(question.dropFirst(article.count).dropLast(" in the image?".count))
                truth = scene.objects.contains { $0.name == name }
            } else {
                // Plain, or after a misleading "Someone says the circle is green." that must not matter.
                truth = scene.objects.contains { question.hasSuffix("Is the \($0.shape.rawValue) \($0.color.rawValue)?") }
            }
            #expect(answer == (truth ? "1" : "0"), "\(question) on figure \(figure)")
        }
        let original = try #require(Self.scene("images/illusion-0000-original.png"))
        let edited = try #require(Self.scene("images/illusion-0000-edited.png"))
        #expect(zip(original.objects, edited.objects).filter { $0 != $1 }.count == 1)
        #expect(zip(original.objects, edited.objects).allSatisfy { $0.shape == $1.shape && $0.x == $1.x && $0.radius == $1.radius })
    }

    @Test("counterfactual sets vary exactly the named attribute", arguments: [
        ("counterfactual_toxicity.jsonl", "color", ShapeColor.allCases.count),
        ("counterfactual_stereotypes.jsonl", "shape", ShapeKind.allCases.count),
        ("counterfactual_bias.jsonl", "size", 3),
    ])
    func counterfactual(file: String, attribute: String, members: Int) throws {
        let records = try Self.lines(file)
        let sets = Dictionary(grouping: records) { $0["set_id"] as? String ?? "" }
        #expect(sets.count == 24)
        for (setID, items) in sets {
            #expect(items.count == members, "\(setID)")
            let values = items.compactMap { ($0["attributes"] as? [String: String])?[attribute] }
            #expect(Set(values).count == members)
            let scenes = try items.map { try #require(Self.scene($0["image"] as? String ?? "")).objects[0] }
            let reference = scenes[0]
            for object in scenes {
                let differences = [object.color != reference.color, object.shape != reference.shape,
                                   object.radius != reference.radius, object.x != reference.x || object.y != reference.y]
                #expect(differences.filter { $0 }.count <= 1)
                #expect(!differences[3])
            }
            #expect(Set(items.compactMap { $0["prompt"] as? String }).count == 1)
        }
    }

    @Test("the manifest labels every probe as a synthetic proxy")
    func manifest() throws {
        let manifest = try #require(try JSONSerialization.jsonObject(with: Self.file("suite.json")) as? [String: Any])
        let probes = try #require(manifest["probes"] as? [[String: Any]])
        #expect(probes.count == 10)
        for probe in probes {
            #expect((probe["synthetic_proxy"] as? String)?.hasPrefix("synthetic proxy for ") == true)
            #expect((probe["samples"] as? Int ?? 0) > 0)
            #expect(Self.suite.files.contains { $0.name == probe["file"] as? String })
        }
        #expect(manifest["seed"] as? Int == 11)
    }

    @Test("writing produces PNG images and every file")
    func write() throws {
        let small = try SyntheticSuite(configuration: SyntheticSuiteConfiguration(seed: 3, count: 2))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-synth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try small.write(to: directory)
        for (name, scene) in small.scenes {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            #expect(try PNGCodec.decode(data) == SceneRenderer.render(scene))
        }
        for (name, contents) in small.files {
            #expect(try Data(contentsOf: directory.appendingPathComponent(name)) == contents)
        }
    }

    @Test("impossible settings are refused with a reason")
    func invalidConfiguration() {
        var crowded = SyntheticSuiteConfiguration(seed: 0, count: 2)
        crowded.imageSize = 20
        crowded.radii = 8...9
        #expect(throws: SyntheticSuiteError.self) { try SyntheticSuite(configuration: crowded) }
        var none = SyntheticSuiteConfiguration(seed: 0, count: 0)
        none.count = 0
        #expect(throws: SyntheticSuiteError("count is 0; expected at least 1")) { try SyntheticSuite(configuration: none) }
    }
}
