import Datasets
import Foundation
import Planning
import SpecLanguage

/// One reported number of a cell.
public struct CellMetric: Sendable, Codable, Equatable {
    public var value: Double
    public var standardError: Double
    public var n: Int
    public var higherIsBetter: Bool
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case value, standardError = "standard_error", n, higherIsBetter = "higher_is_better", note
    }
}

/// A quantization setting as reports show it: method, bits, regime (KV only) and every effective parameter.
public struct QuantizationSummary: Sendable, Codable, Equatable {
    public var method: String
    public var bits: Int
    /// When KV quantization acts (`store`, `prefix`, `attention`); nil for weights.
    public var regime: String?
    /// Effective parameters by spec name (defaults filled in), values as the spec writes them.
    public var parameters: [String: String]

    public init(_ kv: KVCacheQuantization) {
        method = kv.method.name.rawValue
        bits = kv.bits
        regime = kv.regime.rawValue
        parameters = Dictionary(kv.method.parameters.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    public init(_ weights: WeightQuantization) {
        method = weights.method.name.rawValue
        bits = weights.bits
        regime = nil
        var parameters = Dictionary(weights.method.parameters.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        parameters["targets"] = Set(weights.targets.map(\.rawValue)).sorted().joined(separator: ",")
        self.parameters = parameters
    }
}

/// A cell's results: labels, completeness, metrics and measurements.
public struct CellResult: Sendable, Codable, Equatable {
    public var key: String
    public var experiments: [String]
    public var specFiles: [String]
    public var model: String
    public var compression: String
    public var dataset: String
    public var regime: String
    public var samples: Int
    /// Samples with a stored answer.
    public var answered: Int
    public var failed: Int
    /// Metrics by key (`accuracy`, or `<probe>/<key>` for a synthetic suite); empty unless every
    /// sample was answered.
    public var metrics: [String: CellMetric]
    /// KV cache bytes at the end of generation (mean over samples) and weight bytes, as the
    /// caches and linear layers account for them.
    public var kvBytesMean: Double?
    public var weightBytes: Int?
    /// KV cache bytes per cached token at the end of generation (mean over samples that recorded
    /// their token count).
    public var kvBytesPerToken: Double?
    /// Generated tokens per second of decoding (all answered samples' tokens over their decode
    /// time; prefill and vision encoding not included). A measurement: it varies run to run.
    public var tokensPerSecond: Double?
    /// The KV and weight settings (nil: FP16 cache / unquantized weights).
    public var kv: QuantizationSummary?
    public var weights: QuantizationSummary?
    /// Why metrics are missing, when they are.
    public var scoringError: String?

    enum CodingKeys: String, CodingKey {
        case key, experiments, specFiles = "spec_files", model, compression, dataset, regime, samples, answered, failed,
             metrics, kvBytesMean = "kv_bytes_mean", weightBytes = "weight_bytes", kvBytesPerToken = "kv_bytes_per_token",
             tokensPerSecond = "tokens_per_second", kv, weights, scoringError = "scoring_error"
    }
}

extension CellResult {
    /// Encodes every field; `kv` and `weights` as `null` when absent, so a reader can tell "FP16"
    /// from "not recorded" (other absent optionals are left out).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(experiments, forKey: .experiments)
        try container.encode(specFiles, forKey: .specFiles)
        try container.encode(model, forKey: .model)
        try container.encode(compression, forKey: .compression)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(regime, forKey: .regime)
        try container.encode(samples, forKey: .samples)
        try container.encode(answered, forKey: .answered)
        try container.encode(failed, forKey: .failed)
        try container.encode(metrics, forKey: .metrics)
        try container.encodeIfPresent(kvBytesMean, forKey: .kvBytesMean)
        try container.encodeIfPresent(weightBytes, forKey: .weightBytes)
        try container.encodeIfPresent(kvBytesPerToken, forKey: .kvBytesPerToken)
        try container.encodeIfPresent(tokensPerSecond, forKey: .tokensPerSecond)
        try container.encode(kv, forKey: .kv)
        try container.encode(weights, forKey: .weights)
        try container.encodeIfPresent(scoringError, forKey: .scoringError)
    }
}

/// One line of `samples.jsonl`: a sample's answer in one cell, with its metric components.
public struct SampleLine: Sendable, Codable, Equatable {
    public var experiment: String
    public var model: String
    public var compression: String
    public var dataset: String
    public var index: Int
    public var sample: String
    public var cell: String
    public var prompt: String
    public var output: String
    public var tokens: [Int]
    public var parsed: String?
    /// The probe of a synthetic suite's sample (Reporting groups and pairs by it); nil for real data.
    public var probe: String?
    public var components: [String: Double]
    public var kvBytes: Int
    public var weightBytes: Int
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case experiment, model, compression, dataset, index, sample, cell, prompt, output, tokens, parsed, probe, components,
             kvBytes = "kv_bytes", weightBytes = "weight_bytes", error
    }

    public init(experiment: String, model: String, compression: String, dataset: String, index: Int, sample: String,
                cell: String, prompt: String, output: String, tokens: [Int], parsed: String?, probe: String?,
                components: [String: Double], kvBytes: Int, weightBytes: Int, error: String?) {
        self.experiment = experiment
        self.model = model
        self.compression = compression
        self.dataset = dataset
        self.index = index
        self.sample = sample
        self.cell = cell
        self.prompt = prompt
        self.output = output
        self.tokens = tokens
        self.parsed = parsed
        self.probe = probe
        self.components = components
        self.kvBytes = kvBytes
        self.weightBytes = weightBytes
        self.error = error
    }
}

/// Scores every cell of a plan from the answers in the store, with the Datasets metrics.
///
/// Scoring is cheap and deterministic, so it runs over all answers on every run (corpus metrics
/// such as CIDEr-D need the whole cell at once anyway).
public struct CellScoring {
    public var plan: Plan
    public var samples: RunSamples
    public var evaluator = Evaluator()

