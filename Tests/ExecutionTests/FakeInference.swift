import Crypto
import Engine
import Foundation
import Planning
import SpecLanguage
@testable import Execution

/// Counts of what a fake backend was asked to do.
struct InferenceCounts: Equatable {
    var sessions = 0
    var vision = 0
    var prefills = 0
    var quantizedCopies = 0
    var generations = 0
}

/// A deterministic stand-in for the engine: every output is a hash of exactly the inputs the real
/// engine would use (image bytes, prompt ids, the cache's history and KV setting, generation
/// settings), so sharing mistakes change outputs and counts show how much work was done.
final class FakeBackend: InferenceBackend, @unchecked Sendable {
    private let lock = NSLock()
    private var _counts = InferenceCounts()
    /// Models (by name) whose sessions fail to load.
    var failingModels: Set<String> = []

    var counts: InferenceCounts {
        lock.lock()
        defer { lock.unlock() }
        return _counts
    }

    func bump(_ change: (inout InferenceCounts) -> Void) {
        lock.lock()
        change(&_counts)
        lock.unlock()
    }

    func session(model: PlannedModel, weights: SpecLanguage.WeightQuantization?,
                 calibration: [CalibrationSample]) throws -> any InferenceSession {
        if failingModels.contains(model.descriptor.name) {
            throw EngineSessionError(message: "\(model.descriptor.path)/config.json: checkpoint not found")
        }
        bump { $0.sessions += 1 }
        return FakeSession(backend: self, weights: weights.map { $0.canonicalParameters.joined(separator: ",") } ?? "none")
    }
}

func digestNumber(_ text: String) -> Int {
    let bytes = Array(SHA256.hash(data: Array(text.utf8)))
    return Int(bytes[0]) << 8 | Int(bytes[1])
}

final class FakeCache: KVCache {
    var history: [String]
    var setting: String
    init(history: [String], setting: String) {
        self.history = history
        self.setting = setting
    }
    var layerCount: Int { 1 }
    var kvHeads: Int { 1 }
    var headDim: Int { 1 }
    func count(layer: Int) -> Int { history.count }
    func append(layer: Int, keys: UnsafeBufferPointer<Float>, values: UnsafeBufferPointer<Float>, tokenCount: Int) {}
    func attend(layer: Int, queries: UnsafeBufferPointer<Float>, queryCount: Int, heads: Int, scale: Float,
                output: UnsafeMutableBufferPointer<Float>) {}
    func copy() -> any KVCache { FakeCache(history: history, setting: setting) }
    var byteCount: Int { history.count * (setting == "f16" ? 16 : 4) }
}

final class FakeSession: InferenceSession {
    let backend: FakeBackend
    let weights: String
    init(backend: FakeBackend, weights: String) {
        self.backend = backend
        self.weights = weights
    }

    var weightBytes: Int { weights == "none" ? 4000 : 1000 }

    func visionFeatures(image: URL) throws -> VisionFeatures {
        backend.bump { $0.vision += 1 }
        guard let data = FileManager.default.contents(atPath: image.path) else {
            throw SchedulerError(message: "\(image.path): cannot read the image")
        }
        let value = Float(digestNumber(String(decoding: data, as: UTF8.self) + "\(data.count)"))
        return VisionFeatures(tokens: 2, width: 2, values: [value, 1, 2, value])
    }

    func tokenize(_ prompt: RenderedPrompt, hasImage: Bool) throws -> PromptIDs {
        PromptIDs(prefix: prompt.prefix.unicodeScalars.map { Int($0.value) },
                  question: prompt.suffix.unicodeScalars.map { Int($0.value) })
    }

    func makeCache(kv: KVCacheQuantization?) throws -> any KVCache {
        FakeCache(history: [], setting: kv.map { $0.canonicalParameters.joined(separator: ",") } ?? "f16")
    }

    func prefill(_ tokens: [Int], images: [VisionFeatures], cache: any KVCache) throws -> [Float] {
        backend.bump { $0.prefills += 1 }
        let fake = cache as! FakeCache
        fake.history.append("\(weights)|\(tokens)|\(images.map(\.values))|under:\(fake.setting)")
        return [Float(digestNumber(fake.history.joined(separator: ";")))]
    }

    func quantizedCopy(of cache: any KVCache, kv: KVCacheQuantization?) throws -> any KVCache {
        backend.bump { $0.quantizedCopies += 1 }
        let fake = cache as! FakeCache
        return FakeCache(history: fake.history + ["stored:" + (kv.map { $0.canonicalParameters.joined(separator: ",") } ?? "f16")],
                         setting: kv.map { $0.canonicalParameters.joined(separator: ",") } ?? "f16")
    }

    func generate(cache: any KVCache, firstLogits: [Float], generation: GenerationSettings) throws -> GeneratedAnswer {
        backend.bump { $0.generations += 1 }
        let fake = cache as! FakeCache
        let seed = digestNumber("\(fake.history)|\(firstLogits)|\(generation.maxNewTokens)")
        let tokens = (0..<generation.maxNewTokens).map { (seed + $0 * 7) % 100 }
        let word = ["yes", "no", "red", "blue", "circle"][seed % 5]
        return GeneratedAnswer(tokens: tokens, text: word, kvBytes: fake.byteCount, kvTokens: fake.count(layer: 0))
    }
}
