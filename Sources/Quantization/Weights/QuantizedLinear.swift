import Foundation
internal import CKernels
import Dispatch
import Engine

/// A linear layer whose weights are stored packed: b-bit codes with an integer zero-point per
/// group, fp16 steps, and optionally sparse fp16 outliers (row-compressed) and an input scale.
///
/// `W[o, i] = (q − z_g)·s_g` (+ the outlier at (o, i), where the dense part decodes to exactly 0).
/// `apply` reads the packed codes directly (AVX2 kernels for 2/4/8 bits, C unpacking + SIMD otherwise;
/// see `kernelName(rows:)`).
public struct QuantizedLinear: LinearLayer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let bits: QuantizationBits
    /// Input columns per group (`inFeatures` for per-tensor and per-channel).
    public let groupSize: Int
    public let groupsPerRow: Int
    /// True when every row shares one set of groups (per-tensor).
    public let sharedAcrossRows: Bool
    let rowWords: Int
    let words: [UInt32]
    public let scales: [Float16]
    public let zeroPoints: [UInt8]
    /// Outliers as CSR: row `o` owns `outlierColumns[outlierRowStarts[o]..<outlierRowStarts[o+1]]`.
    let outlierRowStarts: [UInt32]
    let outlierColumns: [UInt32]
    let outlierValues: [Float16]
    public let bias: [Float]?
    /// Multiplies input column `i` before the product (AWQ's `1/s` when not folded into the
    /// preceding op).
    public let inputScale: [Float]?

    public var outlierCount: Int { outlierValues.count }

    /// Exact bytes: codes, steps, zero-points, outliers (value, column, row starts), bias, input scale.
    public var byteCount: Int {
        words.count * 4 + scales.count * 2 + zeroPoints.count
            + (outlierValues.isEmpty ? 0 : outlierValues.count * 6 + outlierRowStarts.count * 4)
            + (bias?.count ?? 0) * 4 + (inputScale?.count ?? 0) * 4
    }

    /// The same layer without its input scale (after the caller folded `1/s` into the preceding op).
    public func removingInputScale() -> QuantizedLinear {
        QuantizedLinear(
            inFeatures: inFeatures, outFeatures: outFeatures, bits: bits, groupSize: groupSize,
            groupsPerRow: groupsPerRow, sharedAcrossRows: sharedAcrossRows, rowWords: rowWords, words: words,
            scales: scales, zeroPoints: zeroPoints, outlierRowStarts: outlierRowStarts,
            outlierColumns: outlierColumns, outlierValues: outlierValues, bias: bias, inputScale: nil)
    }

    @inline(__always)
    func parameters(row o: Int, group g: Int) -> ZeroPointParameters {
        let index = (sharedAcrossRows ? 0 : o * groupsPerRow) + g
        return ZeroPointParameters(scale: scales[index], zeroPoint: zeroPoints[index])
    }

    /// The dequantized weight `W[o, i]` read from the packed storage (outliers included).
    public func weight(_ o: Int, _ i: Int) -> Float {
        let perWord = bits.codesPerWord
        let word = words[o * rowWords + i / perWord]
        let code = Int((word >> UInt32(bits.rawValue * (i % perWord))) & UInt32(bits.maxCode))
        var w = parameters(row: o, group: i / groupSize).value(code)
        let start = Int(outlierRowStarts.isEmpty ? 0 : outlierRowStarts[o])
        let end = Int(outlierRowStarts.isEmpty ? 0 : outlierRowStarts[o + 1])
        for k in start..<end where Int(outlierColumns[k]) == i { w = w + Float(outlierValues[k]) }
        return w
    }

    /// All dequantized weights `[outFeatures, inFeatures]`, decoded from the packed storage.
    public func dequantizedWeights() -> [Float] {
        var out = [Float](repeating: 0, count: outFeatures * inFeatures)
        out.withUnsafeMutableBufferPointer { buffer in
            for o in 0..<outFeatures { decodeRow(o, into: buffer.baseAddress! + o * inFeatures) }
        }
        for o in 0..<outFeatures where !outlierRowStarts.isEmpty {
            for k in Int(outlierRowStarts[o])..<Int(outlierRowStarts[o + 1]) {
                let index = o * inFeatures + Int(outlierColumns[k])
                out[index] = out[index] + Float(outlierValues[k])
            }
        }
        return out
    }

    /// Dense part of row `o` (no outliers) as Float32: codes widened in C, then `(q − z)·s` per
    /// group (`q − z` is an exact small integer, so this equals `Float(q − z)·s` bit for bit).
    func decodeRow(_ o: Int, into out: UnsafeMutablePointer<Float>) {
        words.withUnsafeBufferPointer { all in
            lcb_quant_unpack_codes(all.baseAddress! + o * rowWords, inFeatures, Int32(bits.rawValue), out)
        }
        for g in 0..<groupsPerRow {
            let p = parameters(row: o, group: g)
            let s = Float(p.scale), z = Float(p.zeroPoint)
            let lo = g * groupSize, hi = min(lo + groupSize, inFeatures)
            let sv = SIMD8<Float>(repeating: s), zv = SIMD8<Float>(repeating: z)
            var i = lo
            while i + 8 <= hi {
                let q = UnsafeRawPointer(out + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(out + i).storeBytes(of: (q - zv) * sv, as: SIMD8<Float>.self)
                i += 8
            }
            while i < hi {
                out[i] = (out[i] - z) * s
                i += 1
            }
        }
    }

    // MARK: LinearLayer

    public func apply(_ input: UnsafeBufferPointer<Float>, rows: Int, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= rows * inFeatures && output.count >= rows * outFeatures, "apply: buffer sizes")
        guard rows > 0 else { return }
        let x = input.baseAddress!
        let y = output.baseAddress!
        if let inputScale {
            var scaled = [Float](repeating: 0, count: rows * inFeatures)
            for r in 0..<rows { for i in 0..<inFeatures { scaled[r * inFeatures + i] = x[r * inFeatures + i] * inputScale[i] } }
            scaled.withUnsafeBufferPointer { s in
                denseProduct(s.baseAddress!, rows: rows, into: y)
                addOutliersAndBias(s.baseAddress!, rows: rows, into: y)
            }
        } else {
            denseProduct(x, rows: rows, into: y)
            addOutliersAndBias(x, rows: rows, into: y)
        }
    }

    /// Scalar twin of `apply`: every weight dequantized with `weight(o, i)`, Float32 sums in input
    /// order. Slow; for tests.
    public func applyReference(_ input: [Float], rows: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * outFeatures)
        for r in 0..<rows {
            for o in 0..<outFeatures {
                var sum: Float = 0
                for i in 0..<inFeatures {
                    sum += input[r * inFeatures + i] * (inputScale?[i] ?? 1) * weight(o, i)
                }
                y[r * outFeatures + o] = sum + (bias?[o] ?? 0)
            }
        }
        return y
    }

    /// Whether `apply` uses the AVX2 kernel on this machine.
    public var usesSIMDKernel: Bool {
        lcb_quant_linear_supported(Int32(bits.rawValue), inFeatures, groupSize) != 0
    }

    /// Whether one input row (decode) goes to the AVX-512 GEMV (`quant_gemv.c`) on this machine.
    public var usesGEMVKernel: Bool { supportsGEMV(.avx512) }

    /// Whether the GEMV can run these codes with `instructionSet` on this machine (`.scalar`, its
    /// twin, runs wherever the shape fits; `.avx2` has no GEMV of its own).
    public func supportsGEMV(_ instructionSet: KernelInstructionSet) -> Bool {
        instructionSet != .avx2
            && lcb_quant_gemv_supported(Int32(instructionSet.rawValue), Int32(bits.rawValue), inFeatures, groupSize) != 0
    }

    /// The dense part (no outliers, bias or input scale) of one input row through the GEMV with an
    /// explicit instruction set and thread count; `.scalar` is the twin the tests compare with.
    func gemv(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, instructionSet: KernelInstructionSet, threads: Int) {
        precondition(supportsGEMV(instructionSet), "gemv: unsupported shape or instruction set")
        withUnsafeTemporaryAllocation(of: Float.self, capacity: inFeatures + groupsPerRow) { scratch in
            words.withUnsafeBufferPointer { w in
                scales.withUnsafeBufferPointer { s in
                    zeroPoints.withUnsafeBufferPointer { z in
                        lcb_quant_gemv(
                            x, inFeatures, w.baseAddress!, rowWords, Int32(bits.rawValue),
                            UnsafeRawPointer(s.baseAddress!).assumingMemoryBound(to: UInt16.self), z.baseAddress!,
                            groupSize, groupsPerRow, sharedAcrossRows ? 0 : groupsPerRow, y, outFeatures,
                            scratch.baseAddress!, Int32(instructionSet.rawValue), Int32(threads))
                    }
                }
            }
        }
    }

    /// The dense part of one input row through the GEMV (for tests: `.scalar` is the twin).
    public func gemvDense(_ x: [Float], instructionSet: KernelInstructionSet, threads: Int) -> [Float] {
        precondition(x.count == inFeatures, "gemvDense: one input row")
        var y = [Float](repeating: 0, count: outFeatures)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in gemv(xb.baseAddress!, into: yb.baseAddress!, instructionSet: instructionSet, threads: threads) }
        }
        return y
    }

    /// The kernel `apply` uses on this machine for `rows` input rows: "gemv512" (AVX-512 GEMV, one
    /// row), "spread" (2/4-bit byte-spread AVX2, one row), "avx2", or "swift".
    public func kernelName(rows: Int) -> String {
        if rows == 1, usesGEMVKernel { return "gemv512" }
        if rows == 1, lcb_quant_linear_uses_spread(Int32(bits.rawValue), inFeatures, groupSize) != 0 { return "spread" }
        return usesSIMDKernel ? "avx2" : "swift"
    }

    private func denseProduct(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let work = rows * outFeatures * inFeatures
        // The engine's kernel thread pool (its workers spin briefly after each call, so a second
        // set of threads from GCD would fight them for the cores); several chunks per thread so a
        // descheduled thread does not hold up the whole product.
        let threads = work >= 1 << 18 && outFeatures >= 64 ? KernelThreads.count : 1
        let iterations = threads == 1 ? 1 : min(threads * 8, (outFeatures + 31) / 32)
        let chunk = (outFeatures + iterations - 1) / iterations
        let box = ParallelRows(x: x, y: y)
        if rows == 1, usesGEMVKernel {
            gemv(x, into: y, instructionSet: .best, threads: KernelThreads.count)
        } else if usesSIMDKernel {
            var sums = [Float](repeating: 0, count: rows * groupsPerRow)
            sums.withUnsafeMutableBufferPointer { sums in
                lcb_quant_group_sums(x, rows, inFeatures, groupSize, groupsPerRow, sums.baseAddress!)
                let groupSums = UnsafePointer(sums.baseAddress!)
                words.withUnsafeBufferPointer { w in
                    scales.withUnsafeBufferPointer { s in
                        zeroPoints.withUnsafeBufferPointer { z in
                            let args = ParallelRows(x: groupSums, y: y)
                            let wp = w.baseAddress!, zp = z.baseAddress!
                            let sp = UnsafeRawPointer(s.baseAddress!).assumingMemoryBound(to: UInt16.self)
                            let packed = PackedPointers(words: wp, scales: sp, zeros: zp)
                            let width = Int32(bits.rawValue)
                            if rows == 1, lcb_quant_linear_uses_spread(width, inFeatures, groupSize) != 0 {
                                var permuted = [Float](repeating: 0, count: rows * inFeatures)
                                permuted.withUnsafeMutableBufferPointer { xp in
                                    lcb_quant_permute_spread(box.x, rows, inFeatures, width, xp.baseAddress!)
                                    let inputs = ParallelRows(x: UnsafePointer(xp.baseAddress!), y: y)
                                    KernelThreads.parallelFor(iterations) { t in
                                        let begin = t * chunk, end = min(begin + chunk, outFeatures)
                                        guard begin < end else { return }
                                        lcb_quant_linear_spread_avx2(
                                            inputs.x, rows, inFeatures, packed.words, rowWords, width, packed.scales, packed.zeros,
                                            groupSize, groupsPerRow, sharedAcrossRows ? 0 : groupsPerRow, args.x, args.y,
                                            outFeatures, begin, end)
                                    }
                                }
                                return
                            }
                            KernelThreads.parallelFor(iterations) { t in
                                let begin = t * chunk, end = min(begin + chunk, outFeatures)
                                guard begin < end else { return }
                                lcb_quant_linear_avx2(
                                    box.x, rows, inFeatures, packed.words, rowWords, Int32(bits.rawValue),
                                    packed.scales, packed.zeros, groupSize, groupsPerRow,
                                    sharedAcrossRows ? 0 : groupsPerRow, args.x, args.y, outFeatures, begin, end)
                            }
                        }
                    }
                }
            }
        } else {
            KernelThreads.parallelFor(iterations) { t in
                let begin = t * chunk, end = min(begin + chunk, outFeatures)
                guard begin < end else { return }
                var rowBuffer = [Float](repeating: 0, count: inFeatures)
                rowBuffer.withUnsafeMutableBufferPointer { w in
                    for o in begin..<end {
                        decodeRow(o, into: w.baseAddress!)
                        for r in 0..<rows {
                            box.y[r * outFeatures + o] = CausalAttention.dot(box.x + r * inFeatures, w.baseAddress!, inFeatures)
                        }
                    }
                }
            }
        }
    }

    private func addOutliersAndBias(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        if !outlierValues.isEmpty {
            for o in 0..<outFeatures {
                let start = Int(outlierRowStarts[o]), end = Int(outlierRowStarts[o + 1])
                guard start < end else { continue }
                for r in 0..<rows {
                    var extra: Float = 0
                    for k in start..<end { extra += Float(outlierValues[k]) * x[r * inFeatures + Int(outlierColumns[k])] }
                    y[r * outFeatures + o] += extra
                }
            }
        }
        if let bias {
            for r in 0..<rows { for o in 0..<outFeatures { y[r * outFeatures + o] += bias[o] } }
        }
    }
}

/// Pointers handed to worker threads; each thread writes a disjoint range of output columns.
struct ParallelRows: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>

    /// Worker threads for large products (the machine's active cores).
    static let threadCount: Int = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 16))
}

struct PackedPointers: @unchecked Sendable {
    let words: UnsafePointer<UInt32>
    let scales: UnsafePointer<UInt16>
    let zeros: UnsafePointer<UInt8>
}
