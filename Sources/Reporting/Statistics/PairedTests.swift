import Datasets
import Foundation

/// Paired significance tests for two runs scored on the same samples.
public enum PairedTests {
    public static func mean(_ values: [Double]) -> Double { Statistics.mean(values) }

    public static func standardErrorOfMean(_ values: [Double]) -> Double { Statistics.standardErrorOfMean(values) }

    /// Exact two-sided McNemar test: under "no change", each discordant pair (right → wrong or
    /// wrong → right) is a fair coin, so the p-value is the two-sided binomial tail
    /// `min(1, 2 · P(X ≤ min(b, c)))` with X ~ Binomial(b + c, ½).
    ///
    /// - Parameters:
    ///   - regressions: pairs right before and wrong after (b).
    ///   - improvements: pairs wrong before and right after (c).
    /// - Returns: the p-value; 1 when there are no discordant pairs.
    public static func exactMcNemar(regressions b: Int, improvements c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        let k = min(b, c)
        let tail: Double
        if n <= 1000 {
            // C(n, i) by the recurrence C(n, i+1) = C(n, i)·(n−i)/(i+1) and one division by 2^n:
            // only correctly rounded IEEE operations, so the same bits on every platform, and exact
            // while the coefficients stay below 2^53 (n ≤ 56).
            var coefficient = 1.0, sum = 1.0
            for i in stride(from: 0, to: k, by: 1) {
                coefficient = coefficient * Double(n - i) / Double(i + 1)
                sum += coefficient
            }
            tail = sum / pow(2, Double(n))
        } else {
            // Beyond 2^1000 the coefficients overflow doubles: sum in log space instead.
            let logHalfPower = Double(n) * log(0.5)
            var terms: [Double] = []
            terms.reserveCapacity(k + 1)
            for i in 0...k { terms.append(logBinomial(n, i) + logHalfPower) }
            let largest = terms.max() ?? 0
            tail = exp(largest) * terms.reduce(0) { $0 + exp($1 - largest) }
        }
        return min(1, 2 * tail)
    }

    /// ln C(n, k) through lgamma (exact enough for p-values; 1e-12 relative at n = 10⁵).
    static func logBinomial(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
    }

    /// A percentile confidence interval for `statistic(new) − statistic(old)` from a paired bootstrap:
    /// samples are drawn with replacement, the same draw for both runs, so per-sample correlation
    /// between the runs is kept.
    ///
    /// - Parameters:
    ///   - old, new: one row per sample (same order in both), each row the statistic's components.
    ///   - statistic: the metric over rows drawn `weights[i]` times each.
    ///   - confidence: e.g. 0.95.
    ///   - resamples, seed: fixed, so a rerun gives the same interval.
    public static func pairedBootstrap(old: [[Double]], new: [[Double]], statistic: PairedStatistic,
                                       confidence: Double = 0.95, resamples: Int = 2000,
                                       seed: UInt64 = 0x6C63_6264) -> BootstrapInterval {
        precondition(old.count == new.count, "paired rows must match")
        let n = old.count
        let all = [Int](repeating: 1, count: n)
        let observed = statistic.evaluate(new, weights: all) - statistic.evaluate(old, weights: all)
        guard n > 1, resamples > 1 else {
            return BootstrapInterval(estimate: observed, lower: observed, upper: observed, pValue: 1, resamples: 0)
        }
        let differences = resampledDifferences(old: old, new: new, statistic: statistic, resamples: resamples, seed: seed)
        return interval(estimate: observed, confidence: confidence, differences: differences)
    }

    /// The percentile interval and two-sided p-value of resampled differences.
    static func interval(estimate: Double, confidence: Double, differences: [Double]) -> BootstrapInterval {
        guard differences.count > 1 else {
            return BootstrapInterval(estimate: estimate, lower: estimate, upper: estimate, pValue: 1, resamples: 0)
        }
        let differences = differences.sorted()
        let alpha = (1 - confidence) / 2
        let lower = quantile(differences, alpha)
        let upper = quantile(differences, 1 - alpha)
        // Two-sided bootstrap p-value: how often the resampled difference falls on the other side of 0.
        let atOrBelow = differences.reduce(0) { $0 + ($1 <= 0 ? 1 : 0) }
        let atOrAbove = differences.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        let pValue = min(1, 2 * Double(min(atOrBelow, atOrAbove)) / Double(differences.count))
        return BootstrapInterval(estimate: estimate, lower: lower, upper: upper, pValue: pValue, resamples: differences.count)
    }

    /// new − old for each resample: the fast path, accumulating each draw's contribution directly.
    ///
    /// Means sum the drawn values; POPE's statistics count the drawn (predicted, label) pairs.
    /// Same draws as `resampledDifferencesByWeights`, its plain twin that the tests compare against.
    static func resampledDifferences(old: [[Double]], new: [[Double]], statistic: PairedStatistic,
                                     resamples: Int, seed: UInt64) -> [Double] {
        switch statistic {
        case .binary, .mean:
            var scale = 1.0
            if case .mean(_, let s) = statistic { scale = s }
            return meanDifferences(old.map { $0[0] }, new.map { $0[0] }, scale: scale, resamples: resamples, seed: seed)
        case .yesNo(let key):
            // 2·predicted + label: 3 true positive, 2 false positive, 1 false negative, 0 true negative.
            return yesNoDifferences(yesNoCodes(old), yesNoCodes(new), key: key, resamples: resamples, seed: seed)
        }
    }

