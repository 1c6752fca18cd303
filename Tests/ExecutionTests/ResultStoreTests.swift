import Foundation
import Testing
@testable import Execution

/// Removes this process's temporary folders when the test process exits.
private let removeFoldersAtExit: Void = {
    atexit {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-execution-tests-\(getpid())")
        try? FileManager.default.removeItem(at: root)
    }
}()

/// A fresh temporary folder per test (all removed when the test process exits).
func temporaryFolder(_ name: String = #function) -> URL {
    _ = removeFoldersAtExit
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lcb-execution-tests-\(ProcessInfo.processInfo.processIdentifier)")
        .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber } + "-" + UUID().uuidString.prefix(8))
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func record(_ key: String, output: String = "a red circle", error: String? = nil) -> SampleRecord {
    SampleRecord(key: key, cellKey: "cell", sampleIndex: 0, sampleID: "s-\(key)", prompt: "Q: what?", output: output,
                 tokens: [5, 6, 7], timings: ["decode": 0.25], kvBytes: 1024, kvTokens: 40, weightBytes: 4096, error: error)
}

@Suite struct ResultStoreTests {
    @Test func opensInWALModeWithEveryMigration() throws {
        let store = try ResultStore(url: temporaryFolder().appendingPathComponent("store.sqlite"))
        #expect(try store.journalMode() == "wal")
        #expect(try store.appliedMigrations() == ["v1", "v2", "v3"])
    }

