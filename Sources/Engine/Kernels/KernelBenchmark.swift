internal import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures this machine's memory read bandwidth and the dense kernels on a decoder's matrix shapes.
///
/// Decode multiplies one token by every weight matrix (GEMV): its speed limit is how fast the
/// weights stream from memory, so it is reported in GB/s and as a fraction of the bandwidth this
/// benchmark measures itself. Prefill multiplies many tokens at once (GEMM) and is reported in
/// GFLOP/s. The weights are random f16 generated in memory; one layer's matrices (much larger than
/// the last-level cache) stand in for every layer, so the projection to a full step is
/// `layers × one layer + the output head`.
public struct KernelBenchmark: Sendable {
    /// The matrix shapes of a decoder-only language model (what one decode step reads).
    public struct DecoderShape: Sendable {
        public var name: String
        public var layers: Int
        public var hidden: Int
        public var heads: Int
        public var kvHeads: Int
        public var headDim: Int
        public var intermediate: Int
        public var vocabulary: Int

        public init(name: String, layers: Int, hidden: Int, heads: Int, kvHeads: Int, headDim: Int,
                    intermediate: Int, vocabulary: Int) {
            self.name = name
            self.layers = layers
            self.hidden = hidden
            self.heads = heads
            self.kvHeads = kvHeads
            self.headDim = headDim
            self.intermediate = intermediate
            self.vocabulary = vocabulary
        }

        /// Gemma-2B: 18 layers, hidden 2048, 8 heads, 1 KV head of 256, MLP 16384, vocab 32,000 (issue 3).
        public static let gemma2B = DecoderShape(
            name: "Gemma-2B", layers: 18, hidden: 2048, heads: 8, kvHeads: 1, headDim: 256,
            intermediate: 16384, vocabulary: 32000)

        /// One layer's projections `(name, out, in)` in the order a decode step runs them.
        public var layerMatrices: [(name: String, out: Int, in: Int)] {
            [("q_proj", heads * headDim, hidden), ("k_proj", kvHeads * headDim, hidden),
             ("v_proj", kvHeads * headDim, hidden), ("o_proj", hidden, heads * headDim),
             ("gate_proj", intermediate, hidden), ("up_proj", intermediate, hidden),
             ("down_proj", hidden, intermediate)]
        }

        /// The output head (tied or not, it is read once per token).
        public var headMatrix: (name: String, out: Int, in: Int) { ("lm_head", vocabulary, hidden) }

        /// Weight parameters one token multiplies by: every layer's projections plus the head.
        public var parametersPerToken: Int {
            layers * layerMatrices.reduce(0) { $0 + $1.out * $1.in } + headMatrix.out * headMatrix.in
        }
    }

    /// What to measure.
    public struct Options: Sendable {
        public var shape: DecoderShape = .gemma2B
        /// Kernel threads (the process-wide `KernelThreads.count` when nil).
        public var threads: Int? = nil
        /// Instruction set of the kernels (falls back to the best one the CPU has if unsupported).
        public var instructionSet: KernelInstructionSet = .best
        /// Timed repetitions of each measurement; medians are reported.
        public var repeats: Int = 5
        /// Rows (tokens) of the prefill GEMM.
        public var prefillRows: Int = 512
        /// Size of the buffer the bandwidth probe streams through (much larger than any cache).
        public var bandwidthBytes: Int = 1 << 30
        /// Code widths of the packed-weight decode GEMV measured next to f16 (`quant_gemv.c`, needs
        /// AVX-512; empty: skip). Random codes, fp16 steps and zero-points, groups of `packedGroupSize`.
        public var packedBits: [Int] = [8, 4]
        public var packedGroupSize: Int = 128

        public init() {}
    }

