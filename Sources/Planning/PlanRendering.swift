import Foundation
import SpecLanguage

/// Renders a plan for people (`lcb plan`) and for programs (`lcb plan --json`). Pure.
public enum PlanRendering {
    /// Most cells the text summary lists one per line; `--json` lists them all.
    public static let listedCells = 100

    /// The human-readable summary: cells, jobs per kind naive vs planned, the saving, compute.
    public static func text(_ plan: Plan, specs: [String]) -> String {
        var out = ""
        func line(_ text: String = "") { out += text + "\n" }

        line("plan \(plan.hash.short)\(plan.isDeduplicated ? "" : " (naive: --no-dedup)")"
             + (plan.isProvisional ? " — provisional: some keys stand for paths or stand-in samples" : ""))
        line("specs: \(specs.joined(separator: ", "))")
        let merged = plan.requestedCells - plan.cells.count
        line("cells: \(plan.cells.count)" + (merged > 0 ? " (\(plan.requestedCells) requested; \(merged) identical ones planned once)" : ""))
        for model in plan.models {
            var facts = "  model \(model.descriptor.name): \(model.descriptor.path)"
            if let architecture = model.inspection.architecture {
                facts += " — \(architecture.language.modelType) \(architecture.language.layers) layers, hidden \(architecture.language.hiddenSize)"
                    + ", \(architecture.imageTokens) image tokens"
            } else {
                facts += " — config.json unreadable: cost unknown"
            }
            line(facts)
        }
        for dataset in plan.datasets {
            line("  dataset \(dataset.descriptor.name): \(dataset.samples.samples.count) samples"
                 + (dataset.samples.isProvisional ? " (stand-in)" : ""))
        }
        line()

        if !plan.cells.isEmpty {
            let rows = plan.cells.prefix(listedCells).map { cell -> [String] in
                let label = cell.labels[0]
                let also = cell.labels.count > 1 ? " (+\(cell.labels.count - 1))" : ""
                return [label.experiment + also, label.model, label.compression, label.dataset, cell.cell.regime.rawValue,
                        "\(cell.sampleCount)", cell.key.short]
            }
            out += table(header: ["experiment", "model", "compression", "dataset", "regime", "samples", "cell key"],
                         rows: rows, rightAligned: [5])
            if plan.cells.count > listedCells { line("  … \(plan.cells.count - listedCells) more cells (`--json` lists them all)") }
            line()
        }

        var rows: [[String]] = []
        for kind in JobKind.allCases {
            let naive = plan.naive.counts[kind] ?? 0, planned = plan.planned.counts[kind] ?? 0
            rows.append([label(kind), "\(naive)", "\(planned)", saving(naive: Double(naive), planned: Double(planned))])
        }
        rows.append(["total", "\(plan.naive.total)", "\(plan.planned.total)",
                     saving(naive: Double(plan.naive.total), planned: Double(plan.planned.total))])
        out += table(header: ["jobs", "naive", "planned", "saved"], rows: rows, rightAligned: [1, 2, 3])
        line()

        if plan.planned.total > 0, plan.planned.unknownCost == plan.planned.total - (plan.planned.counts[.scoring] ?? 0) {
            line("estimated compute: unknown (no model's config.json could be read)")
        } else {
            line("estimated compute: planned \(compute(plan.planned)); naive \(compute(plan.naive));"
                 + " saves \(saving(naive: plan.naive.cost.flops, planned: plan.planned.cost.flops)) of FLOPs")
            if plan.planned.unknownCost > 0 {
                line("  not counted: \(plan.planned.unknownCost) jobs of models whose config.json is unreadable")
            }
        }
        if !plan.notes.isEmpty {
            line()
            line("notes:")
            for note in plan.notes { line("  - \(note)") }
        }
        return out
    }

    static func label(_ kind: JobKind) -> String { kind.rawValue.replacingOccurrences(of: "_", with: " ") }

    static func saving(naive: Double, planned: Double) -> String {
        guard naive > 0 else { return "—" }
        return percent(1 - planned / naive)
    }

