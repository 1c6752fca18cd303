import OrderedCollections

/// Reading `compression:`, `experiments:` and `tables:`, resolving every name they refer to.
extension SpecChecker {
    // MARK: - Compression

    func decodeCompression(_ entries: OrderedDictionary<String, Entry>,
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

    static let experimentKeys = ["models", "datasets", "compression", "generation", "limit"]

    func decodeExperiments(_ entries: OrderedDictionary<String, Entry>,
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
            sink.checkKeys(pairs, allowed: Self.experimentKeys, in: what)
            var ok = true

            func names(_ key: String, kind: String, required: Bool) -> [(String, SourceRange)]? {
                guard let node = pairs[key: key] else {
                    if required, !sink.isMisspelled(key, in: pairs, allowed: Self.experimentKeys) {
                        sink.error("\(what) needs '\(key):' (a list of \(kind) names)", at: entry.keyRange)
                    }
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
            if let list = names("models", kind: "model", required: true) {
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
            if let list = names("datasets", kind: "dataset", required: true) {
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
            if let list = names("compression", kind: "compression configuration", required: false) {
                let references = list.isEmpty ? [("fp16", entry.keyRange)] : list
                var included: [String: String] = [:]
                for (reference, range) in references {
                    usage.compression.insert(String(reference.prefix { $0 != "/" }))
                    guard let expanded = resolveConfiguration(reference, definitions: definitions,
                                                              configurations: configurations) else {
                        let definition = String(reference.prefix { $0 != "/" })
                        // A definition with errors is already reported; a bad expansion of a good one is not.
                        if all["compression"]?[definition] == nil || definitions[definition] != nil {
                            reportUndefined("compression configuration", reference, at: range,
                                            candidates: configurationCandidates(for: reference, definitions: definitions,
                                                                                names: Array((all["compression"] ?? [:]).keys)))
                        }
                        ok = false
                        continue
                    }
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
    func resolveConfiguration(_ reference: String, definitions: OrderedDictionary<String, CompressionDefinition>,
                                      configurations: OrderedDictionary<String, CompressionConfiguration>) -> [String]? {
        if let definition = definitions[reference] { return definition.expandedNames }
        if configurations[reference] != nil { return [reference] }
        let compact = reference.filter { $0 != " " }
        if configurations[compact] != nil { return [compact] }
        return nil
    }

    /// Names to suggest for a bad configuration reference: the expansions of its own entry when it
    /// names one (`kivi/bits=3`), else the entry names, so suggestions stay cheap for huge sweeps.
    func configurationCandidates(for reference: String, definitions: OrderedDictionary<String, CompressionDefinition>,
                                 names: [String]) -> [String] {
        let entry = String(reference.prefix { $0 != "/" })
        if reference.contains("/"), let definition = definitions[entry] { return definition.expandedNames }
        return ["fp16"] + names
    }

    func reportUndefined(_ kind: String, _ name: String, at range: SourceRange, candidates: [String]) {
        // Searching a huge sweep for every one of thousands of typos would make checking quadratic.
        var suggestion = ""
        if candidates.count <= 1_000 || sink.takeLargeSuggestionSearch() {
            suggestion = Suggestions.didYouMean(name, in: candidates)
        }
        sink.error("undefined \(kind) '\(name)'" + suggestion, at: range)
    }

    // MARK: - Tables

    func decodeTables(_ entries: OrderedDictionary<String, Entry>,
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
                                    candidates: configurationCandidates(for: text, definitions: definitions,
                                                                        names: Array(definitions.keys)))
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

    func readTableMetrics(_ node: YAMLNode, dataset: DatasetDefinition, table: String) -> [Metric]? {
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

    func readDimensions(_ node: YAMLNode, _ key: String, placed: inout [TableDimension: SourceRange]) -> [TableDimension]? {
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
}
