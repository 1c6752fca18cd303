import Foundation
import TestSupport
@testable import Engine

/// A checkpoint under Tests/Fixtures/models/ with the outputs transformers produced for it
/// (written by Tools/fixtures/models.py).
struct ModelFixture: CustomStringConvertible, Sendable {
    struct Inputs: Decodable {
        var prompt: String
        var promptIds: [Int]
        var expandedLength: Int
        var eosTokenId: Int
        var greedyTokens: [Int]

        enum CodingKeys: String, CodingKey {
            case prompt
            case promptIds = "prompt_ids"
            case expandedLength = "expanded_length"
            case eosTokenId = "eos_token_id"
            case greedyTokens = "greedy_tokens"
        }
    }

    static let multimodal = ["llava-llama", "llava-gemma", "llava-llama-v4-bf16"]
    static let textOnly = ["llama-text-sharded", "gemma-text-f16"]
    static let all = multimodal + textOnly

    let name: String
    var description: String { name }
    var directory: URL { Fixtures.url("models/\(name)") }

    func inputs() throws -> Inputs {
        try JSONDecoder().decode(Inputs.self, from: Data(contentsOf: directory.appendingPathComponent("expected/inputs.json")))
    }

    func array(_ file: String) throws -> NumpyFile.Array {
        try NumpyFile.read(directory.appendingPathComponent("expected/\(file).npy"))
    }

    var isMultimodal: Bool { Self.multimodal.contains(name) }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
    return worst
}
