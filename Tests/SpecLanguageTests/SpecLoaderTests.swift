import Foundation
import OrderedCollections
import Testing
import TestSupport
@testable import SpecLanguage

/// Loads `Tests/Fixtures/spec/<path>` with paths shown relative to that folder.
func loadFixture(_ path: String) -> SpecLoadResult {
    SpecLoader(currentDirectory: Fixtures.url("spec").path).load(path: path)
}

/// Checks in-memory files: `files` maps names under `/mem/` to text; the root is `root.yaml`.
func loadInMemory(_ files: [String: String], root: String = "root.yaml",
                  checkpoints: [String: String] = [:]) -> SpecLoadResult {
    var all: [String: String] = [:]
    for (name, text) in files { all["/mem/" + name] = text }
    for (name, json) in checkpoints { all["/mem/" + name + "/config.json"] = json }
    let fileSystem = InMemorySpecFileSystem(all)
    return SpecLoader(fileSystem: fileSystem, currentDirectory: "/mem").load(path: root)
}

@Suite struct ValidSpecTests {
    @Test func fullExampleParsesToTheExpectedValues() throws {
        let result = loadFixture("valid/full.yaml")
        #expect(result.diagnostics.map(\.description) == [
            "valid/full.yaml:45:3: warning: under regime 'store' the first generated token comes from the full-precision "
                + "prefill, so the one-token answers of 'pope' cannot change with KV-only configurations such as "
                + "'kivi/bits=2'; use 'regime: prefix' or 'attention' to measure them",
        ])
        let spec = try #require(result.spec)
        #expect(spec.name == "full-example")
        #expect(spec.description == "Every section, with lists that expand.")
        #expect(spec.files == ["valid/full.yaml", "valid/common/models.yaml"])

        // Models: paths resolve against the file that defines them.
        #expect(Array(spec.models.keys) == ["gemma", "llama"])
        let gemma = try #require(spec.models["gemma"])
        #expect(gemma.path == "../../models/tiny-gemma")
        #expect(gemma.resolvedPath == Fixtures.url("spec/models/tiny-gemma").standardizedFileURL.path)
        #expect(gemma.dtype == .f32 && gemma.template == .gemma && gemma.preprocess == .pad)
        let llama = try #require(spec.models["llama"])
        #expect(llama.template == .custom("USER: <image>\n{question} ASSISTANT:"))
        #expect(llama.dtype == .auto && llama.preprocess == .resize)

        // Datasets, with format defaults filled in.
        #expect(Array(spec.datasets.keys) == ["pope", "captions", "custom", "shapes"])
        let pope = try #require(spec.datasets["pope"])
        guard case .files(let popeFiles) = pope.source else { Issue.record("pope is not file-based"); return }
        #expect(popeFiles.format == .pope && popeFiles.split == "adversarial" && popeFiles.answerType == .yesno)
        #expect(popeFiles.images == "../data/coco")
        #expect(pope.limit == 50 && pope.metrics == [.accuracy, .f1, .yesRatio])
        #expect(pope.promptSuffix == "Answer the question using a single word or phrase.")
        #expect(spec.datasets["captions"]?.metrics == [.cider, .bleu4, .rougeL])
        #expect(spec.datasets["captions"]?.promptSuffix == "")
        #expect(spec.datasets["custom"]?.answerTypes == [.choice])
        #expect(spec.datasets["custom"]?.metrics == [.accuracy])
        #expect(spec.datasets["custom"]?.promptSuffix == "Pick a letter.")
        let shapes = try #require(spec.datasets["shapes"])
        #expect(shapes.source == .synthetic(SyntheticSuite(suite: .shapes, seed: 7, size: 20,
                                                            probes: [.recognition, .hallucination, .captioning])))
        #expect(shapes.metrics == [.exactMatch, .accuracy, .cider])

        // Compression: expansion names, order and effective parameters.
        #expect(spec.compressionDefinitions["sweep"]?.expandedNames == [
            "sweep/method=uniform/bits=2", "sweep/method=uniform/bits=4", "sweep/method=uniform/bits=8",
            "sweep/method=outlier/bits=2", "sweep/method=outlier/bits=4", "sweep/method=outlier/bits=8",
        ])
        let outlier2 = try #require(spec.configurations["sweep/method=outlier/bits=2"])
        #expect(outlier2.kv == KVCacheQuantization(method: .outlier(outlierFraction: 0.02), bits: 2, regime: .prefix))
        #expect(outlier2.expandedValues == ["method": "outlier", "bits": "2"])
        #expect(outlier2.definition == "sweep")
        #expect(spec.configurations["sweep/method=uniform/bits=8"]?.kv?.method == .uniform(scope: .perTensor))
        #expect(spec.configurations["kivi/bits=4"]?.kv
                == KVCacheQuantization(method: .kivi(GroupKVParameters(groupSize: 16, residual: 128)), bits: 4, regime: .store))
        #expect(spec.configurations["gear"]?.kv == KVCacheQuantization(
            method: .gear(GEARParameters(groupSize: 16, outlierFraction: 0.02, rank: 3, prefillRank: 4, iterations: 3, seed: 0)),
            bits: 4, regime: .attention))
        #expect(spec.configurations["w4"]?.weights == WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 64), bits: 4))
        #expect(spec.configurations["w-awq/bits=3"]?.weights == WeightQuantization(
            method: .awq(AWQParameters(groupSize: 128, grid: 20, calibration: "shapes", calibrationSamples: 128)),
            bits: 3, targets: [.lm, .projector]))
        #expect(spec.configurations["baseline"]?.isBaseline == true)
        // A key listed in both sections is prefixed.
        #expect(spec.compressionDefinitions["both"]?.expandedNames == [
            "both/kv.bits=2/weights.bits=4", "both/kv.bits=2/weights.bits=8",
            "both/kv.bits=4/weights.bits=4", "both/kv.bits=4/weights.bits=8",
        ])
        let both = try #require(spec.configurations["both/kv.bits=4/weights.bits=8"])
        #expect(both.kv?.bits == 4 && both.weights?.bits == 8)
        #expect(both.weights?.method == .rtn(scope: .perChannel, groupSize: 0))
        #expect(both.canonicalParameters == [
            "kv.bits=4", "kv.group_size=16", "kv.method=group", "kv.regime=store", "kv.residual=0",
            "weights.bits=8", "weights.method=rtn", "weights.scope=per_channel", "weights.targets=lm",
        ])

        // Experiments: definition names expand; cells = models × datasets × configurations.
        let kv = try #require(spec.experiments["kv"])
        #expect(kv.compression == ["fp16"] + spec.compressionDefinitions["sweep"]!.expandedNames + ["kivi/bits=2", "gear"])
        #expect(kv.cellCount == 2 * 2 * 9)
        #expect(kv.generation == GenerationSettings(maxNewTokens: 8, stop: ["<end_of_turn>", "\n"]))
        #expect(kv.limit == 10)
        let weights = try #require(spec.experiments["weights"])
        #expect(weights.models == ["gemma"])
        #expect(weights.compression.count == 1 + 1 + 2 + 4)
        #expect(weights.generation == GenerationSettings())

        // Tables.
        let table = try #require(spec.tables["kv-main"])
        #expect(table.rows == [.model, .compression] && table.columns == [.dataset, .metric])
        #expect(table.metrics == ["shapes": [.exactMatch], "pope": [.accuracy, .f1]])
        #expect(table.baseline == "fp16" && table.formats == [.md, .csv, .tex] && table.decimals == 1)
        #expect(table.standardErrors && table.caption == "KV-cache quantization" && table.label == "tab:kv")
        let weightsTable = try #require(spec.tables["weights"])
        #expect(weightsTable.experiments == ["weights"] && weightsTable.baseline == "baseline")
        #expect(weightsTable.rows == [.compression] && weightsTable.formats == [.md] && weightsTable.decimals == 2)
        #expect(weightsTable.metrics == ["captions": [.cider, .bleu4, .rougeL], "custom": [.accuracy]])
    }

    @Test(arguments: [
        ("[2, 3, 4, 8]", "[16, 32]", 8),
        ("4", "[16, 32, 64]", 3),
        ("[2, 4]", "16", 2),
        ("4", "16", 1),
    ])
    func listsExpandToTheirProduct(bits: String, groups: String, expected: Int) throws {
        let result = loadInMemory(["root.yaml": """
            models: {m: {path: m, template: gemma}}
            datasets: {d: {suite: shapes, probes: [captioning]}}
            compression:
              k: {kv: {method: kivi, bits: \(bits), group_size: \(groups), residual: 64}}
            experiments:
              e: {models: m, datasets: d, compression: [k]}
            """], checkpoints: ["m": #"{"image_token_index": 5, "text_config": {"head_dim": 64}}"#])
        #expect(!result.diagnostics.containsErrors, "\(result.rendered())")
        let spec = try #require(result.spec)
        #expect(spec.compressionDefinitions["k"]?.expandedNames.count == expected)
        #expect(spec.experiments["e"]?.cellCount == expected)
        #expect(Set(spec.configurations.keys).count == expected + 1) // + fp16
    }

    @Test func jsonlDefaultsFollowItsAnswerType() throws {
        let result = loadInMemory(["root.yaml": """
            models: {m: {path: m, template: llava-v1, preprocess: resize}}
            datasets:
              yn: {format: jsonl, path: yn.jsonl, answer_type: yesno}
              caps: {format: jsonl, path: c.jsonl, answer_type: caption, limit: 3}
            experiments:
              e: {models: m, datasets: [yn, caps], compression: fp16, generation: {max_new_tokens: 1}}
            """], checkpoints: ["m": #"{"image_token_id": 3}"#])
        let spec = try #require(result.spec, "\(result.rendered())")
        #expect(spec.datasets["yn"]?.promptSuffix == "Answer the question using a single word or phrase.")
        #expect(spec.datasets["yn"]?.metrics == [.accuracy])
        #expect(spec.datasets["caps"]?.promptSuffix == "")
        #expect(spec.datasets["caps"]?.metrics == [.cider])
        #expect(spec.datasets["caps"]?.limit == 3)
        #expect(spec.models["m"]?.template == .llavaV1 && spec.models["m"]?.preprocess == .resize)
        #expect(spec.models["m"]?.resolvedPath == "/mem/m")
        // Baseline only: no regime warning even with one-token answers.
        #expect(result.diagnostics.isEmpty)
    }

    @Test func includeCycleIsReportedWithTheChain() {
        let result = loadInMemory([
            "root.yaml": "include: a.yaml\nmodels: {m: {path: m, template: gemma}}\n",
            "a.yaml": "include: [b.yaml]\n",
            "b.yaml": "include: [a.yaml]\n",
        ])
        let errors = result.diagnostics.filter(\.isError)
        #expect(errors.count == 1)
        #expect(errors.first?.message == "include cycle: 'a.yaml' → 'b.yaml' → 'a.yaml'")
        #expect(errors.first?.range.file == "b.yaml")
        #expect(errors.first?.notes.map(\.message) == ["'b.yaml' included from here", "'a.yaml' included from here"])
        #expect(errors.first?.notes.compactMap(\.range?.file) == ["a.yaml", "root.yaml"])
        #expect(result.spec == nil)
    }

    @Test func diamondIncludesLoadOnce() throws {
        let result = loadInMemory([
            "root.yaml": """
                include: [a.yaml, b.yaml]
                experiments: {e: {models: m, datasets: d}}
                """,
            "a.yaml": "include: shared.yaml\n",
            "b.yaml": "include: shared.yaml\n",
            "shared.yaml": "models: {m: {path: m, template: gemma}}\ndatasets: {d: {suite: shapes}}\n",
        ], checkpoints: ["m": #"{"image_token_index": 5}"#])
        #expect(result.diagnostics.isEmpty, "\(result.rendered())")
        let spec = try #require(result.spec)
        #expect(spec.files == ["root.yaml", "a.yaml", "shared.yaml", "b.yaml"])
        #expect(spec.experiments["e"]?.compression == ["fp16"])
        #expect(spec.name == "root")
    }

    @Test func checkpointChecksReadConfigJSON() {
        let spec = """
            models:
              gemma: {path: gemma, template: gemma}
              plain: {path: plain, template: gemma}
              missing: {path: missing, template: gemma}
            datasets: {d: {suite: shapes, probes: [captioning]}}
            compression:
              k: {kv: {method: kivi, group_size: 32}}
              g: {kv: {method: gear, group_size: 32}}
            experiments:
              e: {models: [gemma, plain, missing], datasets: d, compression: [k, g]}
            """
        let result = loadInMemory(["root.yaml": spec], checkpoints: [
            "gemma": #"{"image_token_index": 256, "text_config": {"head_dim": 48, "num_key_value_heads": 1}}"#,
            "plain": #"{"hidden_size": 128, "num_attention_heads": 2}"#,
        ])
        let messages = result.diagnostics.map(\.description)
        #expect(messages.contains(
            "root.yaml:7:38: error: group_size 32 of 'k' does not divide head_dim 48 of model 'gemma'; values are quantized per token in groups along head_dim"))
        #expect(messages.contains(
            "root.yaml:8:38: error: group_size 32 of 'g' does not divide the 48 key/value channels of model 'gemma' (heads × head_dim)"))
        #expect(messages.contains(
            "root.yaml:3:3: error: model 'plain' has no image token: its config.json sets neither 'image_token_index' nor 'image_token_id'; is 'plain' a LLaVA checkpoint?"))
        #expect(messages.contains(
            "root.yaml:4:3: warning: cannot read 'missing/config.json' for model 'missing' (no such file); checks that need the checkpoint (head_dim, image token) are skipped"))
        // plain: head_dim 64 = 128 / 2 and 2 × 64 channels, which 32 divides for kivi and GEAR alike.
        // (A GEAR group_size must divide its 64-token window, so it divides any multiple of 64.)
        #expect(!messages.contains(where: { $0.contains("group_size 32") && $0.contains("model 'plain'") }))
        #expect(result.diagnostics.filter(\.isError).count == 3)
    }

    @Test func checkpointFactsFromRealConfigFiles() throws {
        let read = ConfigFileInspector()
        let gemma = try read.facts(forModelAt: Fixtures.url("spec/models/tiny-gemma").path).get()
        #expect(gemma == CheckpointFacts(headDim: 48, keyValueHeads: 1, imageTokenIndex: 256))
        let llama = try read.facts(forModelAt: Fixtures.url("spec/models/tiny-llama").path).get()
        #expect(llama == CheckpointFacts(headDim: 16, keyValueHeads: 4, imageTokenIndex: 100))
        #expect(CheckpointFacts.parse(configJSON: Array("[1]".utf8)) == .failure(SpecFileError("it is not a JSON object")))
        #expect(CheckpointFacts.parse(configJSON: Array("{".utf8)) == .failure(SpecFileError("it is not valid JSON")))
    }

    @Test(arguments: [
        ("quickstart", ["quickstart": 1 * 1 * 4]),
        ("kv-sweep", ["methods": 2 * 1 * (1 + 6 + 3 + 2 + 2 + 1), "regimes": 1 * 1 * (1 + 3)]),
        ("weight-sweep", ["weights": 2 * 1 * (1 + 12 + 2 + 2 + 2 + 1 + 1)]),
        ("llava-gemma-ablation", ["ablation": 8 * 1 * 2]),
        ("lvlm-compress-bench", ["short-answers": 2 * 6 * (1 + 9 + 4 + 2), "generation": 2 * 3 * (1 + 9 + 4 + 2)]),
    ])
    func shippedSpecsExpandAsDocumented(name: String, cells: [String: Int]) throws {
        let result = SpecLoader(currentDirectory: Fixtures.packageRoot.path).load(path: "Specs/\(name).yaml")
        let spec = try #require(result.spec, "\(result.rendered())")
        #expect(spec.name == name)
        #expect(Dictionary(uniqueKeysWithValues: spec.experiments.values.map { ($0.name, $0.cellCount) }) == cells)
        #expect(spec.tables.count >= 1)
    }

    @Test func shippedSpecsHaveNoErrors() throws {
        let root = Fixtures.packageRoot
        let specs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Specs").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(specs.count >= 4)
        for name in specs {
            let result = SpecLoader(currentDirectory: root.path).load(path: "Specs/" + name)
            #expect(!result.diagnostics.containsErrors, "\(result.rendered())")
            #expect(result.spec.map { !$0.experiments.isEmpty } == true, "\(name)")
            // Only the checkpoints may be missing (they ship later); nothing else may warn.
            for diagnostic in result.diagnostics {
                #expect(diagnostic.message.hasPrefix("cannot read '"), "\(diagnostic)")
            }
        }
    }
}
