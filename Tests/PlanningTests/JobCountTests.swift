import Planning
import SpecLanguage
import Testing

/// The counting example: 3 KV methods × 3 bit widths × 2 datasets on one model.
/// pope: 4 images × 3 questions; vqa: 5 images × 1 question → 17 samples, 9 images, 18 cells.
@Suite struct JobCountTests {
    static let samples = 17, images = 9, configs = 9

    @Test func storeSharesOnePrefillPerSample() throws {
        let plan = try planner().plan(cells(kv: kvSweep(.store)))
        #expect(plan.cells.count == 18)
        #expect(plan.count(.visionEncoding) == Self.images)
        #expect(plan.count(.prefill) == Self.samples)
        #expect(plan.count(.prefixPrefill) == 0)
        #expect(plan.count(.decode) == Self.configs * Self.samples)
        #expect(plan.count(.scoring) == Self.configs * Self.samples)
        #expect(plan.count(.weightQuantization) == 0)
    }

    @Test func prefixSharesOnePrefixPrefillPerImage() throws {
        let plan = try planner().plan(cells(kv: kvSweep(.prefix)))
        #expect(plan.count(.visionEncoding) == Self.images)
        #expect(plan.count(.prefixPrefill) == Self.images)
        #expect(plan.count(.prefill) == 0)
        #expect(plan.count(.decode) == Self.configs * Self.samples)
    }

    @Test func attentionSharesOnlyVisionFeatures() throws {
        let plan = try planner().plan(cells(kv: kvSweep(.attention)))
        #expect(plan.count(.visionEncoding) == Self.images)
        #expect(plan.count(.prefill) == Self.configs * Self.samples)
        #expect(plan.count(.decode) == Self.configs * Self.samples)
    }

    @Test func baselineSharesTheStorePrefill() throws {
        let plan = try planner().plan(cells(kv: [nil] + kvSweep(.store)))
        #expect(plan.count(.prefill) == Self.samples)
        #expect(plan.count(.decode) == (Self.configs + 1) * Self.samples)
    }

    @Test func naiveCountsEveryCellsOwnWork() throws {
        let naive = try planner(dedup: false).plan(cells(kv: kvSweep(.prefix)))
        let perKind = Self.configs * Self.samples
        #expect(naive.count(.visionEncoding) == perKind)
        #expect(naive.count(.prefixPrefill) == perKind)
        #expect(naive.count(.decode) == perKind)
        #expect(naive.count(.scoring) == perKind)
        #expect(naive.jobs.count == 4 * perKind)
        #expect(naive.naive == naive.planned)
        // The deduplicated plan reports the same naive tally, and the same set of keys.
        let planned = try planner().plan(cells(kv: kvSweep(.prefix)))
        #expect(planned.naive.counts == naive.naive.counts)
        #expect(Set(planned.jobs.map(\.key)) == Set(naive.jobs.map(\.key)))
        #expect(planned.planned.total == Self.images * 2 + 2 * perKind)
    }

    @Test func lmOnlyWeightsShareVisionFeaturesButNotPrefills() throws {
        let rtn = WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 128), bits: 4)
        let plan = try planner().plan(cells(weights: [nil, rtn], kv: kvSweep(.store)))
        #expect(plan.count(.weightQuantization) == 1)
        #expect(plan.count(.visionEncoding) == Self.images)
        #expect(plan.count(.prefill) == 2 * Self.samples)
        // Every job that computes with the quantized LM waits for the quantization job.
        let quantizeJob = plan.jobs.firstIndex { $0.kind == .weightQuantization }
        let dependent = plan.jobs.filter { $0.dependencies.contains(quantizeJob ?? -1) }
        #expect(dependent.filter { $0.kind == .prefill }.count == Self.samples)
        #expect(dependent.filter { $0.kind == .visionEncoding }.isEmpty)
    }

    @Test func visionTargetsSplitTheVisionFeatures() throws {
        let both = WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 128), bits: 4,
                                      targets: [.lm, .projector, .visionTower])
        let plan = try planner().plan(cells(weights: [nil, both], kv: kvSweep(.store)))
        #expect(plan.count(.visionEncoding) == 2 * Self.images)
    }

    @Test func projectorOnlyWeightsChangeFeaturesAndSoPrefills() throws {
        // The LM's weights are untouched, but the prefill reads different vision features.
        let projector = WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 128), bits: 4, targets: [.projector])
        let plan = try planner().plan(cells(weights: [nil, projector], kv: kvSweep(.store)))
        #expect(plan.count(.visionEncoding) == 2 * Self.images)
        #expect(plan.count(.prefill) == 2 * Self.samples)
        #expect(plan.count(.decode) == 2 * Self.configs * Self.samples)
    }

    @Test func identicalCellsAcrossExperimentsAndSpecsArePlannedOnce() throws {
        let first = cells(kv: kvSweep(.store), experiment: "kv-sweep", specFile: "a.yaml")
        let second = cells(kv: Array(kvSweep(.store).prefix(3)), experiment: "ablation", specFile: "b.yaml")
        let plan = try planner().plan(first + second)
        #expect(plan.requestedCells == 24)
        #expect(plan.cells.count == 18)
        #expect(plan.cells.filter { $0.labels.count == 2 }.count == 6)
        #expect(plan.cells.first?.labels.map(\.specFile) == ["a.yaml", "b.yaml"])
        #expect(plan.count(.decode) == Self.configs * Self.samples)
        #expect(plan.naive.counts[.decode] == 12 * Self.samples)
        let naive = try planner(dedup: false).plan(first + second)
        #expect(naive.cells.count == 24)
    }

    @Test func sampleLimitsTakeTheFirstSamples() throws {
        var limited = cells(kv: [nil], datasets: [dataset("pope")])
        limited[0].sampleLimit = 5
        let plan = try planner().plan(limited)
        #expect(plan.cells[0].sampleCount == 5)
        #expect(plan.count(.visionEncoding) == 2)
        #expect(plan.count(.decode) == 5)
    }

    @Test func unreadableConfigGivesUnknownCost() throws {
        let plan = try planner(inspector: FixtureInspector(configFixture: nil)).plan(cells(kv: kvSweep(.store)))
        #expect(plan.planned.unknownCost == plan.jobs.filter { $0.kind != .scoring }.count)
        #expect(plan.notes.contains { $0.contains("no config") })
        #expect(plan.jobs.allSatisfy { $0.kind == .scoring ? $0.cost == .zero : $0.cost == nil })
    }

    @Test func dependenciesComeFirst() throws {
        let plan = try planner().plan(cells(weights: [nil, WeightQuantization(method: .rtn(scope: .perChannel, groupSize: 128), bits: 8)],
                                        kv: [nil] + kvSweep(.prefix)))
        for (index, job) in plan.jobs.enumerated() {
            #expect(job.dependencies.allSatisfy { $0 < index })
        }
        #expect(plan.jobs.map(\.kind) == plan.jobs.map(\.kind).sorted())
    }
}
