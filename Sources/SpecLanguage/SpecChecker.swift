import OrderedCollections

/// One parsed spec file as the checker sees it.
struct LoadedFile {
    var displayPath: String
    /// The absolute folder holding the file; relative paths in it resolve against this.
    var directory: String
    var root: YAMLNode?
    /// True for the file the user named (its definitions are checked for use).
    var isRoot: Bool
    /// True when the YAML could not be parsed (already reported).
    var isBroken: Bool = false
}

/// Turns parsed files into a typed `Spec`, reporting every problem it finds along the way.
struct SpecChecker {
    let sink: DiagnosticSink
    let checkpoints: any CheckpointInspector

    static let topLevelKeys = ["name", "description", "include", "models", "datasets", "compression", "experiments", "tables"]
    static let sections = ["models", "datasets", "compression", "experiments", "tables"]

    /// A named definition under one of the sections.
    struct Entry {
        var name: String
        var keyRange: SourceRange
        var value: YAMLNode
        var file: LoadedFile
    }

    // MARK: - Whole spec

    func check(files: [LoadedFile], defaultName: String) -> Spec? {
        guard let rootFile = files.first else { return nil }
        var entries: [String: OrderedDictionary<String, Entry>] = [:]
        var name = defaultName
        var description: String?

        for file in files {
            guard let root = file.root, !root.isNull else {
                if file.isRoot, !file.isBroken {
                    sink.error("the spec is empty; define at least 'models', 'datasets' and 'experiments' "
                               + "(see docs/spec-language.md)", at: .fileStart(file.displayPath))
                }
                continue
            }
            guard let pairs = sink.mapping(root, "the top level of a spec") else { continue }
            if pairs.isEmpty, file.isRoot {
                sink.error("the spec is empty; define at least 'models', 'datasets' and 'experiments' "
                           + "(see docs/spec-language.md)", at: root.range)
            }
            sink.checkKeys(pairs, allowed: Self.topLevelKeys, in: "the top level of the spec")
            if file.isRoot {
                if let node = pairs[key: "name"], let text = sink.string(node, "'name'") { name = text }
                if let node = pairs[key: "description"], let text = sink.string(node, "'description'") { description = text }
            }
            for section in Self.sections {
                guard let node = pairs[key: section], !node.isNull,
                      let sectionPairs = sink.mapping(node, "'\(section)'") else { continue }
                for pair in sectionPairs {
                    let entryName = pair.name
                    guard Self.isValidName(entryName) else {
                        sink.error("the name '\(entryName)' may contain only letters, digits, '-', '_' and '.'",
                                   at: pair.key.range)
                        continue
                    }
                    if let first = entries[section]?[entryName] {
                        sink.error("\(Self.singular(section)) '\(entryName)' is defined twice", at: pair.key.range,
                                   notes: [.init("first defined here", at: first.keyRange)])
                        continue
                    }
                    entries[section, default: [:]][entryName] = Entry(name: entryName, keyRange: pair.key.range,
                                                                      value: pair.value, file: file)
                }
            }
        }

        var usage = Usage()
        let models = decodeModels(entries["models"] ?? [:])
        let datasets = decodeDatasets(entries["datasets"] ?? [:])
        let (definitions, configurations, origins) = decodeCompression(entries["compression"] ?? [:], datasets: datasets,
                                                                       usage: &usage)
        let experiments = decodeExperiments(entries["experiments"] ?? [:], entries: entries, models: models, datasets: datasets,
                                            definitions: definitions, configurations: configurations, usage: &usage)
        let tables = decodeTables(entries["tables"] ?? [:], experiments: experiments,
                                  definedExperiments: Set((entries["experiments"] ?? [:]).keys), datasets: datasets,
                                  configurations: configurations, definitions: definitions)

        checkCheckpoints(experiments: experiments, models: models, configurations: configurations, origins: origins)
        checkStoreRegime(experiments: experiments, datasets: datasets, configurations: configurations)
        reportUnused(entries, usage: usage)

        if experiments.isEmpty, entries["experiments"]?.isEmpty ?? true, !sink.hasErrors,
           let root = rootFile.root, root.mapping?.isEmpty == false {
            sink.warning("the spec defines no experiments, so there is nothing to run", at: root.range)
        }

        guard !sink.hasErrors else { return nil }
        return Spec(name: name, description: description, files: files.map(\.displayPath), models: models,
                    datasets: datasets, compressionDefinitions: definitions, configurations: configurations,
                    experiments: experiments, tables: tables)
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    static func singular(_ section: String) -> String {
        switch section {
        case "models": return "model"
        case "datasets": return "dataset"
        case "experiments": return "experiment"
        case "tables": return "table"
        default: return "compression"
        }
    }

    /// What experiments and tables refer to, for "defined but never used" warnings.
    struct Usage {
        var models: Set<String> = []
        var datasets: Set<String> = []
        var compression: Set<String> = []
    }

    // MARK: - Models

    private func decodeModels(_ entries: OrderedDictionary<String, Entry>) -> OrderedDictionary<String, ModelDefinition> {
        var out: OrderedDictionary<String, ModelDefinition> = [:]
        for (name, entry) in entries {
            let what = "model '\(name)'"
            guard let pairs = sink.mapping(entry.value, what) else { continue }
            sink.checkKeys(pairs, allowed: ["path", "dtype", "template", "preprocess"], in: what)
            var ok = true
            var path: String?
            if let node = pairs[key: "path"] {
                path = sink.string(node, "'path' of \(what)")
                if path?.isEmpty == true { sink.error("'path' of \(what) is empty", at: node.range); path = nil }
            } else {
                sink.error("\(what) needs 'path:' (a Hugging Face LLaVA checkpoint folder)", at: entry.keyRange)
            }
            if path == nil { ok = false }
            var dtype = ModelDType.auto
            if let node = pairs[key: "dtype"] {
                if let value = sink.choice(node, "dtype", ModelDType.self) { dtype = value } else { ok = false }
            }
            var preprocess = ImagePreprocessing.pad
            if let node = pairs[key: "preprocess"] {
                if let value = sink.choice(node, "preprocess mode", ImagePreprocessing.self) { preprocess = value } else { ok = false }
            }
            var template: PromptTemplate?
            if let node = pairs[key: "template"] {
                template = readTemplate(node)
            } else {
                sink.error("\(what) needs 'template:' (one of \(Suggestions.oneOf(PromptTemplate.Name.allCases.map(\.rawValue))), "
                           + "or a custom text with '<image>' and '{question}')", at: entry.keyRange)
            }
            guard ok, let path, let template else { continue }
            out[name] = ModelDefinition(name: name, path: path, resolvedPath: resolve(path, in: entry.file),
                                        dtype: dtype, template: template, preprocess: preprocess, definedAt: entry.keyRange)
        }
        return out
    }

    private func readTemplate(_ node: YAMLNode) -> PromptTemplate? {
        guard let text = sink.string(node, "'template'") else { return nil }
        if text.contains("{question}") {
            guard text.contains("<image>") else {
                sink.error("a custom template needs the '<image>' placeholder where the image goes", at: node.range)
                return nil
            }
            return .custom(text)
        }
        guard let name = sink.choice(node, "prompt template", PromptTemplate.Name.self) else { return nil }
        switch name {
        case .llava15: return .llava15
        case .llavaV1: return .llavaV1
        case .gemma: return .gemma
        }
    }

    private func resolve(_ path: String, in file: LoadedFile) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        return normalize(file.directory + "/" + path)
    }

