import Foundation
import Testing
import TestSupport
@testable import Engine

/// A scratch copy of a fixture checkpoint that a test may damage.
struct ScratchCheckpoint {
    let directory: URL

    init(copying fixture: String) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("lcb-engine-\(fixture)-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.url("models/\(fixture)"), to: directory)
    }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Rewrites config.json through `edit`.
    func editConfig(_ edit: (inout [String: Any]) -> Void) throws {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url("config.json"))) as? [String: Any] ?? [:]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url("config.json"))
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// A safetensors file built byte by byte: header entries and raw data.
func safetensorsBytes(header: [String: Any], data: [UInt8], headerLengthOverride: UInt64? = nil) throws -> Data {
    var json = try JSONSerialization.data(withJSONObject: header)
    // Pad with spaces as the Python writer does, so that the data starts 8-byte aligned.
    while json.count % 8 != 0 { json.append(0x20) }
    var bytes = Data()
    var length = (headerLengthOverride ?? UInt64(json.count)).littleEndian
    withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
    bytes.append(json)
    bytes.append(contentsOf: data)
    return bytes
}

func loadError(_ directory: URL) -> CheckpointError? {
    do {
        _ = try Model(directory: directory)
        return nil
    } catch let error as CheckpointError {
        return error
    } catch {
        return CheckpointError(.invalidConfig, "unexpected error type: \(error)")
    }
}

@Suite struct CheckpointErrorTests {
    @Test func missingFolderNamesConfigJSON() {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-no-such-model-\(UUID().uuidString)")
        let error = loadError(directory)
        #expect(error?.kind == .missingFile)
        #expect(error?.message.contains(directory.appendingPathComponent("config.json").path) == true)
    }

    @Test func missingWeightsNameTheExpectedFile() throws {
        let scratch = try ScratchCheckpoint(copying: "llava-llama")
        defer { scratch.remove() }
        try FileManager.default.removeItem(at: scratch.url("model.safetensors"))
        let error = loadError(scratch.directory)
        #expect(error?.kind == .missingFile)
        #expect(error?.message.contains("model.safetensors") == true)
        #expect(error?.message.contains("model.safetensors.index.json") == true)
    }

    @Test func missingShardNamesShardAndIndex() throws {
        let scratch = try ScratchCheckpoint(copying: "llama-text-sharded")
        defer { scratch.remove() }
        try FileManager.default.removeItem(at: scratch.url("model-00002-of-00002.safetensors"))
        let error = loadError(scratch.directory)
        #expect(error?.kind == .missingFile)
        #expect(error?.message.contains("model-00002-of-00002.safetensors") == true)
        #expect(error?.message.contains("model.safetensors.index.json") == true)
    }

    @Test func truncatedFileNamesFileAndTensor() throws {
        let scratch = try ScratchCheckpoint(copying: "llava-llama")
        defer { scratch.remove() }
        let file = scratch.url("model.safetensors")
        let data = try Data(contentsOf: file)
        try data.prefix(data.count / 2).write(to: file)
        let error = loadError(scratch.directory)
        #expect(error?.kind == .corruptFile)
        #expect(error?.message.contains(file.path) == true)
        #expect(error?.message.contains("tensor '") == true)
        #expect(error?.message.contains("outside") == true)
    }

    @Test func truncatedHeaderIsReported() throws {
        let scratch = try ScratchCheckpoint(copying: "llava-llama")
        defer { scratch.remove() }
        let file = scratch.url("model.safetensors")
        try Data(contentsOf: file).prefix(100).write(to: file)
        let error = loadError(scratch.directory)
        #expect(error?.kind == .corruptFile)
        #expect(error?.message.contains("header claims") == true)
        #expect(error?.message.contains(file.path) == true)
    }