    static func meanDifferences(_ old: [Double], _ new: [Double], scale: Double, resamples: Int, seed: UInt64) -> [Double] {
        let n = old.count
        var generator = SplitMix64(seed: seed)
        var out = [Double]()
        out.reserveCapacity(resamples)
        old.withUnsafeBufferPointer { a in
            new.withUnsafeBufferPointer { b in
                for _ in 0..<resamples {
                    var sumOld = 0.0, sumNew = 0.0
                    for _ in 0..<n {
                        let index = Int(generator.next() % UInt64(n))
                        sumOld += a[index]
                        sumNew += b[index]
                    }
                    out.append((sumNew / Double(n) - sumOld / Double(n)) * scale)
                }
            }
        }
        return out
    }

    static func yesNoDifferences(_ old: [UInt8], _ new: [UInt8], key: String, resamples: Int, seed: UInt64) -> [Double] {
        yesNoCounts(old, new, resamples: resamples, seed: seed).map { yesNoStatistic(key, $0.new) - yesNoStatistic(key, $0.old) }
    }

    /// Confusion counts (true negatives, false negatives, false positives, true positives) of both
    /// runs for each resample: one pass serves precision, recall, F1 and the yes ratio.
    public struct ResampledCounts: Sendable {
        public var old: (Int, Int, Int, Int)
        public var new: (Int, Int, Int, Int)
    }

    static func yesNoCounts(_ old: [UInt8], _ new: [UInt8], resamples: Int, seed: UInt64) -> [ResampledCounts] {
        let n = old.count
        var generator = SplitMix64(seed: seed)
        var out = [ResampledCounts]()
        out.reserveCapacity(resamples)
        old.withUnsafeBufferPointer { a in
            new.withUnsafeBufferPointer { b in
                for _ in 0..<resamples {
                    var countsOld: (Int, Int, Int, Int) = (0, 0, 0, 0), countsNew: (Int, Int, Int, Int) = (0, 0, 0, 0)
                    for _ in 0..<n {
                        let index = Int(generator.next() % UInt64(n))
                        switch a[index] { case 3: countsOld.3 += 1; case 2: countsOld.2 += 1; case 1: countsOld.1 += 1; default: countsOld.0 += 1 }
                        switch b[index] { case 3: countsNew.3 += 1; case 2: countsNew.2 += 1; case 1: countsNew.1 += 1; default: countsNew.0 += 1 }
                    }
                    out.append(ResampledCounts(old: countsOld, new: countsNew))
                }
            }
        }
        return out
    }

    /// 2·predicted + label for each (predictedYes, labelYes) row.
    static func yesNoCodes(_ rows: [[Double]]) -> [UInt8] {
        rows.map { UInt8(($0[0] >= 0.5 ? 2 : 0) + ($0[1] >= 0.5 ? 1 : 0)) }
    }

    /// POPE's statistic from (true negatives, false negatives, false positives, true positives).
    static func yesNoStatistic(_ key: String, _ counts: (Int, Int, Int, Int)) -> Double {
        let tp = Double(counts.3), fp = Double(counts.2), fn = Double(counts.1)
        let total = Double(counts.0 + counts.1 + counts.2 + counts.3)
        let precision = tp + fp > 0 ? tp / (tp + fp) : 0
        let recall = tp + fn > 0 ? tp / (tp + fn) : 0
        switch key {
        case "precision": return precision
        case "recall": return recall
        case "yesRatio": return total > 0 ? (tp + fp) / total : 0
        default: return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        }
    }

    /// The plain twin of `resampledDifferences`: the same draws as per-sample weights, and the
    /// statistic recomputed from every row each time.
    static func resampledDifferencesByWeights(old: [[Double]], new: [[Double]], statistic: PairedStatistic,
                                              resamples: Int, seed: UInt64) -> [Double] {
        let n = old.count
        var generator = SplitMix64(seed: seed)
        var weights = [Int](repeating: 0, count: n)
        var differences: [Double] = []
        for _ in 0..<resamples {
            for index in weights.indices { weights[index] = 0 }
            for _ in 0..<n { weights[Int(generator.next() % UInt64(n))] += 1 }
            differences.append(statistic.evaluate(new, weights: weights) - statistic.evaluate(old, weights: weights))
        }
        return differences
    }

    /// Linear-interpolated quantile of sorted values (type 7, as numpy's default).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        let fraction = position - Double(low)
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }
}

/// A paired bootstrap's result for new − old.
public struct BootstrapInterval: Sendable, Hashable {
    /// The observed difference on all samples.
    public var estimate: Double
    public var lower: Double
    public var upper: Double
    /// Two-sided bootstrap p-value (share of resamples on the far side of 0, doubled).
    public var pValue: Double
    public var resamples: Int

    /// True when the interval excludes 0.
    public var excludesZero: Bool { lower > 0 || upper < 0 }
}
