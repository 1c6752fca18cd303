import Foundation

/// One reported number: its value, its standard error, and how the error was obtained.
public struct MetricValue: Sendable, Hashable, Codable {
    /// Machine name, stable across versions (`f1`, `perception`, `CIDEr`, `accuracy[adversarial]`).
    public var key: String
    /// The number as the official script reports it (scale noted in docs/metrics.md).
    public var value: Double
    /// Standard error of `value`.
    public var standardError: Double
    /// How `standardError` was computed.
    public var errorMethod: ErrorMethod
    /// Direction for report arrows.
    public var higherIsBetter: Bool
    /// Units the estimate averages over (questions, images, pairs, sets).
    public var count: Int
    /// Provenance that must travel with the number, e.g. the toxicity scorer's name.
    public var note: String?

    public init(key: String, value: Double, standardError: Double, errorMethod: ErrorMethod,
                higherIsBetter: Bool = true, count: Int, note: String? = nil) {
        self.key = key
        self.value = value
        self.standardError = standardError
        self.errorMethod = errorMethod
        self.higherIsBetter = higherIsBetter
        self.count = count
        self.note = note
    }
}

/// How a standard error was obtained.
public enum ErrorMethod: Sendable, Hashable, Codable {
    /// Closed form: the standard error of a mean over `count` units (sample s.d. / √n).
    case analytic
    /// Bootstrap over units with a fixed seed, so reruns give the same error.
    case bootstrap(resamples: Int, seed: UInt64)
}

/// What one sample contributed: the parsed answer and the numbers its metrics are built from.
///
/// Kept per sample so that two runs can be paired question by question (McNemar, paired bootstrap).
public struct SampleScore: Sendable, Hashable, Codable {
    public var sampleID: String
    /// The answer extracted from the output (`yes`, `B`, a normalised string), when there is one.
    public var parsed: String?
    /// Named components, e.g. `correct` 0/1, `vqaAccuracy`, `CIDEr`, `toxicity`.
    public var components: [String: Double]

    public init(sampleID: String, parsed: String? = nil, components: [String: Double]) {
        self.sampleID = sampleID
        self.parsed = parsed
        self.components = components
    }
}

/// A dataset's metrics with their per-sample components.
public struct EvaluationReport: Sendable, Codable {
    public var format: DatasetFormat
    public var metrics: [MetricValue]
    public var samples: [SampleScore]
    /// Pluggable scorers that produced numbers here (`toxicity`, `judge`), by name, for every report.
    public var scorers: [String: String]

    public init(format: DatasetFormat, metrics: [MetricValue], samples: [SampleScore], scorers: [String: String] = [:]) {
        self.format = format
        self.metrics = metrics
        self.samples = samples
        self.scorers = scorers
    }

    /// The metric with `key`, if reported.
    public func metric(_ key: String) -> MetricValue? {
        metrics.first { $0.key == key }
    }
}

/// Means, analytic errors and a seeded bootstrap.
public enum Statistics {
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// Standard error of the mean: sample standard deviation (n − 1) over √n; 0 for fewer than two values.
    public static func standardErrorOfMean(_ values: [Double]) -> Double {
        let n = values.count
        guard n > 1 else { return 0 }
        let m = mean(values)
        let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
        return (variance / Double(n)).squareRoot()
    }

    /// A metric over the mean of per-unit values, with its analytic standard error.
    static func meanMetric(_ key: String, _ values: [Double], scale: Double = 1, higherIsBetter: Bool = true,
                           note: String? = nil) -> MetricValue {
        MetricValue(key: key, value: mean(values) * scale, standardError: standardErrorOfMean(values) * scale,
                    errorMethod: .analytic, higherIsBetter: higherIsBetter, count: values.count, note: note)
    }

    /// Bootstrap standard error: resample `unitCount` units with replacement `resamples` times and
    /// take the standard deviation (n − 1) of `statistic` over the resamples.
    ///
    /// `statistic` receives how many times each unit was drawn, which lets corpus-level metrics
    /// (BLEU, F1) weight their sums instead of copying data.
    public static func bootstrapStandardError(unitCount: Int, resamples: Int, seed: UInt64,
                                              statistic: ([Int]) -> Double) -> Double {
        bootstrapStandardErrors(unitCount: unitCount, resamples: resamples, seed: seed, count: 1) { [statistic($0)] }[0]
    }

    /// Several statistics from the same resamples (one draw serves P, R and F1, or BLEU-1…4).
    public static func bootstrapStandardErrors(unitCount: Int, resamples: Int, seed: UInt64, count: Int,
                                               statistics: ([Int]) -> [Double]) -> [Double] {
        guard unitCount > 1, resamples > 1 else { return Array(repeating: 0, count: count) }
        var generator = SplitMix64(seed: seed)
        var values = Array(repeating: [Double](), count: count)
        var weights = [Int](repeating: 0, count: unitCount)
        for _ in 0..<resamples {
            for index in weights.indices { weights[index] = 0 }
            for _ in 0..<unitCount { weights[Int(generator.next() % UInt64(unitCount))] += 1 }
            for (index, value) in statistics(weights).prefix(count).enumerated() { values[index].append(value) }
        }
        return values.map { standardErrorOfMean($0) * Double($0.count).squareRoot() }
    }
}

/// SplitMix64: a small, fast, fully specified generator, so bootstrap errors are identical on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