    // MARK: - Datasets

    private static let syntheticKeys = ["suite", "seed", "size", "probes"]
    private static let fileKeys = ["format", "path", "images", "split", "answer_type"]
    private static let sharedDatasetKeys = ["limit", "prompt_suffix", "metrics"]

    private func decodeDatasets(_ entries: OrderedDictionary<String, Entry>) -> OrderedDictionary<String, DatasetDefinition> {
        var out: OrderedDictionary<String, DatasetDefinition> = [:]
        for (name, entry) in entries {
            let what = "dataset '\(name)'"
            guard let pairs = sink.mapping(entry.value, what) else { continue }
            let hasSuite = pairs.pair("suite"), hasFormat = pairs.pair("format")
            if let hasSuite, let hasFormat {
                let later = hasSuite.key.range.start < hasFormat.key.range.start ? hasFormat : hasSuite
                sink.error("\(what) has both 'suite:' and 'format:'; a dataset is either synthetic or read from files",
                           at: later.key.range)
                continue
            }
            var source: DatasetSource?
            var ok = true
            if hasSuite != nil {
                sink.checkKeys(pairs, allowed: Self.syntheticKeys + Self.sharedDatasetKeys, in: "synthetic \(what)",
                               belongsElsewhere: { Self.fileKeys.contains($0) ? "datasets read from files ('format:')" : nil })
                source = readSynthetic(pairs, what: what).map(DatasetSource.synthetic)
            } else if hasFormat != nil {
                sink.checkKeys(pairs, allowed: Self.fileKeys + Self.sharedDatasetKeys, in: what,
                               belongsElsewhere: { Self.syntheticKeys.contains($0) ? "synthetic datasets ('suite:')" : nil })
                source = readFiles(pairs, what: what, file: entry.file, ok: &ok).map(DatasetSource.files)
            } else {
                sink.error("\(what) needs 'suite:' (lcb's synthetic suite, e.g. 'shapes') or 'format:' (a benchmark on disk: "
                           + "\(Suggestions.oneOf(DatasetFormat.allCases.map(\.rawValue))))", at: entry.keyRange)
                sink.checkKeys(pairs, allowed: Self.syntheticKeys + Self.fileKeys + Self.sharedDatasetKeys, in: what)
                continue
            }
            var limit: Int?
            if let node = pairs[key: "limit"] {
                limit = sink.integer(node, "'limit'", in: 1...Int.max)
                if limit == nil { ok = false }
            }
            guard let source else { continue }
            var promptSuffix: String
            switch source {
            case .synthetic: promptSuffix = ""
            case .files(let files): promptSuffix = files.format.defaultPromptSuffix
            }
            if let node = pairs[key: "prompt_suffix"] {
                if node.isNull { promptSuffix = "" } else if let text = sink.string(node, "'prompt_suffix'") {
                    promptSuffix = text
                } else { ok = false }
            }
            var definition = DatasetDefinition(name: name, source: source, limit: limit, promptSuffix: promptSuffix,
                                               metrics: Self.defaultMetrics(for: source), definedAt: entry.keyRange)
            if let node = pairs[key: "metrics"] {
                if let metrics = readMetrics(node, for: definition) { definition.metrics = metrics } else { ok = false }
            }
            if ok { out[name] = definition }
        }
        return out
    }

