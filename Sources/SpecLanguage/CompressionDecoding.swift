import OrderedCollections

/// Reads one `compression:` entry, expands its lists and builds the concrete configurations.
///
/// Expansion rule: inside `kv:` and `weights:` every parameter except `targets` may be a list; each
/// list is an axis, and the entry expands into the product of its axes, in the order the lists
/// appear (the first list varies slowest). Each expanded configuration is named
/// `entry/key=value/key=value`, keys in that order (`/` needs no quoting in YAML flow lists); a key listed in both sections is written `kv.key`
/// or `weights.key`. An entry without lists keeps its own name.
struct CompressionDecoder {
    /// Most configurations one entry may expand into.
    static let maximumExpansion = 10_000

    let sink: DiagnosticSink

    /// A decoded entry: its configurations, each with where its parameter values were written.
    struct Decoded {
        var configurations: [(configuration: CompressionConfiguration, origins: [String: SourceRange])]
        /// Dataset names the entry uses for calibration, with where.
        var calibrationReferences: [(name: String, range: SourceRange)]
    }

    private enum Section: String { case kv, weights }

    /// A parameter value after validation.
    private enum Value: Hashable {
        case integer(Int), number(Double), text(String)

        var label: String {
            switch self {
            case .integer(let value): return String(value)
            case .number(let value): return formatNumber(value)
            case .text(let value): return value
            }
        }
        var integer: Int? { if case .integer(let v) = self { return v }; return nil }
        var number: Double? {
            switch self {
            case .number(let v): return v
            case .integer(let v): return Double(v)
            default: return nil
            }
        }
        var text: String? { if case .text(let v) = self { return v }; return nil }
    }

    private enum Rule {
        case integer(ClosedRange<Int>)
        case bits
        case fraction
        case number(ClosedRange<Double>)
        case choice([String], what: String)
        case text
    }

    private static let kvRules: OrderedDictionary<String, Rule> = [
        "method": .choice(KVMethodName.allCases.map(\.rawValue), what: "kv method"),
        "bits": .bits,
        "regime": .choice(KVRegime.allCases.map(\.rawValue), what: "regime"),
        "scope": .choice(UniformKVScope.allCases.map(\.rawValue), what: "scope"),
        "outlier_fraction": .fraction,
        "variant": .choice(GroupKVVariant.allCases.map(\.rawValue), what: "group variant"),
        "group_size": .integer(1...65_536),
        "residual": .integer(0...1 << 20),
        "rank": .integer(0...65_536),
        "prefill_rank": .integer(0...65_536),
        "iterations": .integer(1...1_000),
        "seed": .integer(0...Int.max),
    ]

    private static let kvMethodParameters: [KVMethodName: [String]] = [
        .uniform: ["scope"],
        .outlier: ["outlier_fraction"],
        .group: ["variant", "group_size", "residual"],
        .kivi: ["group_size", "residual"],
        .gear: ["group_size", "outlier_fraction", "rank", "prefill_rank", "iterations", "seed"],
        .gearL: ["group_size", "rank", "prefill_rank", "iterations", "seed"],
    ]

    private static let weightRules: OrderedDictionary<String, Rule> = [
        "method": .choice(WeightMethodName.allCases.map(\.rawValue), what: "weight method"),
        "bits": .bits,
        "targets": .text, // read separately: a list here is the value, not an axis
        "scope": .choice(RTNScope.allCases.map(\.rawValue), what: "scope"),
        "group_size": .integer(1...65_536),
        "outlier_fraction": .fraction,
        "grid": .integer(1...1_000),
        "damp": .number(0...1),
        "block": .integer(1...65_536),
        "calibration": .text,
        "calibration_samples": .integer(1...1_000_000),
    ]

    private static let weightMethodParameters: [WeightMethodName: [String]] = [
        .rtn: ["scope", "group_size"],
        .outlier: ["outlier_fraction"],
        .awq: ["group_size", "grid", "calibration", "calibration_samples"],
        .gptq: ["group_size", "damp", "block", "calibration", "calibration_samples"],
    ]

    private static let commonKeys: [Section: [String]] = [.kv: ["method", "bits", "regime"], .weights: ["method", "bits", "targets"]]

    /// One expansion axis (or a fixed value, when it has one entry written as a scalar).
    private struct Axis {
        var section: Section
        var key: String
        var values: [(value: Value, range: SourceRange)]
        var isList: Bool
    }

