/// "Did you mean …?" suggestions by edit distance.
enum Suggestions {
    /// The closest candidate, when it is close enough to be a plausible typo.
    ///
    /// Compares lower-cased UTF-8 bytes with reused buffers and stops a comparison as soon as it
    /// cannot beat the best so far, so scanning thousands of expanded names stays cheap.
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let target = Array(word.lowercased().utf8)
        guard !target.isEmpty, target.count <= 64 else { return nil }
        var best: (name: String, distance: Int)?
        var other: [UInt8] = []
        var rows = DistanceRows(capacity: 70)
        for candidate in candidates {
            let length = candidate.utf8.count
            guard abs(length - target.count) <= 3, length <= 67 else { continue }
            let allowed = max(1, min(3, max(target.count, length) / 3))
            let limit = min(allowed, (best?.distance ?? .max) - 1)
            guard abs(length - target.count) <= limit else { continue }
            other.removeAll(keepingCapacity: true)
            for byte in candidate.utf8 { other.append(byte >= 65 && byte <= 90 ? byte + 32 : byte) }
            if let distance = rows.distance(target, other, limit: limit) { best = (candidate, distance) }
        }
        return best?.name
    }

    /// "; did you mean 'x'?" or "".
    static func didYouMean(_ word: String, in candidates: some Sequence<String>) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var rows = DistanceRows(capacity: b.count + 1)
        return rows.distance(a.map { String($0) }.map { Array($0.utf8) }.flatMap { $0 },
                             b.map { String($0) }.map { Array($0.utf8) }.flatMap { $0 }, limit: .max) ?? .max
    }

    /// "a, b or c" (quoted) for "expected one of …" messages.
    static func oneOf(_ values: [String]) -> String {
        let quoted = values.map { "'\($0)'" }
        guard quoted.count > 1 else { return quoted.first ?? "" }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted[quoted.count - 1]
    }
}

/// Three reusable dynamic-programming rows for the edit distance.
private struct DistanceRows {
    var previous2: [Int]
    var previous: [Int]
    var current: [Int]

    init(capacity: Int) {
        previous2 = [Int](repeating: 0, count: capacity)
        previous = previous2
        current = previous2
    }

    /// The distance between `a` and `b`, or nil when it exceeds `limit`.
    mutating func distance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int? {
        if a.isEmpty { return b.count <= limit ? b.count : nil }
        if b.isEmpty { return a.count <= limit ? a.count : nil }
        if previous.count < b.count + 1 {
            self = DistanceRows(capacity: b.count + 1)
        }
        for j in 0...b.count { previous[j] = j }
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
                rowMinimum = min(rowMinimum, value)
            }
            // Every later row is at least this row's minimum: give up early.
            if rowMinimum > limit { return nil }
            swap(&previous2, &previous)
            swap(&previous, &current)
        }
        let result = previous[b.count]
        return result <= limit ? result : nil
    }
}