    static func defaultMetrics(for source: DatasetSource) -> [Metric] {
        switch source {
        case .files(let files):
            if files.format == .jsonl {
                switch files.answerType {
                case .yesno, .choice: return [.accuracy]
                case .short: return [.exactMatch]
                case .caption: return [.cider]
                case .open: return [.judgeScore]
                case .counterfactual: return [.answerDisparity]
                }
            }
            return files.format.defaultMetrics
        case .synthetic(let suite):
            var metrics: [Metric] = []
            let types = suite.answerTypes
            if types.contains(where: { [.short, .yesno, .choice].contains($0) }) { metrics.append(.exactMatch) }
            if types.contains(.caption) { metrics.append(.cider) }
            if types.contains(.counterfactual) { metrics.append(.answerDisparity) }
            return metrics
        }
    }

    private func readSynthetic(_ pairs: [YAMLPair], what: String) -> SyntheticSuite? {
        var suite = SyntheticSuite()
        var ok = true
        if let node = pairs[key: "suite"] {
            if let value = sink.choice(node, "synthetic suite", SyntheticSuiteName.self) { suite.suite = value } else { ok = false }
        }
        if let node = pairs[key: "seed"] {
            if let value = sink.integer(node, "'seed'", in: 0...Int.max) { suite.seed = value } else { ok = false }
        }
        if let node = pairs[key: "size"] {
            if let value = sink.integer(node, "'size'", in: 1...1_000_000) { suite.size = value } else { ok = false }
        }
        if let node = pairs[key: "probes"] {
            if let items = sink.scalarList(node, "'probes'") {
                var probes: [SyntheticProbe] = []
                for item in items {
                    guard let probe = sink.choice(item, "probe", SyntheticProbe.self) else { ok = false; continue }
                    if probes.contains(probe) {
                        sink.warning("probe '\(probe.rawValue)' is listed twice", at: item.range)
                    } else {
                        probes.append(probe)
                    }
                }
                if items.isEmpty {
                    sink.error("'probes' of \(what) is empty; leave it out to use every probe", at: node.range)
                    ok = false
                }
                suite.probes = probes
            } else { ok = false }
        }
        return ok ? suite : nil
    }

    /// The dataset's files; `ok` turns false on any error (the value is still built for further checks).
    private func readFiles(_ pairs: [YAMLPair], what: String, file: LoadedFile, ok: inout Bool) -> DatasetFiles? {
        guard let formatNode = pairs[key: "format"],
              let format = sink.choice(formatNode, "dataset format", DatasetFormat.self) else { ok = false; return nil }
        var path: String?
        if let node = pairs[key: "path"] {
            path = sink.string(node, "'path' of \(what)")
            if path == nil { ok = false }
        } else {
            sink.error("\(what) needs 'path:' (where its \(format.rawValue) files are)", at: formatNode.range)
            ok = false
        }
        var images: String?
        if let node = pairs[key: "images"] {
            images = sink.string(node, "'images' of \(what)")
            if images == nil { ok = false }
        }
        var split: String?
        if let node = pairs[key: "split"], let text = sink.string(node, "'split'") {
            split = text
            if let known = format.knownSplits, !known.contains(text) {
                sink.unknownChoice("\(format.rawValue) split", text, known, at: node.range)
                ok = false
            }
        } else if pairs[key: "split"] != nil { ok = false }
        var answerType = format.answerType
        if let node = pairs[key: "answer_type"] {
            if format != .jsonl {
                sink.error("'answer_type' applies only to format 'jsonl'; format '\(format.rawValue)' always has "
                           + Self.describe(format.answerType), at: node.range)
                ok = false
            } else if let value = sink.choice(node, "answer type", AnswerType.self) {
                answerType = value
            } else { ok = false }
        }
        guard let path else { ok = false; return nil }
        return DatasetFiles(format: format, path: path, resolvedPath: resolve(path, in: file), images: images,
                            resolvedImages: images.map { resolve($0, in: file) }, split: split, answerType: answerType)
    }

