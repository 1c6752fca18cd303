import Foundation

/// One image's tokenised candidate and references, as pycocoevalcap's scorers receive them.
public struct CaptionPair: Sendable, Hashable {
    public var candidate: String
    public var references: [String]
    public init(candidate: String, references: [String]) {
        self.candidate = candidate
        self.references = references
    }

    /// Tokenises raw captions with ``PTBTokenizer/cocoTokenize(_:)``.
    public static func tokenized(candidate: String, references: [String]) -> CaptionPair {
        CaptionPair(candidate: PTBTokenizer.cocoTokenize(candidate), references: references.map(PTBTokenizer.cocoTokenize))
    }
}

/// n-gram counts of a whitespace-split sentence (pycocoevalcap's `precook`), n = 1…4.
struct NGramCounts {
    /// counts[k][gram] for k-grams of length k + 1; grams joined by a space.
    var counts: [[String: Int]]
    var length: Int

    init(_ sentence: String, maxN: Int = 4) {
        let words = sentence.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        length = words.count
        counts = Array(repeating: [:], count: maxN)
        for n in 1...maxN where words.count >= n {
            for start in 0...(words.count - n) {
                counts[n - 1][words[start..<(start + n)].joined(separator: " "), default: 0] += 1
            }
        }
    }
}

/// BLEU-1…4 as pycocoevalcap's `Bleu(4)` computes them: clipped n-gram matches against the
/// per-n-gram maximum over references, the "closest" reference length (ties to the shorter), its
/// `tiny`/`small` smoothing constants, and a corpus score from summed counts.
public enum BLEU {
    /// Per-image statistics.
    public struct Statistics: Sendable, Hashable {
        public var testLength: Int
        public var referenceLength: Int
        public var guess: [Int]
        public var correct: [Int]
    }

    static let tiny = 1e-15
    static let small = 1e-9

    public static func statistics(_ pair: CaptionPair) -> Statistics {
        let test = NGramCounts(pair.candidate)
        var maxCounts: [[String: Int]] = Array(repeating: [:], count: 4)
        var lengths: [Int] = []
        for reference in pair.references {
            let counts = NGramCounts(reference)
            lengths.append(counts.length)
            for n in 0..<4 {
                for (gram, count) in counts.counts[n] { maxCounts[n][gram] = max(maxCounts[n][gram] ?? 0, count) }
            }
        }
        // min over (|l − testlen|, l): the closest length, the shorter one on ties.
        let closest = lengths.min { (abs($0 - test.length), $0) < (abs($1 - test.length), $1) } ?? 0
        var correct = [0, 0, 0, 0]
        for n in 0..<4 {
            for (gram, count) in test.counts[n] { correct[n] += min(maxCounts[n][gram] ?? 0, count) }
        }
        let guess = (1...4).map { max(0, test.length - $0 + 1) }
        return Statistics(testLength: test.length, referenceLength: closest, guess: guess, correct: correct)
    }

    /// BLEU-1…4 from (possibly summed) statistics.
    static func scores(testLength: Double, referenceLength: Double, guess: [Double], correct: [Double]) -> [Double] {
        var product = 1.0
        var result: [Double] = []
        for n in 0..<4 {
            product *= (correct[n] + tiny) / (guess[n] + small)
            result.append(pow(product, 1.0 / Double(n + 1)))
        }
        let ratio = (testLength + tiny) / (referenceLength + small)
        if ratio < 1 {
            let penalty = exp(1 - 1 / ratio)
            result = result.map { $0 * penalty }
        }
        return result
    }

    /// Per-image BLEU-1…4 (pycocoevalcap's second return value).
    public static func sentenceScores(_ statistics: Statistics) -> [Double] {
        scores(testLength: Double(statistics.testLength), referenceLength: Double(statistics.referenceLength),
               guess: statistics.guess.map(Double.init), correct: statistics.correct.map(Double.init))
    }

    /// Corpus BLEU-1…4 over images, each counted `weights[i]` times (1 for the plain score; bootstrap draws otherwise).
    public static func corpusScores(_ statistics: [Statistics], weights: [Int]? = nil) -> [Double] {
        var testLength = 0.0, referenceLength = 0.0
        var guess = [0.0, 0, 0, 0], correct = [0.0, 0, 0, 0]
        for (index, item) in statistics.enumerated() {
            let weight = Double(weights?[index] ?? 1)
            if weight == 0 { continue }
            testLength += weight * Double(item.testLength)
            referenceLength += weight * Double(item.referenceLength)
            for n in 0..<4 {
                guess[n] += weight * Double(item.guess[n])
                correct[n] += weight * Double(item.correct[n])
            }
        }
        return scores(testLength: testLength, referenceLength: referenceLength, guess: guess, correct: correct)
    }
}

