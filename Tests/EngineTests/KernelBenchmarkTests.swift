import Testing
@testable import Engine

/// The benchmark's arithmetic (not its timings): shapes, projections and number formatting.
@Suite struct KernelBenchmarkTests {
    @Test func gemma2BShapeReadsTheIssuesWeightBytes() {
        let shape = KernelBenchmark.DecoderShape.gemma2B
        // Issue 3: 2.05 B parameters, 4.1 GB in f16 (embeddings tied to the head, read once).
        #expect(shape.parametersPerToken == 2_047_344_640)
        #expect(shape.layerMatrices.map(\.out) == [2048, 256, 256, 2048, 16384, 16384, 2048])
        #expect(shape.layerMatrices.map(\.in) == [2048, 2048, 2048, 2048, 2048, 2048, 16384])
        #expect(shape.headMatrix.out == 32000 && shape.headMatrix.in == 2048)
    }

    @Test func projectionsCombineLayersHeadAndBandwidth() {
        var options = KernelBenchmark.Options()
        options.prefillRows = 512
        let shape = options.shape
        let timing = { (name: String, rows: Int, seconds: Double) in
            KernelBenchmark.MatrixTiming(name: name, outFeatures: 2048, inFeatures: 2048, rows: rows,
                                         seconds: seconds, bestSeconds: seconds / 2, coreShare: 1, cpuSeconds: seconds * 2)
        }
        let report = KernelBenchmark.Report(
            options: options, instructionSet: .scalar, threads: 2,
            bandwidthSamples: [20, 40, 30], singleThreadBandwidthSamples: [10],
            decode: [timing("a", 1, 0.001), timing("lm_head", 1, 0.004)], decodeLayerSeconds: 0.008, decodeHeadSeconds: 0.004,
            prefill: [timing("a", 512, 0.1), timing("lm_head", 512, 0.5)], prefillLayerSeconds: 0.9, prefillHeadSeconds: 0.5)
        #expect(report.bandwidth == 30)
        #expect(report.bestBandwidth == 40)
        #expect(abs(report.decodeStepSeconds - (18 * 0.008 + 0.004)) < 1e-12)
        #expect(abs(report.bandwidthBoundTokensPerSecond - 30e9 / (2 * Double(shape.parametersPerToken))) < 1e-9)
        #expect(abs(report.bestDecodeStepSeconds - (18 * 0.0005 + 0.002)) < 1e-12)
        let flops = 2 * Double(shape.parametersPerToken) * 512
        #expect(abs(report.prefillGigaflopsPerSecond - flops / (18 * 0.9 + 0.5) / 1e9) < 1e-9)
        // CPU seconds are twice the wall time here: 2 threads fully busy.
        #expect(abs(report.prefillGigaflopsPerCPUSecond - flops / (2 * (18 * 0.1 + 0.5)) / 1e9) < 1e-9)
        #expect(report.text.contains("| lm_head | 2048 × 2048 |"))
    }

    @Test func packedDecodeRowsSitNextToF16AndProjectTheStep() {
        let timing = { (name: String, seconds: Double) in
            KernelBenchmark.MatrixTiming(name: name, outFeatures: 2048, inFeatures: 2048, rows: 1,
                                         seconds: seconds, bestSeconds: seconds, coreShare: 1, cpuSeconds: seconds)
        }
        // f16: 8.39 MB in 1 ms per matrix; int4: 2.1 MB + params in 0.25 ms.
        let int4 = KernelBenchmark.PackedDecode(
            bits: 4, groupSize: 128, seconds: [0.00025, 0.001], bestSeconds: [0.0002, 0.001], bytes: [2_000_000, 4_000_000],
            layerSeconds: 0.00025, stepSeconds: 18 * 0.00025 + 0.001, bytesPerToken: 18 * 2_000_000 + 4_000_000)
        let report = KernelBenchmark.Report(
            options: KernelBenchmark.Options(), instructionSet: .avx512, threads: 2,
            bandwidthSamples: [40], singleThreadBandwidthSamples: [30],
            decode: [timing("q_proj", 0.001), timing("lm_head", 0.004)], decodeLayerSeconds: 0.001, decodeHeadSeconds: 0.004,
            packedDecode: [int4],
            prefill: [timing("q_proj", 0.1), timing("lm_head", 0.5)], prefillLayerSeconds: 0.1, prefillHeadSeconds: 0.5)
        // 2 MB / 0.25 ms = 8.0 GB/s median, 10.0 best; f16 2048² × 2 B / 1 ms = 8.4.
        #expect(report.text.contains("| q_proj | 8.4 (8.4) | 2.0 | 8.0 (10.0) |"))
        // Step: f16 18 × 1 + 4 = 22 ms, int4 18 × 0.25 + 1 = 5.5 ms → 4.00× f16.
        #expect(report.text.contains("int4 181.82 tokens/s"))
        #expect(report.text.contains("4.00× f16"))
    }

    @Test(arguments: [(1.0, 0, "1"), (2.5, 1, "2.5"), (0.05, 2, "0.05"), (-3.14159, 3, "-3.142"), (99.96, 1, "100.0"),
                      (-0.0001, 2, "0.00"), (Double.nan, 1, "n/a")])
    func fixedFormatting(value: Double, decimals: Int, expected: String) {
        #expect(fixed(value, decimals) == expected)
    }

    @Test func medianOfOddAndEvenCounts() {
        #expect(median([3, 1, 2]) == 2)
        #expect(median([4, 1, 3, 2]) == 2.5)
        #expect(median([]).isNaN)
    }
}
