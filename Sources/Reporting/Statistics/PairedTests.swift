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
        var generator = SplitMix64(seed: seed)
        var weights = [Int](repeating: 0, count: n)
        var differences: [Double] = []
        differences.reserveCapacity(resamples)
        for _ in 0..<resamples {
            for index in weights.indices { weights[index] = 0 }
            for _ in 0..<n { weights[Int(generator.next() % UInt64(n))] += 1 }
            differences.append(statistic.evaluate(new, weights: weights) - statistic.evaluate(old, weights: weights))
        }
        differences.sort()
        let alpha = (1 - confidence) / 2
        let lower = quantile(differences, alpha)
        let upper = quantile(differences, 1 - alpha)
        // Two-sided bootstrap p-value: how often the resampled difference falls on the other side of 0.
        let atOrBelow = differences.reduce(0) { $0 + ($1 <= 0 ? 1 : 0) }
        let atOrAbove = differences.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        let pValue = min(1, 2 * Double(min(atOrBelow, atOrAbove)) / Double(resamples))
        return BootstrapInterval(estimate: observed, lower: lower, upper: upper, pValue: pValue, resamples: resamples)
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
