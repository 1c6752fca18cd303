import Foundation
import Planning
import SpecLanguage
import Testing
import TestSupport

@Suite struct CheckpointTests {
    func temporaryCheckpoint() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("planning/llava-gemma-2b/config.json"),
                                         to: folder.appendingPathComponent("config.json"))
        try Data("abc".utf8).write(to: folder.appendingPathComponent("model.safetensors"))
        try Data("{}".utf8).write(to: folder.appendingPathComponent("tokenizer.json"))
        return folder
    }

    @Test func digestsAreSHA256OfTheFileBytes() throws {
        let folder = try temporaryCheckpoint()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = FileDigestCache(file: nil)
        #expect(cache.digest(ofFileAt: folder.appendingPathComponent("model.safetensors").path)?.hex
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(cache.digest(ofFileAt: folder.appendingPathComponent("missing").path) == nil)
    }

    @Test func cacheServesUnchangedFilesAndRehashesChangedOnes() throws {
        let folder = try temporaryCheckpoint()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cacheFile = folder.appendingPathComponent(".lcb/file-digests.json")
        let weights = folder.appendingPathComponent("model.safetensors").path
        let first = FileDigestCache(file: cacheFile)
        let digest = try #require(first.digest(ofFileAt: weights))
        first.save()
        // Plant a wrong digest: a cache hit must serve it, proving the file was not read again.
        let planted = ContentKey(.string("planted"))
        var text = try String(contentsOf: cacheFile, encoding: .utf8)
        text = text.replacingOccurrences(of: digest.hex, with: planted.hex)
        try text.write(to: cacheFile, atomically: true, encoding: .utf8)
        #expect(FileDigestCache(file: cacheFile).digest(ofFileAt: weights) == planted)
        // A new size (and mtime) invalidates the entry.
        try Data("abcd".utf8).write(to: URL(fileURLWithPath: weights))
        let rehashed = FileDigestCache(file: cacheFile).digest(ofFileAt: weights)
        #expect(rehashed == ContentKey(digestOf: Array("abcd".utf8)))
    }

    @Test func inspectorIdentityFollowsContentNotPath() throws {
        let first = try temporaryCheckpoint(), second = try temporaryCheckpoint()
        defer { try? FileManager.default.removeItem(at: first); try? FileManager.default.removeItem(at: second) }
        let inspector = CheckpointFolderInspector(digests: FileDigestCache(file: nil))
        let a = inspector.inspect(ModelDescriptor(name: "a", path: first.path))
        let b = inspector.inspect(ModelDescriptor(name: "b", path: second.path))
        #expect(a.identity == b.identity)
        #expect(!a.identity.isProvisional)
        #expect(a.notes.isEmpty)
        #expect(a.architecture?.language.kvHeads == 1)
        try Data("changed".utf8).write(to: second.appendingPathComponent("model.safetensors"))
        let changed = inspector.inspect(ModelDescriptor(name: "b", path: second.path))
        #expect(changed.identity.weights != a.identity.weights)
        #expect(changed.identity.tokenizer == a.identity.tokenizer)
    }

    @Test func missingCheckpointIsProvisionalWithNotes() throws {
        let inspector = CheckpointFolderInspector(digests: FileDigestCache(file: nil))
        let result = inspector.inspect(ModelDescriptor(name: "ghost", path: "/nonexistent/ghost"))
        #expect(result.identity.isProvisional)
        #expect(result.architecture == nil)
        #expect(result.notes.contains { $0.contains("model 'ghost'") && $0.contains("cost is unknown") })
        #expect(result.notes.contains { $0.contains("provisional") })
    }
}
