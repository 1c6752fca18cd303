import Foundation

/// Settings every metric shares: the bootstrap's size and seed.
public struct BootstrapSettings: Sendable, Hashable, Codable {
    public var resamples: Int
    public var seed: UInt64
    public init(resamples: Int = 1000, seed: UInt64 = 0x6C63_6221) {
        self.resamples = resamples
        self.seed = seed
    }
    var method: ErrorMethod { .bootstrap(resamples: resamples, seed: seed) }
}

/// POPE's binary metrics with "yes" as the positive class (POPE `evaluate.py`).
public enum POPEMetrics {
    /// One answered question: predicted yes? labelled yes?
    public struct Item: Sendable, Hashable {
        public var predictedYes: Bool
        public var labelYes: Bool
        public init(predictedYes: Bool, labelYes: Bool) {
            self.predictedYes = predictedYes
            self.labelYes = labelYes
        }
    }

    /// Accuracy, precision, recall, F1 and yes-ratio from counts weighted by `weights` (bootstrap draws).
    static func values(_ items: [Item], weights: [Int]? = nil) -> (accuracy: Double, precision: Double, recall: Double, f1: Double, yesRatio: Double) {
        var tp = 0.0, fp = 0.0, tn = 0.0, fn = 0.0
        for (index, item) in items.enumerated() {
            let weight = Double(weights?[index] ?? 1)
            switch (item.predictedYes, item.labelYes) {
            case (true, true): tp += weight
            case (true, false): fp += weight
            case (false, false): tn += weight
            case (false, true): fn += weight
            }
        }
        let total = tp + fp + tn + fn
        guard total > 0 else { return (0, 0, 0, 0, 0) }
        // The official script divides by zero here; 0 is what a reader expects when nothing is predicted positive.
        let precision = tp + fp > 0 ? tp / (tp + fp) : 0
        let recall = tp + fn > 0 ? tp / (tp + fn) : 0
        let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        return ((tp + tn) / total, precision, recall, f1, (tp + fp) / total)
    }

    /// The five metrics, keys suffixed with `suffix` (e.g. `[adversarial]`); accuracy and yes-ratio
    /// with analytic errors, precision, recall and F1 bootstrapped over questions.
    public static func metrics(_ items: [Item], suffix: String = "", bootstrap: BootstrapSettings) -> [MetricValue] {
        let point = values(items)
        let errors = Statistics.bootstrapStandardErrors(unitCount: items.count, resamples: bootstrap.resamples,
                                                        seed: bootstrap.seed, count: 3) {
            let replicate = values(items, weights: $0)
            return [replicate.precision, replicate.recall, replicate.f1]
        }
        func bootstrapped(_ key: String, _ value: Double, _ error: Double) -> MetricValue {
            MetricValue(key: key + suffix, value: value, standardError: error, errorMethod: bootstrap.method, count: items.count)
        }
        var accuracy = Statistics.meanMetric("accuracy" + suffix, items.map { $0.predictedYes == $0.labelYes ? 1 : 0 })
        accuracy.value = point.accuracy
        var yesRatio = Statistics.meanMetric("yesRatio" + suffix, items.map { $0.predictedYes ? 1 : 0 })
        yesRatio.higherIsBetter = false
        return [accuracy,
                bootstrapped("precision", point.precision, errors[0]),
                bootstrapped("recall", point.recall, errors[1]),
                bootstrapped("f1", point.f1, errors[2]),
                yesRatio]
    }
}

/// MME scores (`calculation.py`): per subtask accuracy×100 + accuracy+×100, where accuracy+
/// counts images with both questions right; perception sums ten subtasks, cognition four.
public enum MMEScore {
    public struct Item: Sendable, Hashable {
        public var subtask: String
        public var imageID: String
        public var correct: Bool
        public init(subtask: String, imageID: String, correct: Bool) {
            self.subtask = subtask
            self.imageID = imageID
            self.correct = correct
        }
    }

    /// Images of one subtask, each as (questions, correct answers).
    struct SubtaskImages {
        var images: [(questions: Int, correct: Int)]
        func score(weights: [Int]? = nil) -> Double {
            var questions = 0.0, correct = 0.0, imagesAllRight = 0.0, imageCount = 0.0
            for (index, image) in images.enumerated() {
                let weight = Double(weights?[index] ?? 1)
                questions += weight * Double(image.questions)
                correct += weight * Double(image.correct)
                imageCount += weight
                if image.correct == image.questions { imagesAllRight += weight }
            }
            guard questions > 0, imageCount > 0 else { return 0 }
            return correct / questions * 100 + imagesAllRight / imageCount * 100
        }
    }

