/// Collects diagnostics while reading YAML nodes as typed values.
///
/// Every reader reports what it expected and what it found at the node's range, then returns nil,
/// so the checker carries on and finds every other problem in the same pass.
final class DiagnosticSink {
    private(set) var diagnostics: [Diagnostic] = []
    private var seen: Set<Diagnostic> = []

    /// Adds a diagnostic once (expanded configurations can hit the same problem many times).
    func add(_ diagnostic: Diagnostic) {
        if seen.insert(diagnostic).inserted { diagnostics.append(diagnostic) }
    }

    func error(_ message: String, at range: SourceRange, notes: [Diagnostic.Note] = []) {
        add(.error(message, at: range, notes: notes))
    }

    func warning(_ message: String, at range: SourceRange, notes: [Diagnostic.Note] = []) {
        add(.warning(message, at: range, notes: notes))
    }

    var hasErrors: Bool { diagnostics.containsErrors }

    private var largeSuggestionSearches = 0

    /// Allows a "did you mean" search over a very large candidate set a bounded number of times.
    func takeLargeSuggestionSearch() -> Bool {
        largeSuggestionSearches += 1
        return largeSuggestionSearches <= 5
    }

    // MARK: Shapes

    /// The pairs of a mapping node; `what` names the thing ("model 'x'").
    func mapping(_ node: YAMLNode, _ what: String) -> [YAMLPair]? {
        if let pairs = node.mapping { return pairs }
        error("expected a mapping for \(what), found \(node.kindDescription)", at: node.range)
        return nil
    }

    /// A scalar or a list of scalars, as a list of nodes.
    func scalarList(_ node: YAMLNode, _ what: String) -> [YAMLNode]? {
        if node.scalar != nil { return [node] }
        guard let items = node.sequence else {
            error("expected a name or a list of names for \(what), found \(node.kindDescription)", at: node.range)
            return nil
        }
        var out: [YAMLNode] = []
        for item in items {
            if item.scalar != nil { out.append(item) } else {
                error("expected a name in the list for \(what), found \(item.kindDescription)", at: item.range)
            }
        }
        return out
    }

    /// Reports keys not in `allowed`; `belongsElsewhere` maps a key to the owners it would be valid for.
    @discardableResult
    func checkKeys(_ pairs: [YAMLPair], allowed: [String], in context: String,
                   belongsElsewhere: (String) -> String? = { _ in nil }) -> Bool {
        var clean = true
        for pair in pairs where !allowed.contains(pair.name) {
            clean = false
            if pair.name == "<<" {
                error("YAML merge keys ('<<') are not supported; write the keys out or use 'include:'", at: pair.key.range)
            } else if let owners = belongsElsewhere(pair.name) {
                error("parameter '\(pair.name)' does not belong to \(context); it is a parameter of \(owners)",
                      at: pair.key.range)
            } else {
                error("unknown key '\(pair.name)' in \(context)" + Suggestions.didYouMean(pair.name, in: allowed),
                      at: pair.key.range,
                      notes: [.init("valid keys here: " + allowed.map { "'\($0)'" }.joined(separator: ", "))])
            }
        }
        return clean
    }

    /// True when `key` is missing but an unknown key looks like a typo of it (already reported as such).
    func isMisspelled(_ key: String, in pairs: [YAMLPair], allowed: [String]) -> Bool {
        pairs.contains { !allowed.contains($0.name) && Suggestions.closest(to: $0.name, in: allowed) == key }
    }

    // MARK: Scalars

    func string(_ node: YAMLNode, _ what: String) -> String? {
        guard let scalar = node.scalar, !scalar.isNull else {
            error("expected text for \(what), found \(node.kindDescription)", at: node.range)
            return nil
        }
        return scalar.text
    }

    func integer(_ node: YAMLNode, _ what: String, in range: ClosedRange<Int>) -> Int? {
        guard let scalar = node.scalar, let value = scalar.integer else {
            var message = "expected an integer for \(what), found \(node.kindDescription)"
            if let scalar = node.scalar, !scalar.isPlain, YAMLScalar(text: scalar.text, isPlain: true).integer != nil {
                message += "; remove the quotes"
            }
            error(message, at: node.range)
            return nil
        }
        guard range.contains(value) else {
            error("\(what) must be \(describe(range)); found \(value)", at: node.range)
            return nil
        }
        return value
    }

    func number(_ node: YAMLNode, _ what: String, in range: ClosedRange<Double>, excludingLower: Bool = false) -> Double? {
        guard let scalar = node.scalar, let value = scalar.number else {
            var message = "expected a number for \(what), found \(node.kindDescription)"
            if let scalar = node.scalar, !scalar.isPlain, YAMLScalar(text: scalar.text, isPlain: true).number != nil {
                message += "; remove the quotes"
            }
            error(message, at: node.range)
            return nil
        }
        guard range.contains(value), !(excludingLower && value == range.lowerBound) else {
            let lower = excludingLower ? "greater than \(formatNumber(range.lowerBound))" : "at least \(formatNumber(range.lowerBound))"
            error("\(what) must be \(lower) and at most \(formatNumber(range.upperBound)); found \(scalar.text)", at: node.range)
            return nil
        }
        return value
    }

    func bool(_ node: YAMLNode, _ what: String) -> Bool? {
        guard let value = node.scalar?.bool else {
            error("expected true or false for \(what), found \(node.kindDescription)", at: node.range)
            return nil
        }
        return value
    }

    /// One case of a `CaseIterable` string enum, with "expected one of …" and "did you mean …".
    func choice<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ what: String, _ type: E.Type) -> E?
    where E.RawValue == String {
        let names = E.allCases.map(\.rawValue)
        guard let scalar = node.scalar, !scalar.isNull else {
            error("expected \(what) (one of \(Suggestions.oneOf(names))), found \(node.kindDescription)", at: node.range)
            return nil
        }
        if let value = E(rawValue: scalar.text) { return value }
        unknownChoice(what, scalar.text, names, at: node.range)
        return nil
    }

    /// "unknown X 'y'; did you mean 'z'?" with the valid values in a note, or inline when nothing is close.
    func unknownChoice(_ what: String, _ text: String, _ names: [String], at range: SourceRange) {
        if let suggestion = Suggestions.closest(to: text, in: names) {
            error("unknown \(what) '\(text)'; did you mean '\(suggestion)'?", at: range,
                  notes: [.init("expected one of \(Suggestions.oneOf(names))")])
        } else if names.count > 8 {
            error("unknown \(what) '\(text)'", at: range, notes: [.init("expected one of \(Suggestions.oneOf(names))")])
        } else {
            error("unknown \(what) '\(text)'; expected one of \(Suggestions.oneOf(names))", at: range)
        }
    }

    private func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == .max { return "at least \(range.lowerBound)" }
        return "between \(range.lowerBound) and \(range.upperBound)"
    }
}

extension Array where Element == YAMLPair {
    /// The value for `key`, if present (duplicates were already removed by the parser).
    subscript(key key: String) -> YAMLNode? {
        first { $0.name == key }?.value
    }

    func pair(_ key: String) -> YAMLPair? {
        first { $0.name == key }
    }
}