    /// One matrix's timing: the median over repetitions and what it means.
    public struct MatrixTiming: Sendable {
        public var name: String
        public var outFeatures: Int
        public var inFeatures: Int
        public var rows: Int
        /// Median seconds per call.
        public var seconds: Double
        /// Fastest call: the closest to an unshared machine.
        public var bestSeconds: Double
        /// Median share of `threads` cores the calls got: process CPU time ÷ (wall time × threads).
        /// Only meaningful for calls much longer than a scheduler tick (prefill); Linux accounts the
        /// CPU time of threads still running at a tick granularity.
        public var coreShare: Double
        /// Median process CPU seconds per call (all threads, spin-waiting included).
        public var cpuSeconds: Double
        public var weightBytes: Int { outFeatures * inFeatures * 2 }
        public var flops: Double { 2 * Double(rows) * Double(outFeatures) * Double(inFeatures) }
        public var gigabytesPerSecond: Double { Double(weightBytes) / seconds / 1e9 }
        public var gigaflopsPerSecond: Double { flops / seconds / 1e9 }
        public var bestGigabytesPerSecond: Double { Double(weightBytes) / bestSeconds / 1e9 }
        public var bestGigaflopsPerSecond: Double { flops / bestSeconds / 1e9 }
    }

    /// The packed decode GEMV at one code width: per-matrix timings (bytes = codes + steps +
    /// zero-points as stored) and the projected decode step.
    public struct PackedDecode: Sendable {
        public var bits: Int
        public var groupSize: Int
        /// Median and best seconds per call, and packed bytes, in `layerMatrices + [headMatrix]` order.
        public var seconds: [Double]
        public var bestSeconds: [Double]
        public var bytes: [Int]
        public var layerSeconds: Double
        public var stepSeconds: Double
        public var bytesPerToken: Double
    }

    /// Everything measured, ready to print.
    public struct Report: Sendable {
        public var options: Options
        public var instructionSet: KernelInstructionSet
        public var threads: Int
        /// Read bandwidth samples (one per 128 MiB window) with all threads and with one, GB/s (10⁹ bytes/s).
        public var bandwidthSamples: [Double]
        public var singleThreadBandwidthSamples: [Double]
        public var decode: [MatrixTiming]
        /// Median seconds for one layer's GEMVs and for the head's.
        public var decodeLayerSeconds: Double
        public var decodeHeadSeconds: Double
        /// The packed GEMV at each of `options.packedBits` (empty without AVX-512).
        public var packedDecode: [PackedDecode] = []
        public var prefill: [MatrixTiming]
        public var prefillLayerSeconds: Double
        public var prefillHeadSeconds: Double

        public var bandwidth: Double { median(bandwidthSamples) }
        public var bestBandwidth: Double { bandwidthSamples.max() ?? .nan }
        public var singleThreadBandwidth: Double { median(singleThreadBandwidthSamples) }
        public var bestSingleThreadBandwidth: Double { singleThreadBandwidthSamples.max() ?? .nan }
        /// The decode step from each matrix's fastest call, against the best bandwidth sample.
        public var bestDecodeStepSeconds: Double {
            Double(options.shape.layers) * decode.dropLast().reduce(0) { $0 + $1.bestSeconds } + (decode.last?.bestSeconds ?? .nan)
        }
        public var bestPrefillStepSeconds: Double {
            Double(options.shape.layers) * prefill.dropLast().reduce(0) { $0 + $1.bestSeconds } + (prefill.last?.bestSeconds ?? .nan)
        }
        public var weightBytesPerToken: Double { Double(options.shape.parametersPerToken) * 2 }
        /// Projected decode step: every layer's GEMVs plus the head (attention etc. not included).
        public var decodeStepSeconds: Double { Double(options.shape.layers) * decodeLayerSeconds + decodeHeadSeconds }
        public var decodeTokensPerSecond: Double { 1 / decodeStepSeconds }
        /// Tokens/s if every weight byte streamed at the measured bandwidth.
        public var bandwidthBoundTokensPerSecond: Double { bandwidth * 1e9 / weightBytesPerToken }
        public var prefillStepSeconds: Double { Double(options.shape.layers) * prefillLayerSeconds + prefillHeadSeconds }
        /// 2·parameters·tokens per second over the projected prefill (the issue's "effective" rate).
        public var prefillGigaflopsPerSecond: Double {
            2 * Double(options.shape.parametersPerToken) * Double(options.prefillRows) / prefillStepSeconds / 1e9
        }
        public var prefillTokensPerSecond: Double { Double(options.prefillRows) / prefillStepSeconds }
        /// Prefill GFLOP per CPU-second: the rate while the threads are on a core, whatever else
        /// the machine runs; × threads, what an idle machine would give if the threads scale.
        public var prefillGigaflopsPerCPUSecond: Double {
            let cpu = Double(options.shape.layers) * prefill.dropLast().reduce(0) { $0 + $1.cpuSeconds } + (prefill.last?.cpuSeconds ?? .nan)
            return 2 * Double(options.shape.parametersPerToken) * Double(options.prefillRows) / cpu / 1e9
        }