    public init(plan: Plan, samples: RunSamples) {
        self.plan = plan
        self.samples = samples
    }

    /// Results and sample lines for every cell, sorted by (experiment, model, compression, dataset).
    public func score(records: [String: SampleRecord]) -> (cells: [CellResult], lines: [SampleLine]) {
        var cells: [CellResult] = []
        var lines: [SampleLine] = []
        for cell in plan.cells {
            let label = cell.labels.first ?? CellLabel(specFile: "", experiment: "", model: cell.cell.model.name,
                                                       compression: "", dataset: cell.cell.dataset.name)
            let loaded = samples.dataset(plan.datasets[cell.dataset].descriptor).samples
            var answered = 0
            var failed = 0
            var outputs: [(LoadedSample, SampleRecord?)] = []
            for (index, decode) in cell.decodeJobs.enumerated() where index < loaded.count {
                let record = records[plan.jobs[decode].key.hex]
                if let record { record.error == nil ? (answered += 1) : (failed += 1) }
                outputs.append((loaded[index], record))
            }
            var result = CellResult(
                key: cell.key.hex, experiments: Array(Set(cell.labels.map(\.experiment))).sorted(),
                specFiles: Array(Set(cell.labels.map(\.specFile))).sorted(), model: label.model,
                compression: label.compression, dataset: label.dataset, regime: cell.cell.regime.rawValue,
                samples: cell.sampleCount, answered: answered, failed: failed, metrics: [:],
                kv: cell.cell.kv.map(QuantizationSummary.init), weights: cell.cell.weights.map(QuantizationSummary.init))
            var scores: [String: SampleScore] = [:]
            if answered == cell.sampleCount, cell.sampleCount > 0 {
                // A synthetic suite mixes formats: score each probe with its own format, so one
                // probe that cannot be scored does not take the others' metrics with it.
                var groups: [String: [(LoadedSample, SampleRecord)]] = [:]
                var groupOrder: [String] = []
                for case let (sample, record?) in outputs {
                    let group = sample.probe ?? ""
                    if groups[group] == nil { groupOrder.append(group) }
                    groups[group, default: []].append((sample, record))
                }
                var errors: [String] = []
                for group in groupOrder {
                    let members = groups[group]!
                    let format = members[0].0.format
                    var texts: [String: String] = [:]
                    for (sample, record) in members { texts[sample.sample.id] = record.output }
                    do {
                        let report = try evaluator.evaluate(format, samples: members.map(\.0.sample), outputs: texts)
                        for metric in report.metrics {
                            let key = group.isEmpty ? metric.key : "\(group)/\(metric.key)"
                            result.metrics[key] = CellMetric(value: metric.value, standardError: metric.standardError,
                                                             n: metric.count, higherIsBetter: metric.higherIsBetter, note: metric.note)
                        }
                        for score in report.samples { scores[score.sampleID] = score }
                    } catch {
                        errors.append(group.isEmpty ? "\(error)" : "\(group): \(error)")
                    }
                }
                if !errors.isEmpty { result.scoringError = errors.joined(separator: "; ") }
            } else if cell.sampleCount > 0 {
                result.scoringError = "\(cell.sampleCount - answered) of \(cell.sampleCount) samples have no answer"
            }
            let answeredRecords = outputs.compactMap { $0.1 }.filter { $0.error == nil }
            if !answeredRecords.isEmpty {
                result.kvBytesMean = Double(answeredRecords.reduce(0) { $0 + $1.kvBytes }) / Double(answeredRecords.count)
                result.weightBytes = answeredRecords[0].weightBytes
                let perToken = answeredRecords.filter { $0.kvTokens > 0 }.map { Double($0.kvBytes) / Double($0.kvTokens) }
                if !perToken.isEmpty { result.kvBytesPerToken = perToken.reduce(0, +) / Double(perToken.count) }
                let decodeSeconds = answeredRecords.reduce(0.0) { $0 + ($1.timings["decode"] ?? 0) }
                let generated = answeredRecords.reduce(0) { $0 + $1.tokens.count }
                if decodeSeconds > 0 { result.tokensPerSecond = Double(generated) / decodeSeconds }
            }
            cells.append(result)
            for (index, (sample, record)) in outputs.enumerated() {
                let score = scores[sample.sample.id]
                lines.append(SampleLine(
                    experiment: label.experiment, model: label.model, compression: label.compression, dataset: label.dataset,
                    index: index, sample: sample.sample.id, cell: cell.key.hex, prompt: record?.prompt ?? "",
                    output: record?.output ?? "", tokens: record?.tokens ?? [], parsed: score?.parsed, probe: sample.probe,
                    components: score?.components ?? [:], kvBytes: record?.kvBytes ?? 0, weightBytes: record?.weightBytes ?? 0,
                    error: record == nil ? "not computed" : record?.error))
            }
        }
        cells.sort { ($0.experiments.first ?? "", $0.model, $0.compression, $0.dataset, $0.key)
            < ($1.experiments.first ?? "", $1.model, $1.compression, $1.dataset, $1.key) }
        lines.sort { ($0.experiment, $0.model, $0.compression, $0.dataset, $0.index)
            < ($1.experiment, $1.model, $1.compression, $1.dataset, $1.index) }
        return (cells, lines)
    }
}