    @Test func aStoreMadeBeforeV2GainsTheNewTablesAndColumnsAndKeepsItsRuns() throws {
        let url = temporaryFolder().appendingPathComponent("store.sqlite")
        do {
            // The schema as the first release shipped it: v1 only.
            let database = try SQLiteDatabase(path: url.path)
            var v1Only = DatabaseMigrator()
            v1Only.register("v1", try #require(ResultStore.migrator.migrations.first).sql)
            try v1Only.migrate(database)
            try database.query("INSERT INTO runs (spec_name, plan_hash, started_at) VALUES ('old', 'h', 't')")
            try database.query("""
                INSERT INTO samples (key, cell_key, sample_index, sample_id, prompt, output, tokens, timings, kv_bytes,
                                     weight_bytes, finished_at) VALUES ('k', 'c', 0, 's', 'p', 'o', '[1]', '{}', 64, 8, 't')
                """)
        }
        let store = try ResultStore(url: url)
        #expect(try store.appliedMigrations() == ["v1", "v2", "v3"])
        #expect(try store.runs().map(\.specName) == ["old"])
        #expect(try store.reportFiles(runID: 1).isEmpty)
        // An answer stored before v3 has no token count: 0, which reports leave out of bytes per token.
        #expect(try store.records(keys: ["k"])["k"].map { [$0.kvBytes, $0.kvTokens] } == [64, 0])
        let files = ["results.json": Data("{}\n".utf8), "samples.jsonl": Data([0x7B, 0x7D, 0x0A, 0xFF])]
        try store.recordReportFiles(files, runID: 1)
        #expect(try store.reportFiles(runID: 1) == files)
        #expect(try store.reportFiles(runID: 2).isEmpty)
    }

    @Test func reopeningAppliesNoMigrationTwiceAndKeepsData() throws {
        let url = temporaryFolder().appendingPathComponent("store.sqlite")
        do {
            let store = try ResultStore(url: url)
            try store.record(record("k1"), runID: nil)
        }
        let again = try ResultStore(url: url)
        #expect(try again.appliedMigrations() == ["v1", "v2", "v3"])
        #expect(try again.completedKeys() == ["k1"])
    }

    @Test func migratorAppliesNewMigrationsInOrderOnce() throws {
        let url = temporaryFolder().appendingPathComponent("m.sqlite")
        let database = try SQLiteDatabase(path: url.path)
        var migrator = DatabaseMigrator()
        migrator.register("v1", "CREATE TABLE a (x INTEGER)")
        try migrator.migrate(database)
        migrator.register("v2", "ALTER TABLE a ADD COLUMN y TEXT")
        try migrator.migrate(database)
        try migrator.migrate(database)
        #expect(try DatabaseMigrator.applied(database) == ["v1", "v2"])
        try database.query("INSERT INTO a (x, y) VALUES (1, 'z')")
        #expect(try database.query("SELECT y FROM a") == [[.text("z")]])
    }

    @Test func aStoreFromANewerLcbIsRefused() throws {
        let url = temporaryFolder().appendingPathComponent("m.sqlite")
        let database = try SQLiteDatabase(path: url.path)
        var newer = DatabaseMigrator()
        newer.register("v1", "CREATE TABLE a (x INTEGER)")
        newer.register("v9", "CREATE TABLE b (x INTEGER)")
        try newer.migrate(database)
        var older = DatabaseMigrator()
        older.register("v1", "CREATE TABLE a (x INTEGER)")
        #expect(throws: SQLiteError.self) { try older.migrate(database) }
    }

    @Test func aFailedMigrationLeavesNothingBehind() throws {
        let url = temporaryFolder().appendingPathComponent("m.sqlite")
        let database = try SQLiteDatabase(path: url.path)
        var migrator = DatabaseMigrator()
        migrator.register("v1", "CREATE TABLE a (x INTEGER); CREATE TABLE a (y INTEGER)")
        #expect(throws: SQLiteError.self) { try migrator.migrate(database) }
        #expect(try DatabaseMigrator.applied(database).isEmpty)
        #expect(try database.query("SELECT name FROM sqlite_master WHERE name = 'a'").isEmpty)
    }

    @Test func recordRoundTripsEveryField() throws {
        let store = try ResultStore(url: temporaryFolder().appendingPathComponent("s.sqlite"))
        let original = record("abc")
        #expect(try store.record(original, runID: nil))
        #expect(try store.records(keys: ["abc", "missing"]) == ["abc": original])
    }

    @Test func aStoredSuccessIsNeverDuplicatedOrOverwritten() throws {
        let store = try ResultStore(url: temporaryFolder().appendingPathComponent("s.sqlite"))
        let run = try store.beginRun(specName: "t", planHash: "p")
        #expect(try store.record(record("k", output: "first"), runID: run))
        #expect(try store.record(record("k", output: "second"), runID: run) == false)
        #expect(try store.sampleCount() == 1)
        #expect(try store.records(keys: ["k"])["k"]?.output == "first")
        #expect(try store.runs().first?.computed == 1)
    }

    @Test func aFailureIsRetriedAndReplacedBySuccess() throws {
        let store = try ResultStore(url: temporaryFolder().appendingPathComponent("s.sqlite"))
        try store.record(record("k", output: "", error: "image unreadable"), runID: nil)
        #expect(try store.completedKeys().isEmpty)
        #expect(try store.record(record("k", output: "fixed"), runID: nil))
        #expect(try store.completedKeys() == ["k"])
        #expect(try store.records(keys: ["k"])["k"]?.error == nil)
        #expect(try store.sampleCount() == 1)
    }

    @Test func runsRecordStartFinishAndManifest() throws {
        let store = try ResultStore(url: temporaryFolder().appendingPathComponent("s.sqlite"))
        let id = try store.beginRun(specName: "quickstart", planHash: "abc")
        #expect(try store.runs().first?.status == "running")
        try store.finishRun(id, status: "ok", computed: 3, manifestJSON: "{\"x\":1}")
        let run = try #require(try store.runs().first)
        #expect(run.status == "ok")
        #expect(run.computed == 3)
        #expect(run.manifestJSON == "{\"x\":1}")
        #expect(run.finishedAt != nil)
    }

    @Test func cellsUpsert() throws {
        let store = try ResultStore(url: temporaryFolder().appendingPathComponent("s.sqlite"))
        let run1 = try store.beginRun(specName: "t", planHash: "p")
        try store.recordCell(StoredCellResult(cellKey: "c", descriptionJSON: "{}", metricsJSON: "{\"a\":1}"), runID: run1)
        try store.recordCell(StoredCellResult(cellKey: "c", descriptionJSON: "{}", metricsJSON: "{\"a\":2}"), runID: run1)
        #expect(try store.cellCount() == 1)
        #expect(try store.cell(key: "c")?.metricsJSON == "{\"a\":2}")
    }

    @Test func manyKeysAreReadInChunks() throws {
        let store = try ResultStore(url: temporaryFolder().appendingPathComponent("s.sqlite"))
        let keys = (0..<1203).map { "key\($0)" }
        for key in keys { try store.record(record(key), runID: nil) }
        #expect(try store.records(keys: keys).count == 1203)
    }
}
