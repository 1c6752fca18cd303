import Foundation
import Testing
@testable import Quantization

/// Timings of the packed kernels, printed, not asserted (the machine is shared). Run with
/// `LCB_QUANT_BENCH=1 swift test --filter KernelBenchmarks`; the C kernels are built with -O3 even
/// in debug builds, so the GEMV numbers hold; the KV decode numbers need a release build.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LCB_QUANT_BENCH"] != nil))
struct KernelBenchmarks {
    static func best(_ repetitions: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    @Test func packedGEMV() throws {
        var data = TestData(seed: 1)
        let (outF, inF) = (2048, 2048)
        let w = data.normal(outF * inF, scale: 0.02)
        let x = data.normal(inF)
        var y = [Float](repeating: 0, count: outF)
        for bits in [QuantizationBits.two, .three, .four, .eight] {
            var config = WeightQuantizationConfig(method: .rtn, bits: bits)
            config.groupSize = 128
            let layer = try WeightQuantizer.quantize(w, outFeatures: outF, inFeatures: inF, config: config)
            let t = Self.best(layer.kernelName(rows: 1) == "swift" ? 2 : 100) {  // the Swift path is slow in debug
                x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in layer.apply(xb, rows: 1, into: yb) } }
            }
            print(String(format: "GEMV 2048×2048 rtn:%d,group_size=128 (%@): %.3f ms, %.1f GB/s of packed weights, %.0f bytes",
                         bits.rawValue, layer.kernelName(rows: 1), t * 1e3, Double(layer.byteCount) / t / 1e9, Double(layer.byteCount)))
        }
    }
}
