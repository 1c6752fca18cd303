import Foundation

/// An error in a canonical description (`KVQuantizationConfig.canonicalDescription` form).
struct QuantizationSpecError: Error, CustomStringConvertible, Sendable, Equatable {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads `canonicalDescription`s back into configurations: the library's round trip, for its
/// tests and fixtures. Not a user-facing grammar.
///
/// Users name settings in the spec language's vocabulary (`SpecLanguage.CompressionArgument` for
/// the `--kv`/`--weights` flags, converted by Execution's `CompressionConversion`); this parser
/// knows only the library's own field names (the ones `canonicalDescription` prints, which follow
/// the spec's names where both have the parameter). Parameters left out keep the library's
/// `init(method:bits:)` defaults. `fp16` means no quantization (nil).
enum QuantizationSpecParser {
    static func kvParameters(_ method: KVQuantizationMethod) -> [String] {
        switch method {
        case .uniform: ["scope", "regime"]
        case .outlier: ["outlier_fraction", "regime"]
        case .group: ["variant", "group_size", "residual", "regime"]
        case .gear: ["group_size", "residual", "outlier_fraction", "rank", "prefill_rank", "iterations", "seed", "regime"]
        case .gearL: ["group_size", "residual", "rank", "prefill_rank", "iterations", "seed", "regime"]
        }
    }

    static func weightParameters(_ method: WeightQuantizationMethod) -> [String] {
        switch method {
        case .rtn: ["scope", "group_size", "targets"]
        case .outlier: ["outlier_fraction", "scope", "group_size", "targets"]
        case .awq: ["scope", "group_size", "grid", "clip", "targets"]
        case .gptq: ["scope", "group_size", "damp", "block", "targets"]
        }
    }

    /// A KV-cache configuration, or nil for `fp16`/`none`.
    static func parseKV(_ text: String) throws(QuantizationSpecError) -> KVQuantizationConfig? {
        let parsed = try split(text, what: "KV cache")
        if parsed.method == "fp16" {
            try noParameters(parsed, text: text)
            return nil
        }
        guard let method = KVQuantizationMethod(rawValue: parsed.method) else {
            let names = KVQuantizationMethod.allCases.map(\.rawValue) + ["fp16"]
            throw QuantizationSpecError(
                "unknown KV cache method '\(parsed.method)' in '\(text)'\(suggestion(parsed.method, names)); expected one of \(names.joined(separator: ", "))")
        }
        var config = KVQuantizationConfig(method: method, bits: try bits(parsed, text: text))
        let allowed = kvParameters(method)
        for (name, value) in parsed.parameters {
            try checkAllowed(name, allowed, what: "KV cache method '\(method.rawValue)'", text: text)
            switch name {
            case "scope": config.scope = try choice(value, name: name, text: text)
            case "variant": config.variant = try choice(value, name: name, text: text)
            case "regime": config.regime = try choice(value, name: name, text: text)
            case "outlier_fraction": config.fraction = try fraction(value, name: name, text: text)
            case "group_size": config.groupSize = try integer(value, name: name, text: text, minimum: 1)
            case "residual": config.residual = try integer(value, name: name, text: text, minimum: method == .group ? 0 : 1)
            case "rank": config.rank = try integer(value, name: name, text: text, minimum: 0)
            case "prefill_rank": config.prefillRank = try integer(value, name: name, text: text, minimum: 0)
            case "iterations": config.iterations = try integer(value, name: name, text: text, minimum: 1)
            case "seed":
                guard let seed = UInt64(value) else {
                    throw QuantizationSpecError("seed must be a non-negative integer, got '\(value)' in '\(text)'")
                }
                config.seed = seed
            default: break
            }
        }
        if method == .group, config.variant == .flexgen,
           let extra = parsed.parameters.first(where: { ["group_size", "residual"].contains($0.0) }) {
            throw QuantizationSpecError(
                "\(extra.0) does not apply to variant=flexgen (one group per head_dim index) in '\(text)'")
        }
        if [.group, .gear, .gearL].contains(method), config.residual % config.groupSize != 0 {
            throw QuantizationSpecError(
                "residual (\(config.residual)) must be a multiple of group_size (\(config.groupSize)) in '\(text)'; KIVI quantizes the window in whole groups")
        }
        return config
    }