    public static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))%"
    }

    static func compute(_ tally: JobTally) -> String {
        "\(scaled(tally.cost.flops, unit: "FLOP")) (\(scaled(tally.cost.bytes, unit: "B")) moved)"
    }

    /// `1.23 TFLOP`: three significant digits, SI prefixes, locale-independent.
    public static func scaled(_ value: Double, unit: String) -> String {
        let prefixes = ["", "k", "M", "G", "T", "P", "E", "Z"]
        var scaled = value, index = 0
        while scaled >= 1000, index < prefixes.count - 1 { scaled /= 1000; index += 1 }
        let hundredths = Int((scaled * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) \(prefixes[index])\(unit)"
    }

    static func table(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var out = ""
        for row in all {
            let cells = row.indices.map { column -> String in
                let padding = String(repeating: " ", count: widths[column] - row[column].count)
                return rightAligned.contains(column) ? padding + row[column] : row[column] + padding
            }
            out += "  " + cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }
        return out
    }

    // MARK: JSON

    /// The whole plan as JSON, in plan order (stable: the same specs give the same bytes).
    public static func json(_ plan: Plan, specs: [String]) -> String {
        var writer = JSONWriter()
        writer.object {
            $0.member("format") { $0.string("lcb-plan-1") }
            $0.member("hash") { $0.string(plan.hash.hex) }
            $0.member("specs") { writer in writer.array(specs) { $0.string($1) } }
            $0.member("deduplicated") { $0.bool(plan.isDeduplicated) }
            $0.member("provisional") { $0.bool(plan.isProvisional) }
            $0.member("requested_cells") { $0.int(plan.requestedCells) }
            $0.member("summary") { writer in
                writer.object {
                    $0.member("naive") { tally(&$0, plan.naive) }
                    $0.member("planned") { tally(&$0, plan.planned) }
                }
            }
            $0.member("notes") { writer in writer.array(plan.notes) { $0.string($1) } }
            $0.member("models") { writer in writer.array(plan.models) { model(&$0, $1) } }
            $0.member("datasets") { writer in writer.array(plan.datasets) { dataset(&$0, $1) } }
            $0.member("cells") { writer in writer.array(plan.cells) { cell(&$0, $1) } }
            $0.member("jobs") { writer in writer.array(Array(plan.jobs.enumerated())) { job(&$0, id: $1.offset, $1.element) } }
        }
        writer.raw("\n")
        return writer.text
    }

    private static func tally(_ writer: inout JSONWriter, _ tally: JobTally) {
        writer.object {
            $0.member("jobs") { writer in
                writer.object { members in
                    for kind in JobKind.allCases { members.member(kind.rawValue) { $0.int(tally.counts[kind] ?? 0) } }
                }
            }
            $0.member("total") { $0.int(tally.total) }
            $0.member("flops") { $0.number(tally.cost.flops) }
            $0.member("bytes") { $0.number(tally.cost.bytes) }
            $0.member("unknown_cost_jobs") { $0.int(tally.unknownCost) }
        }
    }

    private static func model(_ writer: inout JSONWriter, _ model: PlannedModel) {
        let identity = model.inspection.identity
        writer.object {
            $0.member("name") { $0.string(model.descriptor.name) }
            $0.member("path") { $0.string(model.descriptor.path) }
            $0.member("dtype") { $0.string(model.descriptor.dtype.rawValue) }
            $0.member("template") { $0.string(model.descriptor.template.text) }
            $0.member("preprocessing") { $0.string(model.descriptor.preprocessing.rawValue) }
            $0.member("identity") { writer in
                writer.object {
                    $0.member("weights") { $0.string(identity.weights.hex) }
                    $0.member("tokenizer") { $0.string(identity.tokenizer.hex) }
                    $0.member("preprocessor") { $0.string(identity.preprocessor.hex) }
                    $0.member("provisional") { $0.bool(identity.isProvisional) }
                }
            }
            $0.member("architecture") { writer in
                guard let architecture = model.inspection.architecture else { writer.raw("null"); return }
                writer.object {
                    $0.member("language_model_type") { $0.string(architecture.language.modelType) }
                    $0.member("hidden_size") { $0.int(architecture.language.hiddenSize) }
                    $0.member("layers") { $0.int(architecture.language.layers) }
                    $0.member("heads") { $0.int(architecture.language.heads) }
                    $0.member("kv_heads") { $0.int(architecture.language.kvHeads) }
                    $0.member("head_dim") { $0.int(architecture.language.headDim) }
                    $0.member("intermediate_size") { $0.int(architecture.language.intermediateSize) }
                    $0.member("vocab_size") { $0.int(architecture.language.vocabSize) }
                    $0.member("image_tokens") { $0.int(architecture.imageTokens) }
                    $0.member("stored_dtype") { $0.string(architecture.storedDType) }
                }
            }
        }
    }

    private static func dataset(_ writer: inout JSONWriter, _ dataset: PlannedDataset) {
        writer.object {
            $0.member("name") { $0.string(dataset.descriptor.name) }
            $0.member("prompt_suffix") { $0.string(dataset.descriptor.promptSuffix) }
            $0.member("metrics") { writer in writer.array(dataset.descriptor.metrics) { $0.string($1.rawValue) } }
            $0.member("provisional") { $0.bool(dataset.samples.isProvisional) }
            $0.member("samples") { writer in
                writer.array(dataset.samples.samples) { writer, sample in
                    writer.object {
                        $0.member("id") { $0.string(sample.id) }
                        $0.member("image") { writer in
                            if let image = sample.image { writer.string(image.hex) } else { writer.raw("null") }
                        }
                    }
                }
            }
        }
    }

    private static func cell(_ writer: inout JSONWriter, _ cell: PlannedCell) {
        writer.object {
            $0.member("key") { $0.string(cell.key.hex) }
            $0.member("labels") { writer in
                writer.array(cell.labels) { writer, label in
                    writer.object {
                        $0.member("spec") { $0.string(label.specFile) }
                        $0.member("experiment") { $0.string(label.experiment) }
                        $0.member("model") { $0.string(label.model) }
                        $0.member("compression") { $0.string(label.compression) }
                        $0.member("dataset") { $0.string(label.dataset) }
                    }
                }
            }
            $0.member("model") { $0.int(cell.model) }
            $0.member("dataset") { $0.int(cell.dataset) }
            $0.member("regime") { $0.string(cell.cell.regime.rawValue) }
            $0.member("weights") { $0.raw(cell.cell.weights?.canonical.canonicalText ?? "null") }
            $0.member("kv") { $0.raw(cell.cell.kv?.canonical.canonicalText ?? "null") }
            $0.member("generation") { $0.raw(cell.cell.generation.canonical.canonicalText) }
            $0.member("samples") { $0.int(cell.sampleCount) }
            $0.member("decode_jobs") { writer in writer.array(cell.decodeJobs) { $0.int($1) } }
            $0.member("scoring_jobs") { writer in writer.array(cell.scoringJobs) { $0.int($1) } }
        }
    }

    private static func job(_ writer: inout JSONWriter, id: Int, _ job: Job) {
        writer.object {
            $0.member("id") { $0.int(id) }
            $0.member("kind") { $0.string(job.kind.rawValue) }
            $0.member("key") { $0.string(job.key.hex) }
            $0.member("dependencies") { writer in writer.array(job.dependencies) { $0.int($1) } }
            $0.member("flops") { writer in if let cost = job.cost { writer.number(cost.flops) } else { writer.raw("null") } }
            $0.member("bytes") { writer in if let cost = job.cost { writer.number(cost.bytes) } else { writer.raw("null") } }
            $0.member("work") { work(&$0, job.work) }
        }
    }

    private static func work(_ writer: inout JSONWriter, _ work: JobWork) {
        func sample(_ writer: inout JSONWriter, _ reference: SampleReference) {
            writer.object {
                $0.member("dataset") { $0.int(reference.dataset) }
                $0.member("index") { $0.int(reference.index) }
            }
        }
        writer.object {
            switch work {
            case let .quantizeWeights(model, weights):
                $0.member("model") { $0.int(model) }
                $0.member("weights") { $0.raw(weights.canonical.canonicalText) }
            case let .encodeImage(model, weights, reference):
                $0.member("model") { $0.int(model) }
                $0.member("weights") { $0.raw(weights?.canonical.canonicalText ?? "null") }
                $0.member("sample") { sample(&$0, reference) }
            case let .prefill(model, weights, reference, kv):
                $0.member("model") { $0.int(model) }
                $0.member("weights") { $0.raw(weights?.canonical.canonicalText ?? "null") }
                $0.member("sample") { sample(&$0, reference) }
                $0.member("kv") { $0.raw(kv?.canonical.canonicalText ?? "null") }
            case let .prefillPrefix(model, weights, reference):
                $0.member("model") { $0.int(model) }
                $0.member("weights") { $0.raw(weights?.canonical.canonicalText ?? "null") }
                $0.member("sample") { sample(&$0, reference) }
            case let .decode(cell, index), let .score(cell, index):
                $0.member("cell") { $0.int(cell) }
                $0.member("sample") { $0.int(index) }
            }
        }
    }
}

/// A minimal streaming JSON writer: members in the order written, no whitespace.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    var text: String { String(decoding: bytes, as: UTF8.self) }

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func string(_ value: String) { CanonicalEncoder.appendJSONString(value, to: &bytes) }
    mutating func int(_ value: Int) { raw(String(value)) }
    mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }
    /// Integral values print as integers, others in Swift's shortest round-trip form.
    mutating func number(_ value: Double) {
        if value.isFinite, value == value.rounded(), abs(value) < 9e15 { raw(String(Int64(value))) }
        else if value.isFinite { raw(String(describing: value)) }
        else { raw("null") }
    }

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        raw("{")
        needsComma.append(false)
        body(&self)
        needsComma.removeLast()
        raw("}")
    }

    mutating func member(_ name: String, _ value: (inout JSONWriter) -> Void) {
        separate()
        string(name)
        raw(":")
        value(&self)
    }

    mutating func array<T>(_ elements: [T], _ element: (inout JSONWriter, T) -> Void) {
        raw("[")
        needsComma.append(false)
        for item in elements {
            separate()
            element(&self, item)
        }
        needsComma.removeLast()
        raw("]")
    }

    private mutating func separate() {
        if needsComma.last == true { raw(",") }
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = true }
    }
}