        /// A plain-text report (Markdown tables).
        public var text: String {
            var lines: [String] = []
            let shape = options.shape
            let bytes = weightBytesPerToken
            lines.append("Dense kernels: \(instructionSet), \(threads) thread(s), f16 weights, \(shape.name) shapes (\(fixed(bytes / 1e9, 2)) GB of weights per token).")
            lines.append("Median = typical on this (shared) machine; best = fastest sample, the closest to an idle machine.")
            lines.append("")
            lines.append("Memory read bandwidth (\(options.bandwidthBytes >> 20) MiB buffer, 128 MiB windows): \(threads) thread(s) median \(fixed(bandwidth, 1)) GB/s, best \(fixed(bestBandwidth, 1));"
                + " 1 thread median \(fixed(singleThreadBandwidth, 1)), best \(fixed(bestSingleThreadBandwidth, 1))")
            lines.append("")
            lines.append("Decode (GEMV, 1 row):")
            lines.append("")
            lines.append("| matrix | out × in | MB | median ms | median GB/s | best GB/s |")
            lines.append("|---|---|---:|---:|---:|---:|")
            for t in decode {
                lines.append("| \(t.name) | \(t.outFeatures) × \(t.inFeatures) | \(fixed(Double(t.weightBytes) / 1e6, 1)) | \(fixed(t.seconds * 1e3, 3)) | \(fixed(t.gigabytesPerSecond, 1)) | \(fixed(t.bestGigabytesPerSecond, 1)) |")
            }
            lines.append("")
            let bound = bandwidthBoundTokensPerSecond
            let bestBound = bestBandwidth * 1e9 / bytes
            lines.append("Projected decode step (weights only; \(shape.layers) × one layer + lm_head):")
            lines.append("- median: \(fixed(decodeStepSeconds * 1e3, 1)) ms = \(fixed(decodeTokensPerSecond, 2)) tokens/s (\(fixed(bytes / decodeStepSeconds / 1e9, 1)) GB/s);"
                + " bound at median bandwidth \(fixed(bound, 2)) tokens/s → \(fixed(100 * decodeTokensPerSecond / bound, 0))% of the bound")
            lines.append("- best: \(fixed(bestDecodeStepSeconds * 1e3, 1)) ms = \(fixed(1 / bestDecodeStepSeconds, 2)) tokens/s (\(fixed(bytes / bestDecodeStepSeconds / 1e9, 1)) GB/s);"
                + " bound at best bandwidth \(fixed(bestBound, 2)) tokens/s → \(fixed(100 / bestDecodeStepSeconds / bestBound, 0))% of the bound (target ≥ 60%)")
            lines.append("")
            if !packedDecode.isEmpty {
                let header = packedDecode.map { "int\($0.bits) g\($0.groupSize)" }
                lines.append("Packed-weight decode (GEMV, 1 row, AVX-512 `quant_gemv.c`) side by side with f16; GB/s of the bytes as stored (codes + fp16 steps + zero-points), median (best):")
                lines.append("")
                lines.append("| matrix | f16 GB/s | " + header.map { "\($0) MB | \($0) GB/s" }.joined(separator: " | ") + " |")
                lines.append("|---|---:|" + String(repeating: "---:|---:|", count: packedDecode.count))
                for (index, t) in decode.enumerated() {
                    var row = "| \(t.name) | \(fixed(t.gigabytesPerSecond, 1)) (\(fixed(t.bestGigabytesPerSecond, 1)))"
                    for p in packedDecode {
                        let b = Double(p.bytes[index])
                        row += " | \(fixed(b / 1e6, 1)) | \(fixed(b / p.seconds[index] / 1e9, 1)) (\(fixed(b / p.bestSeconds[index] / 1e9, 1)))"
                    }
                    lines.append(row + " |")
                }
                lines.append("")
                lines.append("Projected decode step (weights only), median: f16 \(fixed(decodeTokensPerSecond, 2)) tokens/s ("
                    + "\(fixed(bytes / decodeStepSeconds / 1e9, 1)) GB/s)"
                    + packedDecode.map { p in
                        "; int\(p.bits) \(fixed(1 / p.stepSeconds, 2)) tokens/s (\(fixed(p.bytesPerToken / p.stepSeconds / 1e9, 1)) GB/s, \(fixed(decodeStepSeconds / p.stepSeconds, 2))× f16)"
                    }.joined())
                lines.append("")
            }
            lines.append("Prefill (GEMM, \(options.prefillRows) rows; core share = CPU time ÷ (wall × threads), below 100% when other processes held the cores):")
            lines.append("")
            lines.append("| matrix | out × in | median ms | median GFLOP/s | best GFLOP/s | core share |")
            lines.append("|---|---|---:|---:|---:|---:|")
            for t in prefill {
                lines.append("| \(t.name) | \(t.outFeatures) × \(t.inFeatures) | \(fixed(t.seconds * 1e3, 1)) | \(fixed(t.gigaflopsPerSecond, 1)) | \(fixed(t.bestGigaflopsPerSecond, 1)) | \(fixed(100 * t.coreShare, 0))% |")
            }
            lines.append("")
            let flops = 2 * Double(shape.parametersPerToken) * Double(options.prefillRows)
            lines.append("Projected prefill of \(options.prefillRows) tokens (matrix products only; 2 × parameters × tokens FLOPs):")
            lines.append("- median: \(fixed(prefillStepSeconds, 2)) s = \(fixed(prefillTokensPerSecond, 1)) tokens/s, \(fixed(prefillGigaflopsPerSecond, 1)) GFLOP/s effective")
            lines.append("- best: \(fixed(bestPrefillStepSeconds, 2)) s = \(fixed(Double(options.prefillRows) / bestPrefillStepSeconds, 1)) tokens/s, \(fixed(flops / bestPrefillStepSeconds / 1e9, 1)) GFLOP/s effective (target ≥ 100)")
            lines.append("- per CPU-second (immune to other processes): \(fixed(prefillGigaflopsPerCPUSecond, 1)) GFLOP/s; × \(threads) thread(s) = \(fixed(prefillGigaflopsPerCPUSecond * Double(threads), 1)) GFLOP/s on idle cores")
            return lines.joined(separator: "\n")
        }
    }