    func decode(name: String, node: YAMLNode) -> Decoded? {
        if let scalar = node.scalar {
            if scalar.text == "fp16" {
                return Decoded(configurations: [(CompressionConfiguration(name: name, definition: name), [:])],
                               calibrationReferences: [])
            }
            sink.error("expected a mapping with 'kv:' and/or 'weights:' for compression '\(name)', or 'fp16' "
                       + "for the uncompressed baseline; found \(node.kindDescription)", at: node.range)
            return nil
        }
        guard let pairs = sink.mapping(node, "compression '\(name)'") else { return nil }
        sink.checkKeys(pairs, allowed: ["kv", "weights"], in: "compression '\(name)'")
        if name == "fp16" {
            sink.error("'fp16' is the built-in uncompressed baseline; give this configuration another name", at: node.range)
            return nil
        }
        guard pairs.contains(where: { $0.name == "kv" || $0.name == "weights" }) else {
            sink.error("compression '\(name)' has neither 'kv:' nor 'weights:'; write 'fp16' for the uncompressed baseline",
                       at: node.range)
            return nil
        }

        var axes: [Axis] = []
        var targets: [WeightTarget] = [.lm]
        var calibration: [(String, SourceRange)] = []
        var failed = false
        var sectionRanges: [Section: SourceRange] = [:]
        for pair in pairs {
            guard let section = Section(rawValue: pair.name) else { continue }
            sectionRanges[section] = pair.key.range
            guard let sectionAxes = readSection(section, pair.value, definition: name, targets: &targets,
                                                calibration: &calibration) else {
                failed = true
                continue
            }
            axes += sectionAxes
        }
        if failed { return nil }

        var count = 1
        for axis in axes {
            let (product, overflow) = count.multipliedReportingOverflow(by: max(1, axis.values.count))
            count = overflow ? Int.max : product
        }
        if count > Self.maximumExpansion {
            sink.error("compression '\(name)' expands to \(count == Int.max ? "too many" : String(count)) configurations "
                       + "(at most \(Self.maximumExpansion)); split it or shorten its lists", at: node.range)
            return nil
        }

        // Keys listed in both sections get a section prefix in expanded names.
        let listed = axes.filter(\.isList)
        var ambiguous: Set<String> = []
        for axis in listed where listed.contains(where: { $0.key == axis.key && $0.section != axis.section }) {
            ambiguous.insert(axis.key)
        }

        var result: [(CompressionConfiguration, [String: SourceRange])] = []
        var indices = [Int](repeating: 0, count: axes.count)
        for _ in 0..<count {
            var values: [Section: [String: Value]] = [.kv: [:], .weights: [:]]
            var origins: [String: SourceRange] = [:]
            var expanded: OrderedDictionary<String, String> = [:]
            for (axisIndex, axis) in axes.enumerated() {
                let picked = axis.values[indices[axisIndex]]
                values[axis.section, default: [:]][axis.key] = picked.value
                origins["\(axis.section.rawValue).\(axis.key)"] = picked.range
                if axis.isList {
                    let label = ambiguous.contains(axis.key) ? "\(axis.section.rawValue).\(axis.key)" : axis.key
                    expanded[label] = picked.value.label
                }
            }
            // Advance the odometer: the last axis varies fastest.
            var position = axes.count - 1
            while position >= 0 {
                indices[position] += 1
                if indices[position] < axes[position].values.count { break }
                indices[position] = 0
                position -= 1
            }

            let expandedName = expanded.isEmpty ? name
                : name + expanded.map { "/\($0.key)=\($0.value)" }.joined()
            var configuration = CompressionConfiguration(name: expandedName, definition: name, expandedValues: expanded)
            if let kvRange = sectionRanges[.kv] {
                configuration.kv = buildKV(values[.kv] ?? [:], origins: origins, definition: name, at: kvRange)
                if configuration.kv == nil { failed = true }
            }
            if let weightsRange = sectionRanges[.weights] {
                configuration.weights = buildWeights(values[.weights] ?? [:], targets: targets, origins: origins,
                                                     definition: name, at: weightsRange)
                if configuration.weights == nil { failed = true }
            }
            result.append((configuration, origins))
        }
        if failed { return nil }
        return Decoded(configurations: result, calibrationReferences: calibration)
    }

