import Foundation

/// What changed between two result sets: per cell and metric the old and new value with a paired
/// test, cells added and removed, changed settings and provenance.
public struct ResultDiff: Sendable, Hashable, Codable {
    public var old: String
    public var new: String
    /// Significance level of the flags.
    public var alpha: Double
    public var changes: [MetricChange]
    public var added: [String]
    public var removed: [String]
    public var settingChanges: [FactChange]
    public var provenanceChanges: [FactChange]
    /// Tokens per second of cells in both, when both sides recorded their run's timing.
    public var speedChanges: [SpeedChange]
    /// Why speed was not compared, when it was not (a committed report keeps no timing).
    public var speedNote: String?

    /// One metric of one cell in both result sets, on the display scale (fractions in percent).
    public struct MetricChange: Sendable, Hashable, Codable {
        public var cell: String
        public var metric: String
        public var old: Double
        public var new: Double
        public var delta: Double
        public var higherIsBetter: Bool
        public var test: PairedTest
        /// True when the paired test rejects "no change" at `alpha`.
        public var significant: Bool
        /// Significant and in the worse direction.
        public var regression: Bool { significant && (higherIsBetter ? delta < 0 : delta > 0) }
    }

    /// The paired test behind a flag.
    public struct PairedTest: Sendable, Hashable, Codable {
        /// `mcnemar-exact`, `paired-bootstrap`, or `none`.
        public var method: String
        /// Samples present in both result sets.
        public var pairs: Int
        public var pValue: Double?
        /// McNemar: right → wrong and wrong → right counts.
        public var rightToWrong: Int?
        public var wrongToRight: Int?
        /// Bootstrap: confidence interval of new − old, display scale.
        public var lower: Double?
        public var upper: Double?
        /// Why no test was run, when none was.
        public var reason: String?
    }

    /// A setting or provenance fact that differs (nil = absent on that side).
    public struct FactChange: Sendable, Hashable, Codable {
        public var subject: String
        public var old: String?
        public var new: String?
    }

    /// One cell's decoding speed in both result sets: a single measurement, so no test.
    public struct SpeedChange: Sendable, Hashable, Codable {
        public var cell: String
        /// Generated tokens per second.
        public var old: Double
        public var new: Double
        /// new / old.
        public var ratio: Double
    }

    /// Significant regressions larger than `points` (display units: percentage points for fractions).
    public func regressions(largerThan points: Double) -> [MetricChange] {
        changes.filter { $0.regression && abs($0.delta) > points }
    }
}

/// Compares two result sets cell by cell and sample by sample.
public struct ResultDiffer: Sendable {
    public var alpha: Double
    public var confidence: Double
    public var resamples: Int
    public var seed: UInt64

    public init(alpha: Double = 0.05, resamples: Int = 2000, seed: UInt64 = 0x6C63_6264) {
        self.alpha = alpha
        self.confidence = 1 - alpha
        self.resamples = resamples
        self.seed = seed
    }

    public func diff(old: ResultSet, new: ResultSet) -> ResultDiff {
        let oldCells = Dictionary(old.cells.map { ($0.coordinates, $0) }, uniquingKeysWith: { a, _ in a })
        let newCells = Dictionary(new.cells.map { ($0.coordinates, $0) }, uniquingKeysWith: { a, _ in a })
        let removed = old.cells.map(\.coordinates).filter { newCells[$0] == nil }
        let added = new.cells.map(\.coordinates).filter { oldCells[$0] == nil }

        var changes: [ResultDiff.MetricChange] = []
        var settings: [ResultDiff.FactChange] = []
        var speeds: [ResultDiff.SpeedChange] = []
        for cell in new.cells {
            guard let before = oldCells[cell.coordinates] else { continue }
            let name = cell.coordinates.description
            if let a = before.resources.tokensPerSecond, let b = cell.resources.tokensPerSecond, a > 0 {
                speeds.append(.init(cell: name, old: a, new: b, ratio: b / a))
            }
            if before.kv != cell.kv {
                settings.append(.init(subject: "\(name) kv", old: before.kv?.description ?? "f16", new: cell.kv?.description ?? "f16"))
            }
            if before.weights != cell.weights {
                settings.append(.init(subject: "\(name) weights", old: before.weights?.description ?? "as stored",
                                      new: cell.weights?.description ?? "as stored"))
            }
            if let a = before.key, let b = cell.key, a != b {
                settings.append(.init(subject: "\(name) cell key", old: a, new: b))
            }
            // With one group among a cell's metrics (a suite of one probe), every sample is in it.
            let groups = Set(cell.metrics.compactMap { MetricCatalog.split($0.key).group })
            var counts: [String: [PairedTests.ResampledCounts]] = [:]
            for metric in cell.metrics {
                guard let previous = before.metrics.first(where: { $0.key == metric.key }) else { continue }
                changes.append(compare(cell: name, old: previous, new: metric, oldSamples: before.samples, newSamples: cell.samples,
                                       singleGroup: groups.count == 1, counts: &counts))
            }
        }

        var provenance: [ResultDiff.FactChange] = []
        let oldFacts = Dictionary(old.provenance?.facts.map { ($0.name, $0.value) } ?? [], uniquingKeysWith: { a, _ in a })
        let newFacts = Dictionary(new.provenance?.facts.map { ($0.name, $0.value) } ?? [], uniquingKeysWith: { a, _ in a })
        let order = (old.provenance?.facts.map(\.name) ?? []) + (new.provenance?.facts.map(\.name) ?? [])
        var seen = Set<String>()
        for name in order where seen.insert(name).inserted && name != "run" {
            // A committed report leaves the run's own facts out: absent there is not a change.
            if RunProvenance.perRunFacts.contains(name), oldFacts[name] == nil || newFacts[name] == nil { continue }
            if oldFacts[name] != newFacts[name] { provenance.append(.init(subject: name, old: oldFacts[name], new: newFacts[name])) }
        }
        var speedNote: String?
        if speeds.isEmpty {
            let missing = [(old, "old"), (new, "new")].filter { set, _ in !set.cells.contains { $0.resources.tokensPerSecond != nil } }
            if !missing.isEmpty {
                speedNote = "speed not compared: " + missing.map { set, side in "\(side) (\(set.origin)) records no tokens/s" }
                    .joined(separator: ", ") + "; committed reports leave timing out (run.json), so compare run folders or run:N for speed"
            }
        }
        return ResultDiff(old: old.origin, new: new.origin, alpha: alpha, changes: changes,
                          added: added.map(\.description), removed: removed.map(\.description),
                          settingChanges: settings, provenanceChanges: provenance, speedChanges: speeds, speedNote: speedNote)
    }

