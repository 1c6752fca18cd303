import Engine
import Foundation
import Testing
import TestSupport
@testable import Quantization

/// The decode GEMV over packed codes (`quant_gemv.c`): the AVX-512 kernel against its scalar twin
/// (bit for bit), thread counts (bit for bit), an exact product (Higham-style bound), and the
/// shapes that must fall back to the other kernels. 4-bit shapes cover both lane forms: dword lanes
/// (in and groups multiples of 128: 256/128, 2048/128, 384 per channel, 768/256, 128 per tensor)
/// and byte lanes (groups of 32, 64; in of 96, 160, 64).
@Suite struct PackedGEMVTests {
    /// (bits, scope, out, in, group size; 0 = the scope's own)
    static let shapes: [(bits: QuantizationBits, scope: WeightScope, out: Int, in: Int, group: Int)] = [
        (.four, .perGroup, 37, 256, 128), (.four, .perGroup, 64, 2048, 128), (.four, .perGroup, 33, 96, 32),
        (.four, .perGroup, 301, 1024, 64), (.four, .perChannel, 19, 160, 0), (.four, .perTensor, 23, 64, 0),
        (.four, .perChannel, 27, 384, 0), (.four, .perGroup, 45, 768, 256), (.four, .perTensor, 13, 128, 0),
        (.eight, .perGroup, 70, 2048, 128), (.eight, .perGroup, 21, 48, 16), (.eight, .perGroup, 45, 96, 32),
        (.eight, .perGroup, 17, 192, 64), (.eight, .perChannel, 9, 80, 0), (.eight, .perTensor, 40, 512, 0),
        (.two, .perGroup, 20, 128, 64), (.two, .perGroup, 19, 512, 128), (.two, .perChannel, 35, 320, 0),
        (.two, .perGroup, 130, 256, 256),
    ]

    static func layer(_ index: Int) throws -> (QuantizedLinear, [Float]) {
        let s = shapes[index]
        var data = SeededGenerator(seed: UInt64(index) + 900)
        let w = data.normal(s.out * s.in, scale: 0.05)
        let x = data.normal(s.in)
        var config = WeightQuantizationConfig(method: .rtn, bits: s.bits)
        config.scope = s.scope
        if s.group > 0 { config.groupSize = s.group }
        return (try WeightQuantizer.quantize(w, outFeatures: s.out, inFeatures: s.in, config: config), x)
    }