    private func readSection(_ section: Section, _ node: YAMLNode, definition: String, targets: inout [WeightTarget],
                             calibration: inout [(String, SourceRange)]) -> [Axis]? {
        let context = "\(section == .kv ? "kv" : "weight") configuration of '\(definition)'"
        guard let pairs = sink.mapping(node, "'\(section.rawValue)' of compression '\(definition)'") else { return nil }
        let rules = section == .kv ? Self.kvRules : Self.weightRules
        let methodWord = section == .kv ? "kv method" : "weight method"

        guard let methodNode = pairs[key: "method"] else {
            if sink.isMisspelled("method", in: pairs, allowed: Array(rules.keys)) {
                sink.checkKeys(pairs, allowed: Array(rules.keys), in: context)
                return nil
            }
            let names = section == .kv ? KVMethodName.allCases.map(\.rawValue) : WeightMethodName.allCases.map(\.rawValue)
            sink.error("\(context) needs 'method:' (one of \(Suggestions.oneOf(names)))", at: node.range)
            sink.checkKeys(pairs, allowed: Array(rules.keys), in: context)
            return nil
        }
        let methodNames = section == .kv ? KVMethodName.allCases.map(\.rawValue) : WeightMethodName.allCases.map(\.rawValue)
        guard let methodAxis = readAxis(section, "method", methodNode, rule: .choice(methodNames, what: methodWord)) else {
            sink.checkKeys(pairs, allowed: Array(rules.keys), in: context)
            return nil
        }
        let methods = methodAxis.values.compactMap { $0.value.text }
        func parameters(of method: String) -> [String] {
            if section == .kv { return KVMethodName(rawValue: method).map { Self.kvMethodParameters[$0] ?? [] } ?? [] }
            return WeightMethodName(rawValue: method).map { Self.weightMethodParameters[$0] ?? [] } ?? []
        }
        let common = Self.commonKeys[section] ?? []
        // Keys valid for every listed method.
        var allowed = common
        if let first = methods.first {
            allowed += parameters(of: first).filter { key in methods.allSatisfy { parameters(of: $0).contains(key) } }
        }
        // A parameter of some listed methods but not all: name the methods that lack it.
        var keysOK = true
        var checked = pairs
        if methods.count > 1 {
            for pair in pairs where !allowed.contains(pair.name) {
                let lacking = methods.filter { !parameters(of: $0).contains(pair.name) }
                guard lacking.count < methods.count else { continue }
                sink.error("parameter '\(pair.name)' does not belong to \(methodWord) \(Suggestions.oneOf(lacking)), which "
                           + "'method' also lists; split the entry into one per method", at: pair.key.range)
                keysOK = false
            }
            checked = pairs.filter { pair in allowed.contains(pair.name) || !methods.contains { parameters(of: $0).contains(pair.name) } }
        }
        let methodText = methods.count == 1 ? "\(methodWord) '\(methods[0])'" : "the \(methodWord)s listed in 'method'"
        keysOK = sink.checkKeys(checked, allowed: allowed, in: methodText, belongsElsewhere: { key in
            let owners = (section == .kv ? KVMethodName.allCases.map(\.rawValue) : WeightMethodName.allCases.map(\.rawValue))
                .filter { parameters(of: $0).contains(key) }
            guard rules[key] != nil, !owners.isEmpty else { return nil }
            return Suggestions.oneOf(owners)
        }) && keysOK

        var axes: [Axis] = []
        var ok = keysOK
        for pair in pairs where allowed.contains(pair.name) {
            if pair.name == "method" { axes.append(methodAxis); continue }
            if pair.name == "targets" {
                if let read = readTargets(pair.value, definition: definition) { targets = read } else { ok = false }
                continue
            }
            guard let rule = rules[pair.name], let axis = readAxis(section, pair.name, pair.value, rule: rule) else {
                ok = false
                continue
            }
            if pair.name == "calibration" {
                calibration += axis.values.compactMap { value in value.value.text.map { ($0, value.range) } }
            }
            axes.append(axis)
        }
        return ok ? axes : nil
    }

    private func readAxis(_ section: Section, _ key: String, _ node: YAMLNode, rule: Rule) -> Axis? {
        let items: [YAMLNode]
        let isList: Bool
        if let list = node.sequence {
            guard !list.isEmpty else {
                sink.error("'\(key)' is an empty list, which expands to no configurations", at: node.range)
                return nil
            }
            items = list
            isList = true
        } else {
            items = [node]
            isList = false
        }
        var values: [(Value, SourceRange)] = []
        var ok = true
        var firstSeen: [Value: SourceRange] = [:]
        for item in items {
            guard let value = readValue(key, item, rule: rule) else { ok = false; continue }
            if let first = firstSeen[value] {
                sink.error("'\(key)' lists \(value.label) twice", at: item.range,
                           notes: [.init("first listed here", at: first)])
                ok = false
                continue
            }
            firstSeen[value] = item.range
            values.append((value, item.range))
        }
        return ok ? Axis(section: section, key: key, values: values, isList: isList) : nil
    }