    func compare(cell: String, old: MetricResult, new: MetricResult,
                 oldSamples: [String: SampleComponents], newSamples: [String: SampleComponents],
                 singleGroup: Bool, counts: inout [String: [PairedTests.ResampledCounts]]) -> ResultDiff.MetricChange {
        let scale = MetricCatalog.displayScale(forKey: new.key)
        let delta = (new.value - old.value) * scale
        var test = ResultDiff.PairedTest(method: "none", pairs: 0)
        var significant = false
        if let statistic = MetricCatalog.pairedStatistic(forKey: new.key) {
            // Pair by sample id, in a fixed order, keeping only samples with every component on both sides.
            var oldRows: [[Double]] = [], newRows: [[Double]] = []
            // A grouped metric (`spatial/exactMatch`) pairs only its group's samples: those recorded
            // with that group, or whose id names it (`spatial-12`, `jsonl/spatial-12`).
            let group = singleGroup ? nil : MetricCatalog.split(new.key).group
            func inGroup(_ id: String) -> Bool {
                guard let group else { return true }
                if let recorded = newSamples[id]?.group ?? oldSamples[id]?.group { return recorded == group }
                return id.hasPrefix(group + "-") || id.hasPrefix(group + "/") || id.contains("/" + group + "-")
            }
            for id in Set(oldSamples.keys).intersection(newSamples.keys).sorted() where inGroup(id) {
                let a = statistic.components.compactMap { oldSamples[id]?.components[$0] }
                let b = statistic.components.compactMap { newSamples[id]?.components[$0] }
                if a.count == statistic.components.count, b.count == statistic.components.count {
                    oldRows.append(a)
                    newRows.append(b)
                }
            }
            test.pairs = oldRows.count
            if oldRows.isEmpty {
                test.reason = group.map { "no samples of '\($0)' with '\(statistic.components.joined(separator: "', '"))' in both (samples.jsonl records no group)" }
                    ?? "no samples with '\(statistic.components.joined(separator: "', '"))' in both"
            } else if case .binary = statistic {
                var b = 0, c = 0
                for (before, after) in zip(oldRows, newRows) {
                    if before[0] >= 0.5 && after[0] < 0.5 { b += 1 }
                    if before[0] < 0.5 && after[0] >= 0.5 { c += 1 }
                }
                let p = PairedTests.exactMcNemar(regressions: b, improvements: c)
                test.method = "mcnemar-exact"
                test.pValue = p
                test.rightToWrong = b
                test.wrongToRight = c
                significant = p < alpha
            } else {
                let interval: BootstrapInterval
                if case .yesNo(let key) = statistic {
                    // Precision, recall, F1 and yes ratio of one cell share one set of resampled counts.
                    let cacheKey = group ?? ""
                    let resampled = counts[cacheKey] ?? PairedTests.yesNoCounts(
                        PairedTests.yesNoCodes(oldRows), PairedTests.yesNoCodes(newRows), resamples: resamples, seed: seed)
                    counts[cacheKey] = resampled
                    let all = [Int](repeating: 1, count: oldRows.count)
                    let observed = statistic.evaluate(newRows, weights: all) - statistic.evaluate(oldRows, weights: all)
                    interval = PairedTests.interval(
                        estimate: observed, confidence: confidence,
                        differences: oldRows.count > 1 ? resampled.map { PairedTests.yesNoStatistic(key, $0.new) - PairedTests.yesNoStatistic(key, $0.old) } : [])
                } else {
                    interval = PairedTests.pairedBootstrap(old: oldRows, new: newRows, statistic: statistic,
                                                           confidence: confidence, resamples: resamples, seed: seed)
                }
                test.method = "paired-bootstrap"
                test.pValue = interval.pValue
                let componentScale = MetricCatalog.displayScale(forKey: new.key)
                test.lower = interval.lower * componentScale
                test.upper = interval.upper * componentScale
                significant = interval.excludesZero
            }
        } else {
            test.reason = "a corpus statistic without per-sample components"
        }
        return ResultDiff.MetricChange(cell: cell, metric: new.key, old: old.value * scale, new: new.value * scale,
                                       delta: delta, higherIsBetter: new.higherIsBetter, test: test, significant: significant)
    }
}