    static func describe(_ type: AnswerType) -> String {
        switch type {
        case .yesno: return "yes/no answers"
        case .short: return "short answers"
        case .choice: return "multiple-choice answers"
        case .caption: return "captions"
        case .open: return "open-ended answers"
        case .counterfactual: return "answers compared across counterfactual image sets"
        }
    }

    private func readMetrics(_ node: YAMLNode, for dataset: DatasetDefinition) -> [Metric]? {
        guard let items = sink.scalarList(node, "'metrics'") else { return nil }
        if items.isEmpty {
            sink.error("'metrics' of dataset '\(dataset.name)' is empty; leave it out for the format's official metrics",
                       at: node.range)
            return nil
        }
        var metrics: [Metric] = []
        var ok = true
        for item in items {
            guard let metric = sink.choice(item, "metric", Metric.self) else { ok = false; continue }
            guard checkFits(metric, dataset, at: item.range) else { ok = false; continue }
            if metrics.contains(metric) {
                sink.warning("metric '\(metric.rawValue)' is listed twice", at: item.range)
            } else {
                metrics.append(metric)
            }
        }
        return ok ? metrics : nil
    }

    /// Reports a metric that cannot score `dataset`; true when it fits.
    func checkFits(_ metric: Metric, _ dataset: DatasetDefinition, at range: SourceRange) -> Bool {
        guard !metric.fits(dataset) else { return true }
        let has = dataset.answerTypes.map(Self.describe).joined(separator: " and ")
        var reason: String
        if let formats = metric.requiredFormats, case .files(let files) = dataset.source, !formats.contains(files.format) {
            reason = "it needs the structure of format \(Suggestions.oneOf(formats.map(\.rawValue).sorted()))"
        } else if let types = metric.answerTypes {
            reason = "it scores " + AnswerType.allCases.filter(types.contains).map(Self.describe).joined(separator: " or ")
        } else {
            reason = "it does not apply"
        }
        reason += ", and '\(dataset.name)' has \(has)"
        let fitting = Metric.allCases.filter { $0.fits(dataset) && $0.answerTypes != nil }.map(\.rawValue)
        sink.error("metric '\(metric.rawValue)' does not fit dataset '\(dataset.name)': \(reason)", at: range,
                   notes: [.init("metrics that fit '\(dataset.name)': " + fitting.joined(separator: ", "))])
        return false
    }

    // MARK: - Compression

    private func decodeCompression(_ entries: OrderedDictionary<String, Entry>,
                                   datasets: OrderedDictionary<String, DatasetDefinition>, usage: inout Usage)
        -> (OrderedDictionary<String, CompressionDefinition>, OrderedDictionary<String, CompressionConfiguration>,
            [String: [String: SourceRange]]) {
        var definitions: OrderedDictionary<String, CompressionDefinition> = [:]
        var configurations: OrderedDictionary<String, CompressionConfiguration> = ["fp16": .fp16]
        var origins: [String: [String: SourceRange]] = [:]
        let decoder = CompressionDecoder(sink: sink)
        for (name, entry) in entries {
            guard let decoded = decoder.decode(name: name, node: entry.value) else { continue }
            for reference in decoded.calibrationReferences {
                if datasets[reference.name] != nil {
                    usage.datasets.insert(reference.name)
                } else {
                    sink.error("undefined dataset '\(reference.name)' for calibration"
                               + Suggestions.didYouMean(reference.name, in: datasets.keys), at: reference.range)
                }
            }
            definitions[name] = CompressionDefinition(name: name, expandedNames: decoded.configurations.map(\.configuration.name),
                                                      definedAt: entry.keyRange)
            for (configuration, origin) in decoded.configurations {
                configurations[configuration.name] = configuration
                origins[configuration.name] = origin.merging(["": entry.keyRange]) { a, _ in a }
            }
        }
        return (definitions, configurations, origins)
    }

    // MARK: - Experiments