    /// The AVX-512 kernel equals the scalar twin bit for bit, for 1, 2 and 3 threads, and both are
    /// within γ_d·M of the exact product, M = Σ_g s_g·(Σ|q·x| + z_g·Σ|x|) (the magnitudes of the
    /// two sums the kernel forms), d = in/16 + groups + 8 roundings per term: at most in/32 in an
    /// accumulator chain (two chains per group), one to add them, one per group in the scaled total,
    /// four in the tree, one each for the correction chain, the step product and the subtraction.
    @Test(arguments: 0..<shapes.count)
    func avx512MatchesScalarTwinAndExactProduct(index: Int) throws {
        let (layer, x) = try Self.layer(index)
        #expect(layer.supportsGEMV(.scalar))
        let twin = layer.gemvDense(x, instructionSet: .scalar, threads: 1)
        var bound = [Double](repeating: 0, count: layer.outFeatures), exact = bound
        let d = Double(layer.inFeatures / 16 + layer.groupsPerRow + 8), u = 0x1p-24
        let gamma = d * u / (1 - d * u)
        for o in 0..<layer.outFeatures {
            var sum = 0.0, magnitude = 0.0
            for g in 0..<layer.groupsPerRow {
                let p = layer.parameters(row: o, group: g)
                let s = Double(Float(p.scale)), z = Double(p.zeroPoint)
                for i in (g * layer.groupSize)..<min((g + 1) * layer.groupSize, layer.inFeatures) {
                    sum += Double(layer.weight(o, i)) * Double(x[i])
                    let q = Double(layer.weight(o, i)) / s + z
                    magnitude += s * (abs(q * Double(x[i])) + z * abs(Double(x[i])))
                }
            }
            exact[o] = sum
            bound[o] = gamma * magnitude
        }
        for o in 0..<layer.outFeatures {
            #expect(abs(Double(twin[o]) - exact[o]) <= bound[o], "row \(o): \(twin[o]) vs \(exact[o])")
        }
        guard layer.supportsGEMV(.avx512) else { return }
        for threads in [1, 2, 3] {
            let y = layer.gemvDense(x, instructionSet: .avx512, threads: threads)
            #expect(y.map(\.bitPattern) == twin.map(\.bitPattern), "\(threads) threads")
        }
        // `apply` takes this kernel for one row and adds nothing without bias or outliers.
        #expect(layer.kernelName(rows: 1) == "gemv512")
        var y = [Float](repeating: 0, count: layer.outFeatures)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { layer.apply(xb, rows: 1, into: $0) } }
        #expect(y.map(\.bitPattern) == twin.map(\.bitPattern))
    }

    /// Large enough for the thread pool to split the rows (the small shapes above run on the
    /// caller): chunks of 16 outputs spread over 1, 2, 3 threads give the same bits, with the
    /// AVX-512 kernel where the CPU has it and with the scalar twin everywhere.
    @Test(arguments: [QuantizationBits.two, .four, .eight])
    func threadCountsGiveIdenticalBitsOnLargeLayers(bits: QuantizationBits) throws {
        var data = SeededGenerator(seed: 77)
        let (out, inFeatures) = (531, 1024)
        var config = WeightQuantizationConfig(method: .rtn, bits: bits)
        config.groupSize = 128
        let layer = try WeightQuantizer.quantize(data.normal(out * inFeatures, scale: 0.03), outFeatures: out, inFeatures: inFeatures, config: config)
        let x = data.normal(inFeatures)
        let one = layer.gemvDense(x, instructionSet: .scalar, threads: 1)
        let sets: [KernelInstructionSet] = KernelInstructionSet.avx512.isSupported ? [.scalar, .avx512] : [.scalar]
        for set in sets {
            for threads in [1, 2, 3] {
                #expect(layer.gemvDense(x, instructionSet: set, threads: threads).map(\.bitPattern) == one.map(\.bitPattern),
                        "\(set), \(threads) threads")
            }
        }
    }

    /// Shapes without whole 16-byte runs (and 3-bit codes) do not take the GEMV and still agree with
    /// the reference through the other kernels; bias and outliers are added on top of the GEMV.
    @Test(arguments: [
        (QuantizationBits.four, 24, 80, 16), (.four, 20, 48, 48), (.two, 20, 96, 32), (.two, 9, 64, 0),
        (.eight, 12, 40, 8), (.three, 17, 160, 32), (.four, 33, 128, 32), (.eight, 31, 256, 64),
    ])
    func fallbacksAndExtrasAgreeWithReference(bits: QuantizationBits, out: Int, inFeatures: Int, group: Int) throws {
        var data = SeededGenerator(seed: UInt64(out * inFeatures + group))
        let w = data.normal(out * inFeatures, scale: 0.05)
        let x = data.normal(inFeatures), bias = data.normal(out)
        for method in [WeightQuantizationMethod.rtn, .outlier] {
            var config = WeightQuantizationConfig(method: method, bits: bits)
            if group > 0 { config.groupSize = group } else { config.scope = .perChannel }
            let layer = try WeightQuantizer.quantize(w, outFeatures: out, inFeatures: inFeatures, bias: bias, config: config)
            let run = 128 / bits.rawValue
            let g = group == 0 ? inFeatures : group
            let fits = bits != .three && inFeatures % run == 0 && (g >= inFeatures || g % run == 0)
            #expect(layer.supportsGEMV(.scalar) == fits)
            #expect((layer.kernelName(rows: 1) == "gemv512") == (fits && KernelInstructionSet.avx512.isSupported))
            var y = [Float](repeating: 0, count: out)
            x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { layer.apply(xb, rows: 1, into: $0) } }
            let reference = layer.applyReference(x, rows: 1)
            let worst = zip(y, reference).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-4, "\(config.canonicalDescription) in \(inFeatures): \(worst)")
        }
    }
}
