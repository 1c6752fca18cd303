import Planning
import SpecLanguage
import Testing

/// Valid specs may ask for more than a machine can hold; planning refuses early and says why.
@Suite struct PlanLimitTests {
    @Test func tooManyCellsIsRefused() throws {
        var small = planner()
        small.maximumCells = 5
        #expect(throws: PlanningError.tooManyCells(18, limit: 5)) { try small.plan(cells(kv: kvSweep(.store))) }
    }

    @Test func tooManyJobsIsRefusedBeforeLowering() throws {
        var small = planner()
        small.maximumJobs = 100
        // 18 cells over 17 samples per model–configuration pair: 9 · 17 samples, 4 jobs each, plus one per cell.
        #expect(throws: PlanningError.tooManyJobs(4 * 9 * 17 + 18, limit: 100)) { try small.plan(cells(kv: kvSweep(.store))) }
        #expect(PlanningError.tooManyJobs(630, limit: 100).description.contains("630 jobs"))
    }

    @Test func standInSourceRefusesHugeDatasetsWithANote() {
        let source = StandInSampleSource(maximumSamples: 5)
        let suite = SyntheticSuite(suite: .shapes, seed: 1, size: 3, probes: [.recognition, .spatial])
        let list = source.samples(of: DatasetDescriptor(name: "big", source: .synthetic(suite)))
        #expect(list.samples.isEmpty)
        #expect(list.note?.contains("dataset 'big' has 6 samples") == true)
        let limited = source.samples(of: DatasetDescriptor(name: "big", source: .synthetic(suite), limit: 5))
        #expect(limited.samples.count == 5)
        let files = DatasetFiles(format: .pope, path: "p", resolvedPath: "/p", answerType: .yesno)
        #expect(source.samples(of: DatasetDescriptor(name: "pope", source: .files(files), limit: 6)).samples.isEmpty)
        let huge = SyntheticSuite(suite: .shapes, seed: 1, size: 1_000_000, probes: SyntheticProbe.allCases)
        let refused = StandInSampleSource().samples(of: DatasetDescriptor(name: "huge", source: .synthetic(huge)))
        #expect(refused.samples.isEmpty)
        #expect(refused.note?.contains("10000000 samples") == true)
    }
}