    private func decodeExperiments(_ entries: OrderedDictionary<String, Entry>,
                                   entries all: [String: OrderedDictionary<String, Entry>],
                                   models: OrderedDictionary<String, ModelDefinition>,
                                   datasets: OrderedDictionary<String, DatasetDefinition>,
                                   definitions: OrderedDictionary<String, CompressionDefinition>,
                                   configurations: OrderedDictionary<String, CompressionConfiguration>,
                                   usage: inout Usage) -> OrderedDictionary<String, Experiment> {
        var out: OrderedDictionary<String, Experiment> = [:]
        for (name, entry) in entries {
            let what = "experiment '\(name)'"
            guard let pairs = sink.mapping(entry.value, what) else { continue }
            sink.checkKeys(pairs, allowed: ["models", "datasets", "compression", "generation", "limit"], in: what)
            var ok = true

            func names(_ key: String, kind: String, defined: some Collection<String>, required: Bool) -> [(String, SourceRange)]? {
                guard let node = pairs[key: key] else {
                    if required { sink.error("\(what) needs '\(key):' (a list of \(kind) names)", at: entry.keyRange) }
                    return required ? nil : []
                }
                guard let items = sink.scalarList(node, "'\(key)' of \(what)") else { return nil }
                if items.isEmpty {
                    sink.error("'\(key)' of \(what) is empty, so the experiment has no cells", at: node.range)
                    return nil
                }
                var out: [(String, SourceRange)] = []
                var seen: [String: SourceRange] = [:]
                for item in items {
                    let text = item.scalar?.text ?? ""
                    if let first = seen[text] {
                        sink.warning("\(kind) '\(text)' is listed twice in \(what)", at: item.range,
                                     notes: [.init("first listed here", at: first)])
                        continue
                    }
                    seen[text] = item.range
                    out.append((text, item.range))
                }
                return out
            }

            var modelNames: [String] = []
            if let list = names("models", kind: "model", defined: models.keys, required: true) {
                for (model, range) in list {
                    usage.models.insert(model)
                    if models[model] != nil { modelNames.append(model) } else {
                        // A definition with errors is already reported; only flag names defined nowhere.
                        if all["models"]?[model] == nil {
                            reportUndefined("model", model, at: range, candidates: Array((all["models"] ?? [:]).keys))
                        }
                        ok = false
                    }
                }
            } else { ok = false }

            var datasetNames: [String] = []
            if let list = names("datasets", kind: "dataset", defined: datasets.keys, required: true) {
                for (dataset, range) in list {
                    usage.datasets.insert(dataset)
                    if datasets[dataset] != nil { datasetNames.append(dataset) } else {
                        if all["datasets"]?[dataset] == nil {
                            reportUndefined("dataset", dataset, at: range, candidates: Array((all["datasets"] ?? [:]).keys))
                        }
                        ok = false
                    }
                }
            } else { ok = false }

            var compression: [String] = []
            if let list = names("compression", kind: "compression configuration", defined: configurations.keys, required: false) {
                let references = list.isEmpty ? [("fp16", entry.keyRange)] : list
                var included: [String: String] = [:]
                for (reference, range) in references {
                    guard let expanded = resolveConfiguration(reference, definitions: definitions,
                                                              configurations: configurations) else {
                        let definition = String(reference.prefix { $0 != "/" })
                        if all["compression"]?[definition] == nil {
                            reportUndefined("compression configuration", reference, at: range,
                                            candidates: ["fp16"] + Array((all["compression"] ?? [:]).keys) + Array(configurations.keys))
                        }
                        ok = false
                        continue
                    }
                    usage.compression.insert(configurations[expanded[0]]?.definition ?? reference)
                    for configuration in expanded {
                        if let via = included[configuration] {
                            sink.warning("configuration '\(configuration)' is already included through '\(via)'", at: range)
                            continue
                        }
                        included[configuration] = reference
                        compression.append(configuration)
                    }
                }
            } else { ok = false }

            var generation = GenerationSettings()
            if let node = pairs[key: "generation"], let generationPairs = sink.mapping(node, "'generation' of \(what)") {
                sink.checkKeys(generationPairs, allowed: ["max_new_tokens", "stop"], in: "'generation' of \(what)")
                if let value = generationPairs[key: "max_new_tokens"] {
                    if let tokens = sink.integer(value, "'max_new_tokens'", in: 1...8192) { generation.maxNewTokens = tokens } else { ok = false }
                }
                if let value = generationPairs[key: "stop"] {
                    if let items = sink.scalarList(value, "'stop'") {
                        for item in items {
                            guard let text = sink.string(item, "a stop string") else { ok = false; continue }
                            if text.isEmpty { sink.error("a stop string may not be empty", at: item.range); ok = false } else {
                                generation.stop.append(text)
                            }
                        }
                    } else { ok = false }
                }
            } else if pairs[key: "generation"] != nil { ok = false }

            var limit: Int?
            if let node = pairs[key: "limit"] {
                limit = sink.integer(node, "'limit'", in: 1...Int.max)
                if limit == nil { ok = false }
            }
            guard ok else { continue }
            out[name] = Experiment(name: name, models: modelNames, datasets: datasetNames, compression: compression,
                                   generation: generation, limit: limit, definedAt: entry.keyRange)
        }
        return out
    }

    /// The expanded configurations a reference names: a definition (all expansions) or one expanded name.
    private func resolveConfiguration(_ reference: String, definitions: OrderedDictionary<String, CompressionDefinition>,
                                      configurations: OrderedDictionary<String, CompressionConfiguration>) -> [String]? {
        if let definition = definitions[reference] { return definition.expandedNames }
        if configurations[reference] != nil { return [reference] }
        let compact = reference.filter { $0 != " " }
        if configurations[compact] != nil { return [compact] }
        return nil
    }

