import Foundation

/// What Reporting knows about each metric: the spec's name for an evaluator key, how it is shown,
/// and how to recompute it from per-sample components for paired tests.
///
/// The evaluator (Datasets) names metrics the way the official scripts do (`exactMatch`, `CIDEr-D`,
/// `perception`); specs name them in snake case (`exact_match`, `cider`, `mme_score`). Keys that are
/// not listed keep their own name and are shown as recorded.
public enum MetricCatalog {
    /// Spec name → evaluator keys (a bracketed key such as `accuracy[adversarial]` belongs to its stem).
    static let keysBySpecName: [String: [String]] = [
        "exact_match": ["exactMatch"], "vqa_accuracy": ["vqaAccuracy"], "accuracy": ["accuracy"],
        "precision": ["precision"], "recall": ["recall"], "f1": ["f1"], "yes_ratio": ["yesRatio"],
        "mme_score": ["perception", "cognition"], "acc_plus": ["accPlus"], "pair_accuracy": ["pairAccuracy"],
        "aacc": ["aAcc"], "facc": ["fAcc"], "qacc": ["qAcc"], "cider": ["CIDEr-D"],
        "bleu1": ["BLEU-1"], "bleu2": ["BLEU-2"], "bleu3": ["BLEU-3"], "bleu4": ["BLEU-4"], "rouge_l": ["ROUGE-L"],
        "judge_score": ["score"], "max_toxicity": ["maxToxicity"], "toxicity_spread": ["toxicitySpread"],
        "competency_rate": ["competencyWordRate"], "answer_disparity": ["answerDisparity"], "max_skew": ["maxSkew"],
    ]

    static let specNameByStem: [String: String] = {
        var out: [String: String] = [:]
        for (name, keys) in keysBySpecName { for key in keys { out[key] = name } }
        return out
    }()

    /// Keys on a 0…1 scale that tables and diffs show in percent (the way papers print accuracy).
    static let fractionStems: Set<String> = [
        "exactMatch", "accuracy", "precision", "recall", "f1", "yesRatio", "pairAccuracy", "questionAccuracy",
        "inconsistentSets", "answerDisparity",
    ]

    /// A key's group and the key within it: `spatial/exactMatch` → (`spatial`, `exactMatch`).
    ///
    /// Execution prefixes the metrics of a synthetic suite with their probe, since each probe is
    /// scored on its own.
    public static func split(_ key: String) -> (group: String?, key: String) {
        let beforeBracket = key.firstIndex(of: "[") ?? key.endIndex
        guard let slash = key[..<beforeBracket].firstIndex(of: "/") else { return (nil, key) }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }

    /// The stem of a key: `accuracy[adversarial]` → `accuracy`, `maxSkew@10[race]` → `maxSkew`,
    /// `spatial/exactMatch` → `exactMatch`.
    public static func stem(_ key: String) -> String {
        let key = split(key).key
        var end = key.endIndex
        if let bracket = key.firstIndex(of: "[") { end = bracket }
        if let at = key[..<end].firstIndex(of: "@") { end = at }
        return String(key[..<end])
    }

    /// The spec's name for an evaluator key (`CIDEr-D` → `cider`); nil when specs have none.
    public static func specName(forKey key: String) -> String? {
        if keysBySpecName[key] != nil { return key }
        return specNameByStem[stem(key)]
    }

    /// The factor between the recorded value and the displayed one (100 for fractions shown in percent).
    public static func displayScale(forKey key: String) -> Double {
        fractionStems.contains(stem(key)) ? 100 : 1
    }

    /// A short column heading: the spec name for plain keys, the key itself for variants, with
    /// its group in front (`spatial/exact_match`).
    public static func heading(forKey key: String) -> String {
        let (group, plain) = split(key)
        let prefix = group.map { $0 + "/" } ?? ""
        if let name = specName(forKey: plain), stem(plain) == plain, keysBySpecName[name]?.count == 1 { return prefix + name }
        return key
    }

    /// How the metric `key` is recomputed from per-sample components, for paired tests; nil when
    /// the components cannot reproduce it (per-category variants, set-level statistics).
    public static func pairedStatistic(forKey key: String) -> PairedStatistic? {
        let plain = split(key).key
        switch plain {
        case "exactMatch", "accuracy", "aAcc", "questionAccuracy": return .binary(component: "correct")
        case "vqaAccuracy": return .mean(component: "vqaAccuracy", scale: 100)  // reported in percent
        case "CIDEr-D": return .mean(component: "CIDEr-D", scale: 1)
        case "ROUGE-L": return .mean(component: "ROUGE-L", scale: 1)
        case "score": return .mean(component: "grade", scale: 100)
        case "precision", "recall", "f1", "yesRatio": return .yesNo(plain)
        default: return nil
        }
    }
}

/// A metric rebuilt from sample components, so two runs can be compared sample by sample.
public enum PairedStatistic: Sendable, Hashable {
    /// A share of right answers: component 0/1 per sample (exact McNemar applies).
    case binary(component: String)
    /// A mean of a per-sample component times `scale` (paired bootstrap).
    case mean(component: String, scale: Double)
    /// POPE's corpus statistics from `predictedYes` and `labelYes` (paired bootstrap).
    case yesNo(String)

    /// The components the statistic reads.
    public var components: [String] {
        switch self {
        case .binary(let component), .mean(let component, _): return [component]
        case .yesNo: return ["predictedYes", "labelYes"]
        }
    }

    /// The statistic over samples drawn `weights[i]` times each (recorded scale, not display scale).
    ///
    /// Weights let the bootstrap resample without copying: a weight of 2 counts a sample twice.
    func evaluate(_ rows: [[Double]], weights: [Int]) -> Double {
        switch self {
        case .binary, .mean:
            var sum = 0.0, total = 0
            for (row, weight) in zip(rows, weights) where weight > 0 {
                sum += row[0] * Double(weight)
                total += weight
            }
            let scale: Double
            if case .mean(_, let s) = self { scale = s } else { scale = 1 }
            return total == 0 ? 0 : sum / Double(total) * scale
        case .yesNo(let key):
            var tp = 0.0, fp = 0.0, fn = 0.0, yes = 0.0, total = 0.0
            for (row, weight) in zip(rows, weights) where weight > 0 {
                let w = Double(weight)
                let predicted = row[0] >= 0.5, label = row[1] >= 0.5
                if predicted && label { tp += w }
                if predicted && !label { fp += w }
                if !predicted && label { fn += w }
                if predicted { yes += w }
                total += w
            }
            let precision = tp + fp > 0 ? tp / (tp + fp) : 0
            let recall = tp + fn > 0 ? tp / (tp + fn) : 0
            switch key {
            case "precision": return precision
            case "recall": return recall
            case "yesRatio": return total > 0 ? yes / total : 0
            default: return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            }
        }
    }
}