    /// Runs every measurement; `progress` hears what is being measured (for a terminal).
    public static func run(_ options: Options, progress: (String) -> Void = { _ in }) -> Report {
        let threads = max(1, options.threads ?? KernelThreads.count)
        let repeats = max(1, options.repeats)
        let isa = options.instructionSet.isSupported ? options.instructionSet : .best

        progress("bandwidth: streaming \(options.bandwidthBytes >> 20) MiB")
        let (all, one) = measureBandwidth(bytes: options.bandwidthBytes, threads: threads, repeats: repeats)

        let shape = options.shape
        let matrices = shape.layerMatrices + [shape.headMatrix]
        progress("generating \((matrices.reduce(0) { $0 + $1.out * $1.in } * 2) >> 20) MiB of random f16 weights")
        let weights = matrices.enumerated().map { index, m in
            let p = UnsafeMutablePointer<UInt16>.allocate(capacity: m.out * m.in)
            lcb_dense_fill_random_f16(p, m.out * m.in, UInt64(index + 1))
            return p
        }
        defer { weights.forEach { $0.deallocate() } }
        let weightMatrices = zip(matrices, weights).map {
            WeightMatrix(storage: .f16(UnsafePointer($1)), outFeatures: $0.out, inFeatures: $0.in)
        }
        let maxIn = matrices.map(\.in).max() ?? 1
        let maxOut = matrices.map(\.out).max() ?? 1
        let rows = max(1, options.prefillRows)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: rows * maxIn)
        defer { x.deallocate() }
        for i in 0..<(rows * maxIn) { x[i] = Float(i % 17) * 0.0625 - 0.5 }
        let y = UnsafeMutablePointer<Float>.allocate(capacity: rows * maxOut)
        defer { y.deallocate() }
        let layerCount = shape.layerMatrices.count