    /// A weight configuration, or nil for `fp16`/`none`.
    static func parseWeights(_ text: String) throws(QuantizationSpecError) -> WeightQuantizationConfig? {
        let parsed = try split(text, what: "weights")
        if parsed.method == "fp16" {
            try noParameters(parsed, text: text)
            return nil
        }
        guard let method = WeightQuantizationMethod(rawValue: parsed.method) else {
            let names = WeightQuantizationMethod.allCases.map(\.rawValue) + ["fp16"]
            let hint = suggestion(parsed.method, names)
            throw QuantizationSpecError(
                "unknown weight method '\(parsed.method)' in '\(text)'\(hint); expected one of \(names.joined(separator: ", "))")
        }
        var config = WeightQuantizationConfig(method: method, bits: try bits(parsed, text: text))
        let allowed = weightParameters(method)
        var scopeGiven = false
        var groupGiven = false
        for (name, value) in parsed.parameters {
            try checkAllowed(name, allowed, what: "weight method '\(method.rawValue)'", text: text)
            switch name {
            case "scope":
                config.scope = try choice(value, name: name, text: text)
                scopeGiven = true
            case "group_size":
                config.groupSize = try integer(value, name: name, text: text, minimum: 1)
                groupGiven = true
            case "outlier_fraction": config.fraction = try fraction(value, name: name, text: text)
            case "damp": config.damp = try fraction(value, name: name, text: text)
            case "block": config.block = try integer(value, name: name, text: text, minimum: 1)
            case "grid": config.grid = try integer(value, name: name, text: text, minimum: 1)
            case "clip":
                guard let flag = Bool(value) else {
                    throw QuantizationSpecError("clip must be true or false, got '\(value)' in '\(text)'")
                }
                config.clip = flag
            case "targets":
                var targets = Set<WeightTarget>()
                for part in value.split(separator: "+", omittingEmptySubsequences: false) {
                    targets.insert(try choice(String(part), name: "targets", text: text))
                }
                config.targets = targets
            default: break
            }
        }
        if groupGiven && !scopeGiven { config.scope = .perGroup }
        if method == .gptq, config.scope == .perTensor {
            throw QuantizationSpecError("GPTQ quantizes per channel or per group, not per tensor, in '\(text)'")
        }
        if groupGiven && config.scope != .perGroup {
            throw QuantizationSpecError(
                "group_size applies only to scope=per_group, but scope is \(config.scope.rawValue) in '\(text)'")
        }
        return config
    }

    // MARK: Pieces

    struct Parsed {
        var method: String
        var bits: String?
        var parameters: [(String, String)]
    }

    static func split(_ text: String, what: String) throws(QuantizationSpecError) -> Parsed {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var pieces = trimmed.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let head = pieces.removeFirst()
        let headParts = head.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard !head.isEmpty, headParts.count <= 2, !headParts[0].isEmpty else {
            throw QuantizationSpecError(
                "expected \(what) as METHOD:BITS[,name=value…] (e.g. group:2,group_size=32), got '\(text)'")
        }
        var parameters: [(String, String)] = []
        var seen = Set<String>()
        for piece in pieces {
            let kv = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                throw QuantizationSpecError("expected name=value after the bits, got '\(piece)' in '\(text)'")
            }
            guard seen.insert(kv[0]).inserted else {
                throw QuantizationSpecError("parameter '\(kv[0])' is given twice in '\(text)'")
            }
            parameters.append((kv[0], kv[1]))
        }
        return Parsed(method: headParts[0].lowercased(), bits: headParts.count == 2 ? headParts[1] : nil, parameters: parameters)
    }

    static func noParameters(_ parsed: Parsed, text: String) throws(QuantizationSpecError) {
        guard parsed.bits == nil, parsed.parameters.isEmpty else {
            throw QuantizationSpecError("'\(parsed.method)' takes no bits or parameters, got '\(text)'")
        }
    }

    static func bits(_ parsed: Parsed, text: String) throws(QuantizationSpecError) -> QuantizationBits {
        let allowed = QuantizationBits.allCases.map(\.description).joined(separator: ", ")
        guard let raw = parsed.bits else {
            throw QuantizationSpecError("missing bits in '\(text)': write \(parsed.method):BITS with BITS one of \(allowed)")
        }
        guard let value = Int(raw), let bits = QuantizationBits(rawValue: value) else {
            throw QuantizationSpecError("bits must be one of \(allowed), got '\(raw)' in '\(text)'")
        }
        return bits
    }

    static func checkAllowed(_ name: String, _ allowed: [String], what: String, text: String) throws(QuantizationSpecError) {
        guard allowed.contains(name) else {
            throw QuantizationSpecError(
                "unknown parameter '\(name)' for \(what) in '\(text)'\(suggestion(name, allowed)); expected one of \(allowed.joined(separator: ", "))")
        }
    }

    static func integer(_ value: String, name: String, text: String, minimum: Int) throws(QuantizationSpecError) -> Int {
        guard let n = Int(value), n >= minimum else {
            throw QuantizationSpecError("\(name) must be an integer ≥ \(minimum), got '\(value)' in '\(text)'")
        }
        return n
    }

    static func fraction(_ value: String, name: String, text: String) throws(QuantizationSpecError) -> Double {
        guard let x = Double(value), x >= 0, x <= 1 else {
            throw QuantizationSpecError("\(name) must be a number in [0, 1], got '\(value)' in '\(text)'")
        }
        return x
    }

    static func choice<T: RawRepresentable & CaseIterable>(
        _ value: String, name: String, text: String
    ) throws(QuantizationSpecError) -> T where T.RawValue == String {
        if let v = T(rawValue: value) { return v }
        let names = T.allCases.map(\.rawValue)
        throw QuantizationSpecError(
            "\(name) must be one of \(names.joined(separator: ", ")), got '\(value)' in '\(text)'\(suggestion(value, names))")
    }

    /// "; did you mean 'x'?" for the closest name within edit distance 2, else "".
    static func suggestion(_ word: String, _ candidates: [String]) -> String {
        let best = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= 2, best.1 < word.count else { return "" }
        return "; did you mean '\(best.0)'?"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
