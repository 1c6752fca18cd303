import Foundation
import Testing
@testable import Execution

@Suite struct ArtifactCacheTests {
    @Test func writeThenReadReturnsThePayload() throws {
        let cache = ArtifactCache(root: temporaryFolder())
        try cache.write(kind: .visionFeatures, key: "ab12", payload: [1, 2, 3, 4])
        #expect(cache.read(kind: .visionFeatures, key: "ab12") == .hit([1, 2, 3, 4]))
        #expect(cache.read(kind: .visionFeatures, key: "ab13") == .miss)
        #expect(cache.read(kind: .quantizedWeights, key: "ab12") == .miss)
    }

    @Test(arguments: ["truncate", "flip", "magic", "empty"])
    func corruptEntriesAreDetectedAndRemoved(damage: String) throws {
        let cache = ArtifactCache(root: temporaryFolder())
        let payload = (0..<200).map { UInt8($0 % 251) }
        try cache.write(kind: .visionFeatures, key: "cafe", payload: payload)
        let file = cache.url(kind: .visionFeatures, key: "cafe")
        var bytes = [UInt8](try Data(contentsOf: file))
        switch damage {
        case "truncate": bytes.removeLast(10)
        case "flip": bytes[100] ^= 0xFF
        case "magic": bytes[0] = 0
        default: bytes = []
        }
        try Data(bytes).write(to: file)
        guard case .corrupt(let reason) = cache.read(kind: .visionFeatures, key: "cafe") else {
            Issue.record("damage '\(damage)' not detected")
            return
        }
        #expect(reason.contains(file.path))
        #expect(!FileManager.default.fileExists(atPath: file.path))
        #expect(cache.read(kind: .visionFeatures, key: "cafe") == .miss)
    }

    @Test func writesLeaveNoTemporaryFiles() throws {
        let cache = ArtifactCache(root: temporaryFolder())
        for index in 0..<5 { try cache.write(kind: .visionFeatures, key: "k\(index)", payload: [UInt8(index)]) }
        try cache.write(kind: .visionFeatures, key: "k1", payload: [9])
        #expect(cache.entries().count == 5)
        #expect(cache.entries().allSatisfy { $0.url.pathExtension == "bin" })
        #expect(cache.read(kind: .visionFeatures, key: "k1") == .hit([9]))
    }

    @Test func summaryCountsEntriesAndBytesPerKind() throws {
        let cache = ArtifactCache(root: temporaryFolder())
        try cache.write(kind: .visionFeatures, key: "a1", payload: [UInt8](repeating: 1, count: 100))
        try cache.write(kind: .visionFeatures, key: "b2", payload: [UInt8](repeating: 2, count: 48))
        try cache.write(kind: .quantizedWeights, key: "c3", payload: [3])
        let summary = cache.summary()
        #expect(summary.first { $0.kind == .visionFeatures } == .init(kind: .visionFeatures, entries: 2,
                                                                        bytes: 148 + 2 * ArtifactCache.headerSize))
        #expect(summary.first { $0.kind == .quantizedWeights }?.entries == 1)
    }

    @Test func clearOlderThanKeepsRecentEntries() throws {
        let cache = ArtifactCache(root: temporaryFolder())
        try cache.write(kind: .visionFeatures, key: "old", payload: [1])
        try cache.write(kind: .visionFeatures, key: "new", payload: [2])
        let old = cache.url(kind: .visionFeatures, key: "old")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -10 * 86400)], ofItemAtPath: old.path)
        let removed = cache.clear(olderThan: Date(timeIntervalSinceNow: -7 * 86400))
        #expect(removed.entries == 1)
        #expect(cache.read(kind: .visionFeatures, key: "old") == .miss)
        #expect(cache.read(kind: .visionFeatures, key: "new") == .hit([2]))
        #expect(cache.clear().entries == 1)
        #expect(cache.entries().isEmpty)
    }

    @Test(arguments: [("7d", 604_800.0), ("12h", 43_200.0), ("30m", 1800.0), ("45s", 45.0), ("2w", 1_209_600.0), ("1.5h", 5400.0)])
    func agesParse(text: String, seconds: Double) {
        #expect(parseAge(text) == seconds)
    }

    @Test(arguments: ["", "7", "d", "7y", "-1d", "x7d"])
    func badAgesAreRejected(text: String) {
        #expect(parseAge(text) == nil)
    }
}

@Suite struct ProvenanceTests {
    @Test func fileHashIsSHA256OfTheBytes() throws {
        let file = temporaryFolder().appendingPathComponent("f.txt")
        try Data("abc".utf8).write(to: file)
        let hash = Provenance.fileHash(file.path)
        #expect(hash.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hash.bytes == 3)
        #expect(Provenance.fileHash("/nonexistent/x").sha256 == nil)
    }

    @Test func machineReportsCoresMemoryAndCPU() {
        let machine = Provenance.machine()
        #expect(machine.cores >= 1)
        #expect(machine.memoryBytes > 0)
        if FileManager.default.fileExists(atPath: "/proc/cpuinfo") { #expect(machine.cpuModel?.isEmpty == false) }
    }

    @Test func gitStateOfARepositoryAndOfAPlainFolder() throws {
        let folder = temporaryFolder()
        #expect(Provenance.gitState(of: folder) == .init(commit: nil, dirty: nil))
        guard Provenance.runGit(["--version"], in: folder) != nil else { return }
        _ = Provenance.runGit(["init", "-q"], in: folder)
        try Data("a".utf8).write(to: folder.appendingPathComponent("spec.yaml"))
        _ = Provenance.runGit(["add", "spec.yaml"], in: folder)
        _ = Provenance.runGit(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], in: folder)
        let clean = Provenance.gitState(of: folder)
        #expect(clean.commit?.count == 40)
        #expect(clean.dirty == false)
        try Data("b".utf8).write(to: folder.appendingPathComponent("spec.yaml"))
        #expect(Provenance.gitState(of: folder).dirty == true)
    }
}