    private func reportUndefined(_ kind: String, _ name: String, at range: SourceRange, candidates: [String]) {
        sink.error("undefined \(kind) '\(name)'" + Suggestions.didYouMean(name, in: candidates), at: range)
    }

    // MARK: - Tables

    private func decodeTables(_ entries: OrderedDictionary<String, Entry>,
                              experiments: OrderedDictionary<String, Experiment>,
                              definedExperiments: Set<String>,
                              datasets: OrderedDictionary<String, DatasetDefinition>,
                              configurations: OrderedDictionary<String, CompressionConfiguration>,
                              definitions: OrderedDictionary<String, CompressionDefinition>)
        -> OrderedDictionary<String, TableDefinition> {
        var out: OrderedDictionary<String, TableDefinition> = [:]
        for (name, entry) in entries {
            let what = "table '\(name)'"
            guard let pairs = sink.mapping(entry.value, what) else { continue }
            sink.checkKeys(pairs, allowed: ["experiments", "rows", "columns", "metrics", "baseline", "formats", "decimals",
                                            "stderr", "caption", "label"], in: what)
            var ok = true

            // Experiments: named, or the only one.
            var tableExperiments: [Experiment] = []
            var experimentsComplete = true
            if let node = pairs[key: "experiments"] {
                if let items = sink.scalarList(node, "'experiments' of \(what)") {
                    for item in items {
                        let text = item.scalar?.text ?? ""
                        if let experiment = experiments[text] { tableExperiments.append(experiment) } else {
                            ok = false
                            experimentsComplete = false
                            // An experiment that failed to check is already reported; only flag real typos.
                            if !definedExperiments.contains(text) {
                                reportUndefined("experiment", text, at: item.range, candidates: Array(experiments.keys))
                            }
                        }
                    }
                    if items.isEmpty { sink.error("'experiments' of \(what) is empty", at: node.range); ok = false }
                } else { ok = false }
            } else if experiments.count == 1, let only = experiments.values.first {
                tableExperiments = [only]
            } else {
                if experiments.count > 1 || definedExperiments.count != 1 {
                    sink.error("\(what) needs 'experiments:' naming the experiments it shows", at: entry.keyRange)
                }
                ok = false
                experimentsComplete = false
            }

            var tableDatasets: [String] = []
            var tableConfigurations: [String] = []
            var tableModels: [String] = []
            for experiment in tableExperiments {
                for dataset in experiment.datasets where !tableDatasets.contains(dataset) { tableDatasets.append(dataset) }
                for configuration in experiment.compression where !tableConfigurations.contains(configuration) {
                    tableConfigurations.append(configuration)
                }
                for model in experiment.models where !tableModels.contains(model) { tableModels.append(model) }
            }

            // Metrics: one name or list for every dataset, or a mapping per dataset.
            var metrics: OrderedDictionary<String, [Metric]> = [:]
            if let node = pairs[key: "metrics"] {
                if let metricPairs = node.mapping {
                    for pair in metricPairs {
                        guard let dataset = datasets[pair.name] else {
                            reportUndefined("dataset", pair.name, at: pair.key.range, candidates: tableDatasets)
                            ok = false
                            continue
                        }
                        guard tableDatasets.contains(pair.name) || !experimentsComplete else {
                            sink.error("dataset '\(pair.name)' is not in the experiments of \(what)", at: pair.key.range)
                            ok = false
                            continue
                        }
                        if let list = readTableMetrics(pair.value, dataset: dataset, table: name) { metrics[pair.name] = list } else { ok = false }
                    }
                } else {
                    for datasetName in tableDatasets {
                        guard let dataset = datasets[datasetName] else { continue }
                        if let list = readTableMetrics(node, dataset: dataset, table: name) { metrics[datasetName] = list } else { ok = false }
                    }
                }
            }
            for datasetName in tableDatasets where metrics[datasetName] == nil && pairs[key: "metrics"]?.mapping == nil {
                metrics[datasetName] = datasets[datasetName]?.metrics ?? []
            }

            // Baseline.
            var baseline: String?
            if let node = pairs[key: "baseline"], let text = sink.string(node, "'baseline'") {
                if configurations[text] == nil, definitions[text] == nil {
                    reportUndefined("compression configuration", text, at: node.range,
                                    candidates: Array(configurations.keys) + Array(definitions.keys))
                    ok = false
                } else if let expanded = definitions[text]?.expandedNames, expanded.count > 1 {
                    sink.error("baseline '\(text)' expands to \(expanded.count) configurations; name one, e.g. '\(expanded[0])'",
                               at: node.range)
                    ok = false
                } else {
                    let resolved = definitions[text]?.expandedNames.first ?? text
                    if !tableConfigurations.contains(resolved), !tableExperiments.isEmpty {
                        sink.error("baseline '\(text)' is not in the experiments of \(what), so there is nothing to compare against",
                                   at: node.range, notes: tableExperiments.map {
                                       .init("experiment '\($0.name)' defined here", at: $0.definedAt)
                                   })
                        ok = false
                    }
                    baseline = resolved
                }
            } else if pairs[key: "baseline"] != nil { ok = false }

            // Layout.
            let multiple: [TableDimension: Bool] = [
                .model: tableModels.count > 1, .dataset: tableDatasets.count > 1,
                .compression: tableConfigurations.count > 1, .metric: metrics.values.contains { $0.count > 1 },
            ]
            var rows: [TableDimension] = (multiple[.model] == true ? [.model] : []) + [.compression]
            var columns: [TableDimension] = [.dataset, .metric]
            var placed: [TableDimension: SourceRange] = [:]
            if let node = pairs[key: "rows"] {
                if let read = readDimensions(node, "rows", placed: &placed) { rows = read } else { ok = false }
            }
            if let node = pairs[key: "columns"] {
                if let read = readDimensions(node, "columns", placed: &placed) { columns = read } else { ok = false }
            }
            if ok, pairs[key: "rows"] != nil || pairs[key: "columns"] != nil {
                for dimension in TableDimension.allCases where multiple[dimension] == true && !(rows + columns).contains(dimension) {
                    sink.error("\(what) shows several \(dimension.rawValue)s but '\(dimension.rawValue)' is in neither "
                               + "'rows' nor 'columns'", at: entry.keyRange)
                    ok = false
                }
            }

            var formats: [TableFormat] = [.md]
            if let node = pairs[key: "formats"], let items = sink.scalarList(node, "'formats'") {
                formats = []
                for item in items {
                    guard let format = sink.choice(item, "table format", TableFormat.self) else { ok = false; continue }
                    if !formats.contains(format) { formats.append(format) }
                }
                if items.isEmpty { sink.error("'formats' of \(what) is empty", at: node.range); ok = false }
            } else if pairs[key: "formats"] != nil { ok = false }

            var decimals = 2
            if let node = pairs[key: "decimals"] {
                if let value = sink.integer(node, "'decimals'", in: 0...10) { decimals = value } else { ok = false }
            }
            var standardErrors = false
            if let node = pairs[key: "stderr"] {
                if let value = sink.bool(node, "'stderr'") { standardErrors = value } else { ok = false }
            }
            var caption: String?, label: String?
            if let node = pairs[key: "caption"] { caption = sink.string(node, "'caption'"); if caption == nil { ok = false } }
            if let node = pairs[key: "label"] { label = sink.string(node, "'label'"); if label == nil { ok = false } }

            guard ok else { continue }
            out[name] = TableDefinition(name: name, experiments: tableExperiments.map(\.name), rows: rows, columns: columns,
                                        metrics: metrics, baseline: baseline, formats: formats, decimals: decimals,
                                        standardErrors: standardErrors, caption: caption, label: label,
                                        definedAt: entry.keyRange)
        }
        return out
    }

