import Planning
import SpecLanguage
import Testing

/// From YAML to plans: what the spec spells differently must plan identically.
@Suite struct SpecExpansionTests {
    func load(_ text: String, path: String = "/specs/a.yaml") throws -> Spec {
        let result = SpecLoader().load(text: text, path: path)
        #expect(!result.diagnostics.containsErrors, "\(result.rendered())")
        return try #require(result.spec)
    }

    static let kvSpec = """
        name: kv
        models:
          gemma: {path: /models/gemma, template: gemma}
        datasets:
          shapes: {suite: shapes, seed: 3, size: 4, probes: [recognition, spatial]}
        compression:
          kivi:
            kv: {method: group, bits: [2, 4], regime: prefix}
        experiments:
          sweep:
            models: gemma
            datasets: shapes
            compression: [fp16, kivi]
            generation: {max_new_tokens: 8}
        """

    /// The same settings, with keys reordered, defaults written out and other names.
    static let kvSpecRespelled = """
        experiments:
          other-name:
            generation: {max_new_tokens: 8}
            compression: [fp16, g2, g4]
            datasets: synthetic
            models: model
        compression:
          g4:
            kv: {regime: prefix, group_size: 128, bits: 4, method: group}
          g2:
            kv: {bits: 2, method: group, regime: prefix, residual: 0}
        datasets:
          synthetic: {probes: [recognition, spatial], size: 4, seed: 3, suite: shapes}
        models:
          model: {template: gemma, path: /models/gemma}
        name: respelled
        """

    func plan(_ specs: [Spec], dedup: Bool = true) throws -> Plan {
        try Planner(inspector: FixtureInspector(), samples: StandInSampleSource(), deduplicate: dedup)
            .plan(specs.flatMap { $0.cells() })
    }

    @Test func gridExpandsModelsConfigurationsAndDatasets() throws {
        let spec = try load(Self.kvSpec)
        let cells = spec.cells()
        #expect(cells.count == 3)
        #expect(cells.map(\.label.compression) == ["fp16", "kivi/bits=2", "kivi/bits=4"])
        #expect(cells.map(\.kv?.bits) == [nil, 2, 4])
        #expect(cells.allSatisfy { $0.label.experiment == "sweep" && $0.label.dataset == "shapes" })
        let plan = try plan([spec])
        // 8 stand-in samples (4 per probe), one image each.
        #expect(plan.count(.visionEncoding) == 8)
        #expect(plan.count(.prefill) == 8)
        #expect(plan.count(.prefixPrefill) == 8)
        #expect(plan.count(.decode) == 24)
    }

    @Test func orderNamesAndExplicitDefaultsDoNotChangeThePlan() throws {
        let first = try plan([try load(Self.kvSpec)])
        let second = try plan([try load(Self.kvSpecRespelled, path: "/specs/b.yaml")])
        #expect(first.hash == second.hash)
        #expect(first.jobs.map(\.key) == second.jobs.map(\.key))
    }

    @Test func specsGivenTogetherShareIdenticalCells() throws {
        let together = try plan([try load(Self.kvSpec), try load(Self.kvSpecRespelled, path: "/specs/b.yaml")])
        #expect(together.requestedCells == 6)
        #expect(together.cells.count == 3)
        #expect(together.cells.map { $0.labels.map(\.specFile) } == Array(repeating: ["/specs/a.yaml", "/specs/b.yaml"], count: 3))
        #expect(together.count(.decode) == 24)
        #expect(try plan([try load(Self.kvSpec)]).jobs.count == together.jobs.count)
    }

    @Test func calibrationKeysTheDatasetNotItsName() throws {
        func spec(calibration: String, seed: Int) -> String {
            """
            models:
              gemma: {path: /models/gemma, template: gemma}
            datasets:
              shapes: {suite: shapes, seed: 3, size: 2, probes: [recognition]}
              \(calibration): {suite: shapes, seed: \(seed), size: 8, probes: [recognition]}
            compression:
              awq:
                weights: {method: awq, bits: 4, calibration: \(calibration)}
            experiments:
              e: {models: gemma, datasets: shapes, compression: awq}
            """
        }
        let quantization = { (text: String) throws -> Set<ContentKey> in
            try self.plan([try self.load(text)]).keys(.weightQuantization)
        }
        let base = try quantization(spec(calibration: "calib", seed: 1))
        #expect(base.count == 1)
        #expect(try quantization(spec(calibration: "other-name", seed: 1)) == base)
        #expect(try quantization(spec(calibration: "calib", seed: 2)) != base)
    }
}