    private func readValue(_ key: String, _ node: YAMLNode, rule: Rule) -> Value? {
        if node.sequence != nil {
            sink.error("'\(key)' lists may not be nested", at: node.range)
            return nil
        }
        let what = "'\(key)'"
        switch rule {
        case .integer(let range):
            return sink.integer(node, what, in: range).map(Value.integer)
        case .bits:
            guard let bits = sink.integer(node, what, in: Int.min...Int.max) else { return nil }
            guard supportedBitWidths.contains(bits) else {
                sink.error("'bits' must be 2, 3, 4 or 8; found \(bits)",
                           at: node.range)
                return nil
            }
            return .integer(bits)
        case .fraction:
            return sink.number(node, what, in: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude).flatMap { value in
                guard value > 0, value < 1 else {
                    sink.error("\(what) must be a fraction above 0 and below 1 (0.02 keeps 2% of the entries exact); "
                               + "found \(node.scalar?.text ?? "")", at: node.range)
                    return nil
                }
                return .number(value)
            }
        case .number(let range):
            return sink.number(node, what, in: range).map(Value.number)
        case .choice(let names, let label):
            guard let scalar = node.scalar, !scalar.isNull else {
                sink.error("expected \(label) (one of \(Suggestions.oneOf(names))), found \(node.kindDescription)", at: node.range)
                return nil
            }
            guard names.contains(scalar.text) else {
                sink.unknownChoice(label, scalar.text, names, at: node.range)
                return nil
            }
            return .text(scalar.text)
        case .text:
            return sink.string(node, what).map(Value.text)
        }
    }

    private func readTargets(_ node: YAMLNode, definition: String) -> [WeightTarget]? {
        guard let items = sink.scalarList(node, "'targets'") else { return nil }
        guard !items.isEmpty else {
            sink.error("'targets' is empty; list at least one of \(Suggestions.oneOf(WeightTarget.supported.map(\.rawValue)))",
                       at: node.range)
            return nil
        }
        var picked: Set<WeightTarget> = []
        var ok = true
        let supported = WeightTarget.supported.map(\.rawValue)
        for item in items {
            guard let scalar = item.scalar, !scalar.isNull else {
                sink.error("expected weight target (one of \(Suggestions.oneOf(supported))), found \(item.kindDescription)",
                           at: item.range)
                ok = false
                continue
            }
            if scalar.text == WeightTarget.embeddings.rawValue {
                sink.error("weight target 'embeddings' cannot be quantized: the embedding table is always read as stored",
                           at: item.range,
                           notes: [.init("remove it; a tied output head is quantized (as its own copy) by 'lm_head'")])
                ok = false
                continue
            }
            guard let target = WeightTarget(rawValue: scalar.text) else {
                sink.unknownChoice("weight target", scalar.text, supported, at: item.range)
                ok = false
                continue
            }
            if !picked.insert(target).inserted {
                sink.warning("weight target '\(target.rawValue)' is listed twice", at: item.range)
            }
        }
        return ok ? WeightTarget.allCases.filter(picked.contains) : nil
    }

