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
        let url = Fixtures.url("quantization/reference.json")
        do {
            return try JSONDecoder().decode(ReferenceFixture.self, from: Data(contentsOf: url))
        } catch {
            preconditionFailure("cannot read \(url.path): \(error); regenerate with Tools/fixtures/quantization.py")
        }
    }()

    /// Little-endian Float32 values from base64.
    static func floats(_ base64: String) -> [Float] {
        guard let data = Data(base64Encoded: base64) else { return [] }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }
}

/// Deterministic pseudo-random test data.
struct TestData {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Roughly normal (sum of uniforms), scaled.
    mutating func normal(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in
            var s: Float = 0
            for _ in 0..<4 { s += Float(next() >> 40) * 0x1p-24 }
            return (s - 2) * 1.7 * scale
        }
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func sumSquaredError(_ a: [Float], _ b: [Float]) -> Double {
    zip(a, b).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
}