    private func readTableMetrics(_ node: YAMLNode, dataset: DatasetDefinition, table: String) -> [Metric]? {
        guard let items = sink.scalarList(node, "'metrics' of table '\(table)'") else { return nil }
        var out: [Metric] = []
        var ok = true
        for item in items {
            guard let metric = sink.choice(item, "metric", Metric.self) else { ok = false; continue }
            guard checkFits(metric, dataset, at: item.range) else { ok = false; continue }
            if metric.answerTypes != nil, !dataset.metrics.contains(metric) {
                sink.error("table '\(table)' shows metric '\(metric.rawValue)' for dataset '\(dataset.name)', which does not "
                           + "compute it; add it to the dataset's 'metrics'", at: item.range,
                           notes: [.init("dataset '\(dataset.name)' defined here", at: dataset.definedAt)])
                ok = false
                continue
            }
            if !out.contains(metric) { out.append(metric) }
        }
        if items.isEmpty { sink.error("the metric list is empty", at: node.range); ok = false }
        return ok ? out : nil
    }

    private func readDimensions(_ node: YAMLNode, _ key: String, placed: inout [TableDimension: SourceRange]) -> [TableDimension]? {
        guard let items = sink.scalarList(node, "'\(key)'") else { return nil }
        var out: [TableDimension] = []
        var ok = true
        for item in items {
            guard let dimension = sink.choice(item, "table dimension", TableDimension.self) else { ok = false; continue }
            if let first = placed[dimension] {
                sink.error("'\(dimension.rawValue)' is placed twice in the table layout", at: item.range,
                           notes: [.init("first placed here", at: first)])
                ok = false
                continue
            }
            placed[dimension] = item.range
            out.append(dimension)
        }
        if items.isEmpty { sink.error("'\(key)' is empty", at: node.range); ok = false }
        return ok ? out : nil
    }

