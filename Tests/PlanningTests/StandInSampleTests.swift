import Planning
import SpecLanguage
import Testing

@Suite struct StandInSampleTests {
    let source = StandInSampleSource()

    @Test func syntheticSuitesEnumerateSizeSamplesPerProbe() throws {
        let suite = SyntheticSuite(suite: .shapes, seed: 4, size: 3, probes: [.recognition, .spatial])
        let list = source.samples(of: DatasetDescriptor(name: "s", source: .synthetic(suite)))
        #expect(list.samples.map(\.id) == ["recognition-0", "recognition-1", "recognition-2", "spatial-0", "spatial-1", "spatial-2"])
        #expect(Set(list.samples.compactMap(\.image)).count == 6)
        #expect(list.isProvisional)
        #expect(list.note?.contains("dataset 's'") == true)
        let limited = source.samples(of: DatasetDescriptor(name: "s", source: .synthetic(suite), limit: 4))
        #expect(limited.samples.count == 4)
        #expect(Array(limited.samples.map(\.image)) == Array(list.samples.prefix(4).map(\.image)))
        // Another seed is other content.
        var other = suite
        other.seed = 5
        let reseeded = source.samples(of: DatasetDescriptor(name: "s", source: .synthetic(other)))
        #expect(Set(reseeded.samples.compactMap(\.image)).isDisjoint(with: Set(list.samples.compactMap(\.image))))
    }

    @Test func realFormatsNeedALimitAtPlanTime() throws {
        let files = DatasetFiles(format: .pope, path: "pope.jsonl", resolvedPath: "/data/pope.jsonl", split: "adversarial",
                                 answerType: .yesno)
        let unlimited = source.samples(of: DatasetDescriptor(name: "pope", source: .files(files)))
        #expect(unlimited.samples.isEmpty)
        #expect(unlimited.note?.contains("no `limit`") == true)
        let limited = source.samples(of: DatasetDescriptor(name: "pope", source: .files(files), limit: 7))
        #expect(limited.samples.count == 7)
        #expect(limited.isProvisional)
        #expect(limited.note?.contains("7 placeholder samples") == true)
    }
}