        // Decode: run the layer's matrices in order, timing each call, so each matrix is cold
        // (the others stream >> L3 through the cache in between), as in a real decode step.
        progress("decode: GEMV on one layer + head, \(repeats) passes")
        var decodeSamples = [[Sample]](repeating: [], count: matrices.count)
        var layerSamples: [Double] = []
        for pass in 0...repeats {
            var layer = 0.0
            for (index, w) in weightMatrices.enumerated() {
                let sample = measure { MatMul.linear(x, rows: 1, weights: w, bias: nil, into: y, instructionSet: isa, threads: threads) }
                if pass > 0 { decodeSamples[index].append(sample) }   // pass 0 warms up
                if index < layerCount { layer += sample.wall }
            }
            if pass > 0 { layerSamples.append(layer) }
        }
        let decode = matrices.indices.map {
            timing(matrices[$0], rows: 1, samples: decodeSamples[$0], threads: threads)
        }

        let packed: [PackedDecode] = KernelInstructionSet.avx512.isSupported && isa != .avx2
            ? options.packedBits.map { bits in
                progress("decode: packed \(bits)-bit GEMV on one layer + head, \(repeats) passes")
                return measurePackedDecode(matrices: matrices, layerCount: layerCount, stepLayers: shape.layers, bits: bits, groupSize: options.packedGroupSize,
                                           x: x, y: y, threads: threads, repeats: repeats)
            }
            : []

        progress("prefill: GEMM with \(rows) rows, \(min(repeats, 3)) passes")
        var prefillSamples = [[Sample]](repeating: [], count: matrices.count)
        var prefillLayerSamples: [Double] = []
        for _ in 0..<min(repeats, 3) {
            var layer = 0.0
            for (index, w) in weightMatrices.enumerated() {
                let sample = measure { MatMul.linear(x, rows: rows, weights: w, bias: nil, into: y, instructionSet: isa, threads: threads) }
                prefillSamples[index].append(sample)
                if index < layerCount { layer += sample.wall }
            }
            prefillLayerSamples.append(layer)
        }
        let prefill = matrices.indices.map {
            timing(matrices[$0], rows: rows, samples: prefillSamples[$0], threads: threads)
        }

        return Report(
            options: options, instructionSet: isa, threads: threads,
            bandwidthSamples: all, singleThreadBandwidthSamples: one,
            decode: decode, decodeLayerSeconds: median(layerSamples), decodeHeadSeconds: decode[layerCount].seconds,
            packedDecode: packed, prefill: prefill, prefillLayerSeconds: median(prefillLayerSamples), prefillHeadSeconds: prefill[layerCount].seconds)
    }

    /// GB/s samples (10⁹ bytes/s) reading a `bytes` buffer in 128 MiB windows (4× the last-level
    /// cache here, and each window cold because the others went through the cache since), with
    /// `threads` threads and with one; `repeats` passes over the buffer after a warm-up pass.
    ///
    /// `lcb bench --model` can use it for its bandwidth bound: take the median of `all` (or the best
    /// sample on a machine shared with other work) against the model's weight bytes per token.
    public static func measureBandwidth(bytes: Int, threads: Int, repeats: Int) -> (all: [Double], one: [Double]) {
        let window = 128 << 20
        let windows = max(bytes / window, 2)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: windows * window, alignment: 4096)
        defer { buffer.deallocate() }
        // Touch every page first so page faults are not timed.
        buffer.initializeMemory(as: UInt8.self, repeating: 1, count: windows * window)
        var sink: UInt64 = 0
        func samples(_ t: Int) -> [Double] {
            var result: [Double] = []
            for pass in 0...repeats {
                for w in 0..<windows {
                    let seconds = measure { sink &+= lcb_dense_stream_read(buffer + w * window, window, Int32(t)) }.wall
                    if pass > 0 { result.append(Double(window) / seconds / 1e9) }
                }
            }
            return result
        }
        let all = samples(threads)
        let one = samples(1)
        precondition(sink != 0, "the stream read must have read the buffer")
        return (all, one)
    }
}

