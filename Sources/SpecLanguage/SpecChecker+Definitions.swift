import OrderedCollections

/// Reading `models:` and `datasets:` entries into typed definitions.
extension SpecChecker {
    // MARK: - Models

    static let modelKeys = ["path", "dtype", "template", "preprocess"]

    func decodeModels(_ entries: OrderedDictionary<String, Entry>) -> OrderedDictionary<String, ModelDefinition> {
        var out: OrderedDictionary<String, ModelDefinition> = [:]
        for (name, entry) in entries {
            let what = "model '\(name)'"
            guard let pairs = sink.mapping(entry.value, what) else { continue }
            sink.checkKeys(pairs, allowed: Self.modelKeys, in: what)
            var ok = true
            var path: String?
            if let node = pairs[key: "path"] {
                path = sink.string(node, "'path' of \(what)")
                if path?.isEmpty == true { sink.error("'path' of \(what) is empty", at: node.range); path = nil }
            } else if !sink.isMisspelled("path", in: pairs, allowed: Self.modelKeys) {
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
            } else if !sink.isMisspelled("template", in: pairs, allowed: Self.modelKeys) {
                sink.error("\(what) needs 'template:' (one of \(Suggestions.oneOf(PromptTemplate.Name.allCases.map(\.rawValue))), "
                           + "or a custom text with '<image>' and '{question}')", at: entry.keyRange)
            }
            guard ok, let path, let template else { continue }
            out[name] = ModelDefinition(name: name, path: path, resolvedPath: resolve(path, in: entry.file),
                                        dtype: dtype, template: template, preprocess: preprocess, definedAt: entry.keyRange)
        }
        return out
    }

    func readTemplate(_ node: YAMLNode) -> PromptTemplate? {
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

    func resolve(_ path: String, in file: LoadedFile) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        return normalize(file.directory + "/" + path)
    }

    // MARK: - Datasets

    static let syntheticKeys = ["suite", "seed", "size", "probes"]
    static let fileKeys = ["format", "path", "images", "split", "answer_type"]
    static let sharedDatasetKeys = ["limit", "prompt_suffix", "metrics"]

    func decodeDatasets(_ entries: OrderedDictionary<String, Entry>) -> OrderedDictionary<String, DatasetDefinition> {
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
            case .files(let files): promptSuffix = files.answerType.defaultPromptSuffix
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
            // Yes/no probes are scored as POPE/HallusionBench are: their headline metric is accuracy.
            if types.contains(.yesno) { metrics.append(.accuracy) }
            if types.contains(.caption) { metrics.append(.cider) }
            if types.contains(.counterfactual) { metrics.append(.answerDisparity) }
            return metrics
        }
    }

    func readSynthetic(_ pairs: [YAMLPair], what: String) -> SyntheticSuite? {
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
    func readFiles(_ pairs: [YAMLPair], what: String, file: LoadedFile, ok: inout Bool) -> DatasetFiles? {
        guard let formatNode = pairs[key: "format"],
              let format = sink.choice(formatNode, "dataset format", DatasetFormat.self) else { ok = false; return nil }
        var path: String?
        if let node = pairs[key: "path"] {
            path = sink.string(node, "'path' of \(what)")
            if path == nil { ok = false }
        } else {
            if !sink.isMisspelled("path", in: pairs, allowed: Self.fileKeys + Self.sharedDatasetKeys) {
                sink.error("\(what) needs 'path:' (where its \(format.rawValue) files are)", at: formatNode.range)
            }
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

    func readMetrics(_ node: YAMLNode, for dataset: DatasetDefinition) -> [Metric]? {
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
}
