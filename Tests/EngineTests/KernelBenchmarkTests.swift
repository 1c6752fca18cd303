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