/// The packed GEMV on random codes of every matrix, in decode order (each matrix cold).
private func measurePackedDecode(
    matrices: [(name: String, out: Int, in: Int)], layerCount: Int, stepLayers: Int, bits: Int, groupSize: Int,
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, threads: Int, repeats: Int
) -> KernelBenchmark.PackedDecode {
    struct Packed {
        var words: UnsafeMutablePointer<UInt32>
        var scales: UnsafeMutablePointer<UInt16>
        var zeros: UnsafeMutablePointer<UInt8>
        var rowWords: Int
        var groups: Int
        var bytes: Int
    }
    let perWord = 32 / bits
    let layers: [Packed] = matrices.enumerated().map { index, m in
        let rowWords = (m.in + perWord - 1) / perWord, groups = (m.in + groupSize - 1) / groupSize
        let words = UnsafeMutablePointer<UInt32>.allocate(capacity: m.out * rowWords)
        // Random bits are random codes; the f16 filler makes them quickly.
        words.withMemoryRebound(to: UInt16.self, capacity: 2 * m.out * rowWords) {
            lcb_dense_fill_random_f16($0, 2 * m.out * rowWords, UInt64(100 + index))
        }
        let scales = UnsafeMutablePointer<UInt16>.allocate(capacity: m.out * groups)
        lcb_dense_fill_random_f16(scales, m.out * groups, UInt64(200 + index))
        let zeros = UnsafeMutablePointer<UInt8>.allocate(capacity: m.out * groups)
        for i in 0..<(m.out * groups) { zeros[i] = UInt8(truncatingIfNeeded: scales[i] &* 40503) & UInt8((1 << bits) - 1) }
        return Packed(words: words, scales: scales, zeros: zeros, rowWords: rowWords, groups: groups,
                      bytes: m.out * rowWords * 4 + m.out * groups * 3)
    }
    defer { for p in layers { p.words.deallocate(); p.scales.deallocate(); p.zeros.deallocate() } }
    let maxIn = matrices.map(\.in).max() ?? 1, maxGroups = layers.map(\.groups).max() ?? 1
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: maxIn + maxGroups)
    defer { scratch.deallocate() }
    var samples = [[Double]](repeating: [], count: matrices.count)
    var layerSamples: [Double] = []
    for pass in 0...repeats {
        var layer = 0.0
        for (index, m) in matrices.enumerated() {
            let p = layers[index]
            let sample = measure {
                lcb_quant_gemv(x, m.in, p.words, p.rowWords, Int32(bits), p.scales, p.zeros, groupSize, p.groups, p.groups,
                               y, m.out, scratch, Int32(KernelInstructionSet.avx512.rawValue), Int32(threads))
            }
            if pass > 0 { samples[index].append(sample.wall) }   // pass 0 warms up
            if index < layerCount { layer += sample.wall }
        }
        if pass > 0 { layerSamples.append(layer) }
    }
    let seconds = samples.map { median($0) }
    let perLayerBytes = layers.prefix(layerCount).reduce(0) { $0 + $1.bytes }
    let layersPerStep = Double(stepLayers)
    return KernelBenchmark.PackedDecode(
        bits: bits, groupSize: groupSize, seconds: seconds, bestSeconds: samples.map { $0.min() ?? .nan },
        bytes: layers.map(\.bytes), layerSeconds: median(layerSamples),
        stepSeconds: layersPerStep * median(layerSamples) + (seconds.last ?? .nan),
        bytesPerToken: layersPerStep * Double(perLayerBytes) + Double(layers.last?.bytes ?? 0))
}

/// Wall and process CPU seconds of one call.
struct Sample {
    var wall: Double
    var cpu: Double
}

private func timing(_ m: (name: String, out: Int, in: Int), rows: Int, samples: [Sample], threads: Int) -> KernelBenchmark.MatrixTiming {
    KernelBenchmark.MatrixTiming(
        name: m.name, outFeatures: m.out, inFeatures: m.in, rows: rows,
        seconds: median(samples.map(\.wall)), bestSeconds: samples.map(\.wall).min() ?? .nan,
        coreShare: median(samples.map { $0.cpu / ($0.wall * Double(threads)) }),
        cpuSeconds: median(samples.map(\.cpu)))
}

private func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)   // Glibc imports RUSAGE_SELF as an enum case
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
}

private func measure(_ body: () -> Void) -> Sample {
    let cpu = processCPUSeconds()
    let start = ContinuousClock.now
    body()
    let elapsed = ContinuousClock.now - start
    let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return Sample(wall: wall, cpu: processCPUSeconds() - cpu)
}

/// The median (mean of the middle two for an even count; NaN when empty).
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// Fixed-point, locale-independent formatting.
func fixed(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = Int(rounded / scale)
    let fraction = Int(rounded - Double(whole) * scale)
    let sign = value < 0 && rounded != 0 ? "-" : ""
    guard decimals > 0 else { return "\(sign)\(whole)" }
    let digits = String(fraction)
    return "\(sign)\(whole).\(String(repeating: "0", count: decimals - digits.count))\(digits)"
}