/// ROUGE-L as pycocoevalcap computes it: tokens split on single spaces, LCS against each
/// reference, the maximum precision and the maximum recall (taken separately), F with β = 1.2.
public enum ROUGEL {
    public static let beta = 1.2

    public static func score(_ pair: CaptionPair) -> Double {
        let candidate = pair.candidate.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var bestPrecision = 0.0, bestRecall = 0.0
        for reference in pair.references {
            let tokens = reference.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            let lcs = Double(longestCommonSubsequence(tokens, candidate))
            bestPrecision = max(bestPrecision, lcs / Double(candidate.count))
            bestRecall = max(bestRecall, lcs / Double(tokens.count))
        }
        guard bestPrecision != 0, bestRecall != 0 else { return 0 }
        return ((1 + beta * beta) * bestPrecision * bestRecall) / (bestRecall + beta * beta * bestPrecision)
    }

    static func longestCommonSubsequence(_ a: [String], _ b: [String]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var previous = [Int](repeating: 0, count: b.count + 1)
        var current = previous
        for i in 1...a.count {
            for j in 1...b.count {
                current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : max(previous[j], current[j - 1])
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// CIDEr-D as pycocoevalcap's `Cider` computes it: tf-idf n-gram vectors (n = 1…4) with document
/// frequencies over the evaluated images' references, clipped similarity `min(hyp, ref)·ref`,
/// a Gaussian length penalty (σ = 6), mean over n, mean over references, ×10.
///
/// Faithful to the reference implementation's detail that the "length" in the penalty counts
/// bigrams (its `if n == 1` indexes n-gram length − 1).
public enum CIDErD {
    public static let sigma = 6.0

    /// Per-image scores; the corpus score is their mean.
    public static func scores(_ pairs: [CaptionPair]) -> [Double] {
        guard !pairs.isEmpty else { return [] }
        let references = pairs.map { $0.references.map { NGramCounts($0) } }
        var documentFrequency: [String: Double] = [:]
        for image in references {
            var seen = Set<String>()
            for counts in image { for n in 0..<4 { seen.formUnion(counts.counts[n].keys) } }
            for gram in seen { documentFrequency[gram, default: 0] += 1 }
        }
        let logImageCount = log(Double(pairs.count))

        struct Vector {
            var weights: [[String: Double]]
            var norms: [Double]
            var length: Int
        }
        func vector(_ counts: NGramCounts) -> Vector {
            var weights: [[String: Double]] = Array(repeating: [:], count: 4)
            var norms = [0.0, 0, 0, 0]
            var length = 0
            for n in 0..<4 {
                for (gram, termFrequency) in counts.counts[n] {
                    let df = log(max(1.0, documentFrequency[gram] ?? 0))
                    let weight = Double(termFrequency) * (logImageCount - df)
                    weights[n][gram] = weight
                    norms[n] += weight * weight
                    if n == 1 { length += termFrequency }
                }
            }
            return Vector(weights: weights, norms: norms.map { $0.squareRoot() }, length: length)
        }

        return pairs.indices.map { index in
            let hypothesis = vector(NGramCounts(pairs[index].candidate))
            var total = [0.0, 0, 0, 0]
            for referenceCounts in references[index] {
                let reference = vector(referenceCounts)
                let delta = Double(hypothesis.length - reference.length)
                for n in 0..<4 {
                    var value = 0.0
                    for (gram, weight) in hypothesis.weights[n] {
                        let referenceWeight = reference.weights[n][gram] ?? 0
                        value += min(weight, referenceWeight) * referenceWeight
                    }
                    if hypothesis.norms[n] != 0 && reference.norms[n] != 0 {
                        value /= hypothesis.norms[n] * reference.norms[n]
                    }
                    value *= pow(M_E, -(delta * delta) / (2 * sigma * sigma))
                    total[n] += value
                }
            }
            let mean = total.reduce(0, +) / 4
            return mean / Double(pairs[index].references.count) * 10
        }
    }
}
