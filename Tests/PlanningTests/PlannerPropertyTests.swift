import Planning
import SpecLanguage
import Testing

/// Random grids (overlapping images across datasets, every regime, weight targets): dedup must
/// only remove repeats, never change what is computed.
@Suite struct PlannerPropertyTests {
    static func randomCells(seed: UInt64) -> [Cell] {
        var random = SplitMix(seed: seed &+ 7)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let names = ["a", "b", "c"]
        let models = [gemmaModel, ModelDescriptor(name: "llava", path: "/models/llava", template: .llava15, preprocessing: .resize)]
        let weights: [WeightQuantization?] = [nil, WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 64), bits: 4),
                                              WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 64), bits: 4,
                                                                 targets: [.lm, .visionTower])]
        let kvs: [KVCacheQuantization?] = [nil] + KVRegime.allCases.flatMap { regime in
            [2, 4].map { KVCacheQuantization(method: .group(.groupDefaults), bits: $0, regime: regime) }
        }
        return (0..<Int(5 + random.next() % 20)).map { _ in
            let name = pick(names)
            var cell = Cell(model: pick(models), weights: pick(weights), kv: pick(kvs),
                            dataset: dataset(name, suffix: pick(["", "Answer briefly."])),
                            generation: GenerationSettings(maxNewTokens: pick([4, 8])),
                            label: CellLabel(specFile: "r.yaml", experiment: "e", model: "m", compression: "c", dataset: name))
            cell.sampleLimit = pick([nil, 2])
            return cell
        }
    }

    /// Three datasets drawing images from one pool of 6, so images repeat within and across them.
    static func source(seed: UInt64) -> TableSampleSource {
        var random = SplitMix(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        var samples: [String: [SampleDescriptor]] = [:]
        for name in ["a", "b", "c"] {
            samples[name] = (0..<Int(2 + random.next() % 5)).map { index in
                SampleDescriptor(id: "\(name)\(index)", image: random.next() % 5 == 0 ? nil : image("pool-\(random.next() % 6)"),
                                 question: pick(["Is it red?", "How many?", "What is it?"]), references: [pick(["yes", "no"])])
            }
        }
        return TableSampleSource(samples: samples)
    }

    @Test(arguments: 0..<25 as Range<UInt64>)
    func dedupOnlyRemovesRepeats(seed: UInt64) throws {
        let cells = Self.randomCells(seed: seed)
        let samples = Self.source(seed: seed)
        let planned = try planner(samples: samples).plan(cells)
        let naive = try planner(dedup: false, samples: samples).plan(cells)
        #expect(Set(planned.jobs.map(\.key)) == Set(naive.jobs.map(\.key)))
        #expect(planned.jobs.count == Set(planned.jobs.map(\.key)).count)
        #expect(planned.naive == naive.planned)
        for kind in JobKind.allCases {
            #expect((planned.planned.counts[kind] ?? 0) <= (naive.planned.counts[kind] ?? 0))
        }
        // Every cell's answers are the same jobs, planned or not.
        let plannedAnswers = planned.cells.map { cell in cell.scoringJobs.map { planned.jobs[$0].key } }
        let naiveByKey = Dictionary(naive.cells.map { cell in (cell.key, cell.scoringJobs.map { naive.jobs[$0].key }) },
                                    uniquingKeysWith: { first, _ in first })
        for (cell, answers) in zip(planned.cells, plannedAnswers) { #expect(naiveByKey[cell.key] == answers) }
        var shuffled = cells
        var generator = SplitMix(seed: seed &+ 1000)
        shuffled.shuffle(using: &generator)
        #expect(try planner(samples: samples).plan(shuffled).hash == planned.hash)
    }
}
