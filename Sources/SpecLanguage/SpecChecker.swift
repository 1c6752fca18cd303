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

    // MARK: - Cross checks

    /// Checks that need `config.json`: group sizes that must divide head_dim, and the image token.
    func checkCheckpoints(experiments: OrderedDictionary<String, Experiment>,
                                  models: OrderedDictionary<String, ModelDefinition>,
                                  configurations: OrderedDictionary<String, CompressionConfiguration>,
                                  origins: [String: [String: SourceRange]]) {
        var facts: [String: CheckpointFacts] = [:]
        let usedModels = Set(experiments.values.flatMap(\.models))
        for model in models.values where usedModels.contains(model.name) {
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
            // Models with the same shape behave alike: check each shape against each configuration once,
            // so the work grows with models + configurations, not with their product.
            var modelsByShape: [Shape: [String]] = [:]
            for modelName in experiment.models {
                guard let fact = facts[modelName], let headDim = fact.headDim else { continue }
                modelsByShape[Shape(headDim: headDim, keyValueHeads: fact.keyValueHeads ?? 1), default: []].append(modelName)
            }
            guard !modelsByShape.isEmpty else { continue }
            var groupSizes: [String: (groupSize: Int, perHead: Bool)] = [:]
            for configurationName in experiment.compression {
                switch configurations[configurationName]?.kv?.method {
                case .group(let p), .kivi(let p):
                    // FlexGen groups by head_dim index: no group size to fit.
                    if p.variant == .kivi { groupSizes[configurationName] = (p.groupSize, true) }
                case .gear(let p), .gearL(let p): groupSizes[configurationName] = (p.groupSize, false)
                default: break
                }
            }
            for (shape, modelNames) in modelsByShape {
                for configurationName in experiment.compression {
                    guard let (groupSize, perHead) = groupSizes[configurationName] else { continue }
                    let width = perHead ? shape.headDim : shape.headDim * shape.keyValueHeads
                    guard width % groupSize != 0 else { continue }
                    let origin = origins[configurationName] ?? [:]
                    let at = origin["kv.group_size"] ?? origin[""] ?? experiment.definedAt
                    for modelName in modelNames {
                        let problem = perHead
                            ? "does not divide head_dim \(width) of model '\(modelName)'; values are quantized per token "
                                + "in groups along head_dim"
                            : "does not divide the \(width) key/value channels of model '\(modelName)' (heads × head_dim)"
                        sink.error("group_size \(groupSize) of '\(configurationName)' " + problem, at: at,
                                   notes: [.init("model '\(modelName)' defined here", at: models[modelName]?.definedAt),
                                           .init("used together in experiment '\(experiment.name)'", at: experiment.definedAt)])
                    }
                }
            }
        }
    }

    private struct Shape: Hashable {
        var headDim: Int
        var keyValueHeads: Int
    }

    /// Under `store` the first token comes from the full-precision prefill: one-token answers cannot move.
    func checkStoreRegime(experiments: OrderedDictionary<String, Experiment>,
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

    func reportUnused(_ entries: [String: OrderedDictionary<String, Entry>], usage: Usage) {
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
