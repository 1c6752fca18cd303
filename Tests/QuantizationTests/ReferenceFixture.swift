import Foundation
import TestSupport

/// `Tests/Fixtures/quantization/reference.json`, written by Tools/fixtures/quantization.py.
struct ReferenceFixture: Decodable {
    struct KVCase: Decodable {
        let method: String
        let bits: Int
        let shape: [Int]
        let input: String
        let expected: String
        let fraction: Double?
        let group_size: Int?
        let rank: Int?
        let iterations: Int?
        let seed: UInt64?
    }

    struct KIVIWindow: Decodable {
        let bits: Int
        let group_size: Int
        let residual: Int
        let heads: Int
        let dim: Int
        let steps: [Int]
        let keys: String
        let values: String
        let expected_keys: String
        let expected_values: String
        let quantized_keys: Int
        let quantized_values: Int
    }

    struct WeightCase: Decodable {
        let method: String
        let bits: Int
        let scope: String?
        let group_size: Int?
        let fraction: Double?
        let rows: Int
        let cols: Int
        let input: String
        let expected: String
    }

    struct AWQCase: Decodable {
        let bits: Int
        let group_size: Int
        let n_grid: Int
        let rows: Int
        let cols: Int
        let samples: Int
        let weights: String
        let inputs: String
        let losses: [Double]
    }

    struct GPTQCase: Decodable {
        let bits: Int
        let group_size: Int
        let blocksize: Int
        let rows: Int
        let cols: Int
        let samples: Int
        let weights: String
        let inputs: String
        let expected: String
    }

    let gptq: GPTQCase
    let kv_inputs: [String: String]
    let kv: [KVCase]
    let kivi_windows: [KIVIWindow]
    let weights: [WeightCase]
    let awq: AWQCase

    static let shared: ReferenceFixture = {
        do {
            return try Fixtures.decodeJSON(ReferenceFixture.self, "quantization/reference.json")
        } catch {
            preconditionFailure("cannot read \(Fixtures.url("quantization/reference.json").path): \(error); "
                                + "regenerate with Tools/fixtures/quantization.py")
        }
    }()

    /// Little-endian Float32 values from base64.
    static func floats(_ base64: String) -> [Float] {
        guard let data = Data(base64Encoded: base64) else { return [] }
        return Fixtures.littleEndianFloats(data)
    }
}

func sumSquaredError(_ a: [Float], _ b: [Float]) -> Double {
    zip(a, b).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
}