    private func buildKV(_ values: [String: Value], origins: [String: SourceRange], definition: String,
                         at range: SourceRange) -> KVCacheQuantization? {
        guard let methodName = values["method"]?.text.flatMap(KVMethodName.init(rawValue:)) else { return nil }
        func int(_ key: String, _ fallback: Int) -> Int { values[key]?.integer ?? fallback }
        func fraction(_ key: String, _ fallback: Double) -> Double { values[key]?.number ?? fallback }
        let bits = int("bits", 4)
        let regime = values["regime"]?.text.flatMap(KVRegime.init(rawValue:)) ?? .store
        let method: KVMethod
        switch methodName {
        case .uniform:
            method = .uniform(scope: values["scope"]?.text.flatMap(UniformKVScope.init(rawValue:)) ?? .perTensor)
        case .outlier:
            method = .outlier(outlierFraction: fraction("outlier_fraction", 0.02))
        case .group, .kivi:
            let defaults = methodName == .kivi ? GroupKVParameters.kiviDefaults : GroupKVParameters.groupDefaults
            let variant = values["variant"]?.text.flatMap(GroupKVVariant.init(rawValue:)) ?? .kivi
            if variant == .flexgen {
                // FlexGen has one group per head_dim index and no window: a size or window would be ignored.
                if let key = ["group_size", "residual"].first(where: { origins["kv.\($0)"] != nil }) {
                    sink.error("'\(key)' does not apply to variant 'flexgen' in '\(definition)' (one group per head_dim "
                               + "index, no full-precision window); remove it or use variant 'kivi'",
                               at: origins["kv.\(key)"] ?? range)
                    return nil
                }
                method = .group(GroupKVParameters(groupSize: defaults.groupSize, residual: 0, variant: .flexgen))
                break
            }
            let parameters = GroupKVParameters(groupSize: int("group_size", defaults.groupSize),
                                               residual: int("residual", defaults.residual))
            if parameters.residual % parameters.groupSize != 0 {
                let at = origins["kv.residual"] ?? origins["kv.group_size"] ?? range
                sink.error("residual \(parameters.residual) is not a multiple of group_size \(parameters.groupSize) "
                           + "in '\(definition)'; the full-precision window is quantized in whole groups",
                           at: at, notes: origins["kv.residual"] == nil
                               ? [.init("\(methodName.rawValue)'s default residual is \(defaults.residual)")] : [])
                return nil
            }
            method = methodName == .kivi ? .kivi(parameters) : .group(parameters)
        case .gear, .gearL:
            let parameters = GEARParameters(groupSize: int("group_size", 64),
                                            outlierFraction: methodName == .gear ? fraction("outlier_fraction", 0.02) : 0,
                                            rank: int("rank", 2), prefillRank: int("prefill_rank", 4),
                                            iterations: int("iterations", 3), seed: int("seed", 0))
            if GEARParameters.residual % parameters.groupSize != 0 {
                sink.error("group_size \(parameters.groupSize) does not divide \(methodName.rawValue)'s full-precision window of "
                           + "\(GEARParameters.residual) tokens in '\(definition)'; the window is quantized in whole groups",
                           at: origins["kv.group_size"] ?? range,
                           notes: [.init("use a group_size that divides \(GEARParameters.residual), such as 16, 32 or 64")])
                return nil
            }
            method = methodName == .gear ? .gear(parameters) : .gearL(parameters)
        }
        return KVCacheQuantization(method: method, bits: bits, regime: regime)
    }

    private func buildWeights(_ values: [String: Value], targets: [WeightTarget], origins: [String: SourceRange],
                              definition: String, at range: SourceRange) -> WeightQuantization? {
        guard let methodName = values["method"]?.text.flatMap(WeightMethodName.init(rawValue:)) else { return nil }
        func int(_ key: String, _ fallback: Int) -> Int { values[key]?.integer ?? fallback }
        let bits = int("bits", 4)
        let method: WeightMethod
        switch methodName {
        case .rtn:
            let scope = values["scope"]?.text.flatMap(RTNScope.init(rawValue:)) ?? .perGroup
            if scope != .perGroup, let at = origins["weights.group_size"] {
                sink.error("'group_size' applies only to scope 'per_group', but '\(definition)' uses scope '\(scope.rawValue)'",
                           at: at)
                return nil
            }
            method = .rtn(scope: scope, groupSize: scope == .perGroup ? int("group_size", 128) : 0)
        case .outlier:
            method = .outlier(outlierFraction: values["outlier_fraction"]?.number ?? 0.01)
        case .awq, .gptq:
            guard let calibration = values["calibration"]?.text else {
                sink.error("weight method '\(methodName.rawValue)' in '\(definition)' needs 'calibration:' naming a dataset "
                           + "whose samples calibrate it", at: range)
                return nil
            }
            if methodName == .awq {
                method = .awq(AWQParameters(groupSize: int("group_size", 128), grid: int("grid", 20),
                                            calibration: calibration, calibrationSamples: int("calibration_samples", 128)))
            } else {
                method = .gptq(GPTQParameters(groupSize: int("group_size", 128), damp: values["damp"]?.number ?? 0.01,
                                              block: int("block", 128), calibration: calibration,
                                              calibrationSamples: int("calibration_samples", 128)))
            }
        }
        return WeightQuantization(method: method, bits: bits, targets: targets)
    }
}