    static func group(_ items: [Item]) -> [String: SubtaskImages] {
        var bySubtask: [String: [String: (questions: Int, correct: Int)]] = [:]
        var order: [String: [String]] = [:]
        for item in items {
            if bySubtask[item.subtask]?[item.imageID] == nil { order[item.subtask, default: []].append(item.imageID) }
            var entry = bySubtask[item.subtask, default: [:]][item.imageID] ?? (0, 0)
            entry.questions += 1
            entry.correct += item.correct ? 1 : 0
            bySubtask[item.subtask, default: [:]][item.imageID] = entry
        }
        var result: [String: SubtaskImages] = [:]
        for (subtask, imageIDs) in order {
            result[subtask] = SubtaskImages(images: imageIDs.compactMap { bySubtask[subtask]?[$0] })
        }
        return result
    }

    /// `perception`, `cognition`, then one metric per subtask present (`score[existence]`, …).
    /// Errors: bootstrap over images within each subtask (stratified), so a total's error combines its subtasks'.
    public static func metrics(_ items: [Item], bootstrap: BootstrapSettings) -> [MetricValue] {
        let subtasks = group(items)
        var result: [MetricValue] = []
        // One bootstrap per subtask (its own seed offset), shared by the subtask's metric and the totals.
        let names = MMESubtasks.all + subtasks.keys.sorted().filter { !MMESubtasks.all.contains($0) }
        var errors: [String: Double] = [:]
        for (offset, name) in names.enumerated() {
            guard let images = subtasks[name] else { continue }
            errors[name] = Statistics.bootstrapStandardError(unitCount: images.images.count, resamples: bootstrap.resamples,
                                                             seed: bootstrap.seed &+ UInt64(offset)) { images.score(weights: $0) }
        }
        func total(_ names: [String], key: String) -> MetricValue? {
            let present = names.filter { subtasks[$0] != nil }
            guard !present.isEmpty else { return nil }
            let value = present.reduce(0) { $0 + (subtasks[$1]?.score() ?? 0) }
            var variance = 0.0
            for name in present {
                let error = errors[name] ?? 0
                variance += error * error
            }
            let count = present.reduce(0) { $0 + (subtasks[$1]?.images.count ?? 0) }
            return MetricValue(key: key, value: value, standardError: variance.squareRoot(), errorMethod: bootstrap.method, count: count)
        }
        if let perception = total(MMESubtasks.perception, key: "perception") { result.append(perception) }
        if let cognition = total(MMESubtasks.cognition, key: "cognition") { result.append(cognition) }
        for name in names {
            guard let images = subtasks[name] else { continue }
            result.append(MetricValue(key: "score[\(name)]", value: images.score(), standardError: errors[name] ?? 0,
                                      errorMethod: bootstrap.method, count: images.images.count))
        }
        return result
    }
}

/// Accuracy over groups where a group counts only if every question in it is right
/// (MMVP pairs, HallusionBench figures and question pairs).
public enum GroupAccuracy {
    /// Fraction of groups all right, with its analytic error; `scale` 100 gives percent.
    public static func metric(_ key: String, groups: [String], correct: [Bool], scale: Double = 1) -> MetricValue {
        var byGroup: [String: Bool] = [:]
        var order: [String] = []
        for (group, right) in zip(groups, correct) {
            if byGroup[group] == nil { order.append(group) }
            byGroup[group] = (byGroup[group] ?? true) && right
        }
        return Statistics.meanMetric(key, order.map { byGroup[$0] == true ? 1 : 0 }, scale: scale)
    }
}

/// HallusionBench's three accuracies (`utils.py`), in percent: aAcc over questions; fAcc over
/// figures (`category_subcategory_set_figure`, leaving out VS questions without a figure) with
/// every question right; qAcc over questions asked of several figures
/// (`category_subcategory_set_question`) answered right on every figure.
public enum HallusionBenchMetrics {
    public static func metrics(groups: [HallusionGroup], correct: [Bool]) -> [MetricValue] {
        let aAcc = Statistics.meanMetric("aAcc", correct.map { $0 ? 1 : 0 }, scale: 100)
        var figureKeys: [String] = [], figureCorrect: [Bool] = []
        for (group, right) in zip(groups, correct) where !(group.category == "VS" && group.figureID == "0") {
            figureKeys.append([group.category, group.subcategory, group.setID, group.figureID].joined(separator: "_"))
            figureCorrect.append(right)
        }
        let fAcc = GroupAccuracy.metric("fAcc", groups: figureKeys, correct: figureCorrect, scale: 100)
        let questionKeys = groups.map { [$0.category, $0.subcategory, $0.setID, $0.questionID].joined(separator: "_") }
        let qAcc = GroupAccuracy.metric("qAcc", groups: questionKeys, correct: correct, scale: 100)
        return [aAcc, fAcc, qAcc]
    }
}