    @Test(arguments: [
        (Data([1, 2, 3]), "fewer than the 8-byte header length"),
        (try! safetensorsBytes(header: [:], data: [], headerLengthOverride: 1 << 40), "header claims"),
        (Data([4, 0, 0, 0, 0, 0, 0, 0]) + Data("{{{{".utf8), "does not parse"),
        (try! safetensorsBytes(header: ["w": ["dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]]], data: Array(repeating: 0, count: 16)),
         "needs 16 bytes but data_offsets span 12"),
        (try! safetensorsBytes(header: ["w": ["dtype": "F32", "shape": [2]]], data: []), "lacks dtype, shape or data_offsets"),
    ])
    func corruptFilesAreRejectedWithReason(bytes: Data, reason: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-corrupt-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try bytes.write(to: file)
        let error = #expect(throws: CheckpointError.self) { try SafetensorsFile(url: file) }
        #expect(error?.kind == .corruptFile)
        #expect(error?.message.contains(reason) == true)
        #expect(error?.message.contains(file.path) == true)
    }

    @Test func unsupportedDTypeFailsOnlyWhenRead() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-i64-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        let header: [String: Any] = [
            "position_ids": ["dtype": "I64", "shape": [2], "data_offsets": [0, 16]],
            "scale": ["dtype": "F32", "shape": [1], "data_offsets": [16, 20]],
        ]
        var data = [UInt8](repeating: 0, count: 20)
        withUnsafeBytes(of: Float(2.5).bitPattern.littleEndian) { data.replaceSubrange(16..<20, with: $0) }
        try safetensorsBytes(header: header, data: data).write(to: file)
        let safetensors = try SafetensorsFile(url: file)
        #expect(try safetensors.tensor("scale").floats() == [2.5])
        let error = #expect(throws: CheckpointError.self) { try safetensors.tensor("position_ids") }
        #expect(error?.kind == .unsupportedDType)
        #expect(error?.message.contains("'position_ids'") == true)
        #expect(error?.message.contains("I64") == true)
    }

    /// safetensors does not align tensor data; a misaligned f32 tensor is copied, and reads right.
    @Test func misalignedTensorsReadCorrectly() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-align-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        let header: [String: Any] = [
            "a": ["dtype": "F16", "shape": [1], "data_offsets": [0, 2]],
            "b": ["dtype": "F32", "shape": [2], "data_offsets": [2, 10]],
            "__metadata__": ["format": "pt"],
        ]
        var data: [UInt8] = []
        withUnsafeBytes(of: Float16(1.5).bitPattern.littleEndian) { data += $0 }
        for value in [Float(-3.25), 7] { withUnsafeBytes(of: value.bitPattern.littleEndian) { data += $0 } }
        try safetensorsBytes(header: header, data: data).write(to: file)
        let safetensors = try SafetensorsFile(url: file)
        #expect(safetensors.metadata["format"] == "pt")
        let b = try safetensors.tensor("b")
        // In the file "b" starts 2 bytes after an 8-aligned data start (the mapping is page-aligned).
        #expect(ObjectIdentifier(b.owner) != ObjectIdentifier(safetensors.mapping))
        #expect(Int(bitPattern: b.data) % 4 == 0)
        #expect(b.floats() == [-3.25, 7])
        #expect(try safetensors.tensor("a").floats() == [1.5])
    }

    @Test func unsupportedModelTypeNamesTypeAndFile() throws {
        let scratch = try ScratchCheckpoint(copying: "llama-text-sharded")
        defer { scratch.remove() }
        try scratch.editConfig { $0["model_type"] = "mamba" }
        let error = loadError(scratch.directory)
        #expect(error?.kind == .unsupportedModelType)
        #expect(error?.message.contains("'mamba'") == true)
        #expect(error?.message.contains("config.json") == true)
        #expect(error?.message.contains("gemma, llama, llava") == true)
    }

    @Test func unsupportedTextConfigTypeIsRejected() throws {
        let scratch = try ScratchCheckpoint(copying: "llava-llama")
        defer { scratch.remove() }
        try scratch.editConfig { json in
            var text = json["text_config"] as? [String: Any] ?? [:]
            text["model_type"] = "mistral"
            json["text_config"] = text
        }
        let error = loadError(scratch.directory)
        #expect(error?.kind == .unsupportedModelType)
        #expect(error?.message.contains("text_config model_type 'mistral'") == true)
    }

    @Test func shapeMismatchNamesTensorAndShapes() throws {
        let scratch = try ScratchCheckpoint(copying: "llava-gemma")
        defer { scratch.remove() }
        try scratch.editConfig { json in
            var text = json["text_config"] as? [String: Any] ?? [:]
            text["intermediate_size"] = 100
            json["text_config"] = text
        }
        let error = loadError(scratch.directory)
        #expect(error?.kind == .shapeMismatch)
        #expect(error?.message.contains("model.safetensors") == true)
        #expect(error?.message.contains("mlp.gate_proj.weight") == true)
        #expect(error?.message.contains("[96, 32]") == true)
        #expect(error?.message.contains("[100, 32]") == true)
    }

    @Test func untiedModelWithoutLMHeadIsAMissingTensor() throws {
        let scratch = try ScratchCheckpoint(copying: "llama-text-sharded")
        defer { scratch.remove() }
        try scratch.editConfig { $0["tie_word_embeddings"] = false }
        let error = loadError(scratch.directory)
        #expect(error?.kind == .missingTensor)
        #expect(error?.message.contains("lm_head.weight") == true)
    }

    @Test func unsupportedRopeTypeIsAConfigError() throws {
        let scratch = try ScratchCheckpoint(copying: "llama-text-sharded")
        defer { scratch.remove() }
        try scratch.editConfig { $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0] }
        let error = loadError(scratch.directory)
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.contains("'yarn'") == true)
    }

    @Test func wrongFieldTypeIsAConfigError() throws {
        let scratch = try ScratchCheckpoint(copying: "gemma-text-f16")
        defer { scratch.remove() }
        try scratch.editConfig { $0["hidden_size"] = "wide" }
        let error = loadError(scratch.directory)
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.contains("hidden_size") == true)
    }

    @Test func tokenOutsideVocabularyIsAGenerationError() throws {
        let model = try Model(directory: Fixtures.url("models/gemma-text-f16"))
        #expect(throws: GenerationError.tokenOutOfRange(id: 5000, vocabularySize: 200)) {
            try model.prefill(tokens: [2, 5000], cache: model.makeCache())
        }
    }

    @Test func imagePlaceholderCountMustMatchImages() throws {
        let model = try Model(directory: Fixtures.url("models/llava-llama"))
        let id = try #require(model.imageTokenId)
        #expect(throws: GenerationError.imageCountMismatch(placeholders: 1, images: 0)) {
            try model.prefill(tokens: [1, id, 5], cache: model.makeCache())
        }
    }
}