    // MARK: - Cross checks

    /// Checks that need `config.json`: group sizes that must divide head_dim, and the image token.
    private func checkCheckpoints(experiments: OrderedDictionary<String, Experiment>,
                                  models: OrderedDictionary<String, ModelDefinition>,
                                  configurations: OrderedDictionary<String, CompressionConfiguration>,
                                  origins: [String: [String: SourceRange]]) {
        var facts: [String: CheckpointFacts] = [:]
        for model in models.values where experiments.values.contains(where: { $0.models.contains(model.name) }) {
            switch checkpoints.facts(forModelAt: model.resolvedPath) {
            case .failure(let error):
                sink.warning("cannot read '\(model.path)/config.json' for model '\(model.name)' (\(error.reason)); "
                             + "checks that need the checkpoint (head_dim, image token) are skipped", at: model.definedAt)
            case .success(let read):
                facts[model.name] = read
                if read.imageTokenIndex == nil {
                    sink.error("model '\(model.name)' has no image token: its config.json sets neither 'image_token_index' "
                               + "nor 'image_token_id'; is '\(model.path)' a LLaVA checkpoint?", at: model.definedAt)
                }
            }
        }
        for experiment in experiments.values {
            for modelName in experiment.models {
                guard let fact = facts[modelName], let headDim = fact.headDim else { continue }
                for configurationName in experiment.compression {
                    guard let kv = configurations[configurationName]?.kv else { continue }
                    let origin = origins[configurationName] ?? [:]
                    let at = origin["kv.group_size"] ?? origin[""] ?? experiment.definedAt
                    switch kv.method {
                    case .group(let p), .kivi(let p):
                        if headDim % p.groupSize != 0 {
                            sink.error("group_size \(p.groupSize) of '\(configurationName)' does not divide head_dim "
                                       + "\(headDim) of model '\(modelName)'; values are quantized per token in groups "
                                       + "along head_dim", at: at,
                                       notes: [.init("model '\(modelName)' defined here", at: models[modelName]?.definedAt),
                                               .init("used together in experiment '\(experiment.name)'", at: experiment.definedAt)])
                        }
                    case .gear(let p), .gearL(let p):
                        let width = headDim * (fact.keyValueHeads ?? 1)
                        if width % p.groupSize != 0 {
                            sink.error("group_size \(p.groupSize) of '\(configurationName)' does not divide the "
                                       + "\(width) key/value channels of model '\(modelName)' (heads × head_dim)", at: at,
                                       notes: [.init("model '\(modelName)' defined here", at: models[modelName]?.definedAt),
                                               .init("used together in experiment '\(experiment.name)'", at: experiment.definedAt)])
                        }
                    default:
                        break
                    }
                }
            }
        }
    }

    /// Under `store` the first token comes from the full-precision prefill: one-token answers cannot move.
    private func checkStoreRegime(experiments: OrderedDictionary<String, Experiment>,
                                  datasets: OrderedDictionary<String, DatasetDefinition>,
                                  configurations: OrderedDictionary<String, CompressionConfiguration>) {
        for experiment in experiments.values {
            let store = experiment.compression.filter {
                guard let configuration = configurations[$0], configuration.weights == nil else { return false }
                return configuration.kv?.regime == .store
            }
            guard !store.isEmpty else { continue }
            let short = experiment.datasets.filter { name in
                guard let dataset = datasets[name] else { return false }
                return experiment.generation.maxNewTokens == 1
                    || dataset.answerTypes.allSatisfy { $0 == .yesno || $0 == .choice }
            }
            guard !short.isEmpty else { continue }
            sink.warning("under regime 'store' the first generated token comes from the full-precision prefill, so the "
                         + "one-token answers of \(Suggestions.oneOf(short)) cannot change with KV-only configurations "
                         + "such as '\(store[0])'; use 'regime: prefix' or 'attention' to measure them",
                         at: experiment.definedAt)
        }
    }

    private func reportUnused(_ entries: [String: OrderedDictionary<String, Entry>], usage: Usage) {
        let checks: [(String, Set<String>)] = [("models", usage.models), ("datasets", usage.datasets),
                                               ("compression", usage.compression)]
        for (section, used) in checks {
            for (name, entry) in entries[section] ?? [:] where entry.file.isRoot && !used.contains(name) {
                let kind = section == "compression" ? "compression configuration" : Self.singular(section)
                sink.warning("\(kind) '\(name)' is defined but not used by any experiment", at: entry.keyRange)
            }
        }
    }
}

/// Collapses `.`, `..` and repeated slashes in a path without touching the file system.
func normalize(_ path: String) -> String {
    let absolute = path.hasPrefix("/")
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
        if part == "..", absolute { continue }
        parts.append(part)
    }
    let joined = parts.joined(separator: "/")
    return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
}
