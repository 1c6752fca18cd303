import Foundation
import Testing
import TestSupport
@testable import Quantization

/// Stored packed layers read back bit for bit, and damaged files are refused with a message.
@Suite struct QuantizedLinearFormatTests {
    static func layers() throws -> [String: QuantizedLinear] {
        var data = SeededGenerator(seed: 5)
        let w = data.normal(24 * 40, scale: 0.05)
        var rtn = WeightQuantizationConfig(method: .rtn, bits: .three)
        rtn.groupSize = 16  // 40 inputs: a short last group
        var outlier = WeightQuantizationConfig(method: .outlier, bits: .four)
        outlier.fraction = 0.05
        let bias = data.normal(24)
        let plain = try WeightQuantizer.quantize(w, outFeatures: 24, inFeatures: 40, bias: bias, config: rtn)
        let sparse = try WeightQuantizer.quantize(w, outFeatures: 24, inFeatures: 40, config: outlier)
        let awq = try AWQ.quantize(weights: [w], outFeatures: [24], inFeatures: 40, calibration: data.normal(8 * 40), samples: 8,
                                   config: WeightQuantizationConfig(method: .awq, bits: .four), clipSamples: 4)
        return ["model.layers.0.mlp.down_proj": plain, "outliers": sparse, "awq": try #require(awq.layers.first)]
    }

    @Test func roundTripsEveryFieldAndTheProduct() throws {
        let layers = try Self.layers()
        #expect(layers["outliers"]!.outlierCount > 0 && layers["outliers"]!.sharedAcrossRows)
        #expect(layers["awq"]!.inputScale != nil)
        let bytes = QuantizedLinearFormat.encode(layers)
        #expect(Array(bytes.prefix(8)) == Array("LCBQLIN\0".utf8))
        #expect(QuantizedLinearFormat.encode(layers) == bytes)  // names sorted: equal inputs, equal bytes
        let read = try QuantizedLinearFormat.decode(bytes)
        #expect(read.keys.sorted() == layers.keys.sorted())
        var data = SeededGenerator(seed: 9)
        let x = data.normal(3 * 40)
        for (name, layer) in layers {
            let copy = try #require(read[name])
            #expect(copy.dequantizedWeights().map(\.bitPattern) == layer.dequantizedWeights().map(\.bitPattern), "\(name)")
            #expect(copy.byteCount == layer.byteCount && copy.bias == layer.bias && copy.inputScale == layer.inputScale)
            #expect(copy.applyReference(x, rows: 3).map(\.bitPattern) == layer.applyReference(x, rows: 3).map(\.bitPattern))
        }
    }

    @Test func damagedFilesAreRefusedWithAMessage() throws {
        let bytes = QuantizedLinearFormat.encode(try Self.layers())
        func message(_ damaged: [UInt8]) -> String {
            do {
                _ = try QuantizedLinearFormat.decode(damaged, source: "cache/x.bin")
                return "read"
            } catch { return "\(error)" }
        }
        #expect(message(Array(bytes.dropLast(3))).contains("cache/x.bin: truncated"))
        #expect(message(bytes + [0]).contains("1 bytes after the last layer"))
        var version = bytes
        version[8] = 2
        #expect(message(version).contains("format version 2, this lcb reads version 1"))
        var magic = bytes
        magic[0] = 0x58
        #expect(message(magic).contains("bad magic"))
        // Every truncation point fails cleanly (never a crash, never a wrong layer).
        for cut in stride(from: 0, to: bytes.count, by: 37) {
            #expect(message(Array(bytes.prefix(cut))) != "read")
        }
    }
}
