import Foundation

/// One generated answer: what a decode job produced for one sample of one cell.
///
/// Keyed by the decode job's content key, which hashes everything that determines the output
/// (weights, prompt, image, KV configuration, generation settings, numerics version): a record
/// with that key in the store means the work is done, whichever run or spec did it.
public struct SampleRecord: Sendable, Hashable, Codable {
    /// The decode job's content key (hex).
    public var key: String
    /// The cell that first produced it and the sample's position there (for reading the store by hand).
    public var cellKey: String
    public var sampleIndex: Int
    /// The dataset's id for the sample.
    public var sampleID: String
    /// The full prompt text the model received (template applied, before image expansion).
    public var prompt: String
    /// The generated text (stop token and stop strings removed).
    public var output: String
    /// The generated token ids, stop token included when one was hit.
    public var tokens: [Int]
    /// Seconds spent per job kind on this sample (`vision_encoding`, `prefill`, `decode` …); a
    /// shared prefill is charged to the sample that ran it.
    public var timings: [String: Double]
    /// Bytes of the KV cache at the end of generation.
    public var kvBytes: Int
    /// Tokens the KV cache held then (0 when not recorded, as in stores written before `v3`).
    public var kvTokens: Int
    /// Bytes of the language model's weights as run (packed when quantized).
    public var weightBytes: Int
    /// Why the sample failed (nil when it succeeded). Failed samples are retried by the next run.
    public var error: String?

    public init(key: String, cellKey: String, sampleIndex: Int, sampleID: String, prompt: String, output: String,
                tokens: [Int], timings: [String: Double] = [:], kvBytes: Int = 0, kvTokens: Int = 0, weightBytes: Int = 0,
                error: String? = nil) {
        self.key = key
        self.cellKey = cellKey
        self.sampleIndex = sampleIndex
        self.sampleID = sampleID
        self.prompt = prompt
        self.output = output
        self.tokens = tokens
        self.timings = timings
        self.kvBytes = kvBytes
        self.kvTokens = kvTokens
        self.weightBytes = weightBytes
        self.error = error
    }
}

/// A cell's scores as of one run: per-sample metric components and the aggregates.
public struct StoredCellResult: Sendable, Hashable {
    public var cellKey: String
    /// JSON: the cell's labels and settings (what `results.json` shows).
    public var descriptionJSON: String
    /// JSON: the metrics (value, standard error, n) and per-sample components.
    public var metricsJSON: String

    public init(cellKey: String, descriptionJSON: String, metricsJSON: String) {
        self.cellKey = cellKey
        self.descriptionJSON = descriptionJSON
        self.metricsJSON = metricsJSON
    }
}

/// A run as the store remembers it.
public struct StoredRun: Sendable, Hashable {
    public var id: Int
    public var specName: String
    public var planHash: String
    public var startedAt: String
    public var finishedAt: String?
    /// `running` until the run ends (a run killed mid-way stays `running`), then `ok` or `failed`.
    public var status: String
    /// Samples this run computed (not served from the store).
    public var computed: Int
    public var manifestJSON: String?
}

/// The result store: SQLite in WAL mode holding runs, cells and one record per generated answer.
///
/// Every sample is committed in its own transaction as it finishes, so a run killed at any moment
/// (kill -9 included) loses at most the sample in flight; the decode key is the primary key, so a
/// rerun can neither duplicate nor recompute a stored answer.
public final class ResultStore: @unchecked Sendable {
    /// Where the database file is.
    public let url: URL
    private let database: SQLiteDatabase
    private let lock = NSLock()

    /// The schema, as named migrations. Never edit one that has shipped: add `v2`, `v3` ….
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.register("v1", """
            CREATE TABLE runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                spec_name TEXT NOT NULL,
                plan_hash TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                status TEXT NOT NULL DEFAULT 'running',
                computed INTEGER NOT NULL DEFAULT 0,
                manifest TEXT
            );
            CREATE TABLE cells (
                key TEXT PRIMARY KEY NOT NULL,
                description TEXT NOT NULL,
                metrics TEXT,
                first_run INTEGER REFERENCES runs(id),
                last_run INTEGER REFERENCES runs(id)
            );
            CREATE TABLE samples (
                key TEXT PRIMARY KEY NOT NULL,
                cell_key TEXT NOT NULL,
                sample_index INTEGER NOT NULL,
                sample_id TEXT NOT NULL,
                prompt TEXT NOT NULL,
                output TEXT NOT NULL,
                tokens TEXT NOT NULL,
                timings TEXT NOT NULL,
                kv_bytes INTEGER NOT NULL,
                weight_bytes INTEGER NOT NULL,
                error TEXT,
                run_id INTEGER REFERENCES runs(id),
                finished_at TEXT NOT NULL
            );
            CREATE INDEX samples_by_cell ON samples(cell_key, sample_index);
            """)
        // v2: each run's report files (results.json, samples.jsonl, manifest.json) exactly as
        // written, so `lcb report run:N` reads a run even after Reports/<spec>/ was overwritten.
        migrator.register("v2", """
            CREATE TABLE run_files (
                run_id INTEGER NOT NULL REFERENCES runs(id),
                name TEXT NOT NULL,
                content BLOB NOT NULL,
                PRIMARY KEY (run_id, name)
            );
            """)
        // v3: the KV cache's token count beside its bytes, for bytes per token.
        migrator.register("v3", """
            ALTER TABLE samples ADD COLUMN kv_tokens INTEGER NOT NULL DEFAULT 0;
            """)
        return migrator
    }

    /// Opens the store at `url` (creating the file, its folder and the schema as needed).
    public init(url: URL) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        database = try SQLiteDatabase(path: url.path)
        // WAL: readers never block the writer; synchronous=NORMAL is durable against a killed
        // process (not against power loss mid-checkpoint, which costs at most the last samples).
        try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        try Self.migrator.migrate(database)
    }

    @discardableResult
    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The journal mode SQLite reports (`wal`).
    public func journalMode() throws -> String {
        try locked { try database.query("PRAGMA journal_mode").first?.first?.string ?? "" }
    }

    /// Names of the migrations applied, in order.
    public func appliedMigrations() throws -> [String] {
        try locked { try DatabaseMigrator.applied(database) }
    }

    // MARK: Runs

    /// Records the start of a run; returns its id.
    public func beginRun(specName: String, planHash: String, startedAt: Date = Date()) throws -> Int {
        try locked {
            try database.query("INSERT INTO runs (spec_name, plan_hash, started_at) VALUES (?, ?, ?)",
                               [.text(specName), .text(planHash), .text(Timestamp.string(startedAt))])
            return Int(database.lastInsertRowID)
        }
    }

    /// Records the end of a run with its manifest.
    public func finishRun(_ id: Int, status: String, computed: Int, manifestJSON: String, finishedAt: Date = Date()) throws {
        try locked {
            try database.query("UPDATE runs SET finished_at = ?, status = ?, computed = ?, manifest = ? WHERE id = ?",
                               [.text(Timestamp.string(finishedAt)), .text(status), .integer(Int64(computed)),
                                .text(manifestJSON), .integer(Int64(id))])
        }
    }

    public func runs() throws -> [StoredRun] {
        try locked {
            try database.query("SELECT id, spec_name, plan_hash, started_at, finished_at, status, computed, manifest FROM runs ORDER BY id")
                .map { row in
                    StoredRun(id: row[0].int ?? 0, specName: row[1].string ?? "", planHash: row[2].string ?? "",
                              startedAt: row[3].string ?? "", finishedAt: row[4].string, status: row[5].string ?? "",
                              computed: row[6].int ?? 0, manifestJSON: row[7].string)
                }
        }
    }

    /// Stores the report files run `runID` wrote (name → bytes), replacing any stored before.
    public func recordReportFiles(_ files: [String: Data], runID: Int) throws {
        try locked {
            try database.transaction {
                for (name, content) in files.sorted(by: { $0.key < $1.key }) {
                    try database.query("INSERT OR REPLACE INTO run_files (run_id, name, content) VALUES (?, ?, ?)",
                                       [.integer(Int64(runID)), .text(name), .blob(Array(content))])
                }
            }
        }
    }

    /// The report files stored for run `runID` (name → bytes); empty when the run stored none.
    public func reportFiles(runID: Int) throws -> [String: Data] {
        try locked {
            var files: [String: Data] = [:]
            for row in try database.query("SELECT name, content FROM run_files WHERE run_id = ?", [.integer(Int64(runID))]) {
                guard let name = row[0].string else { continue }
                switch row[1] {
                case .blob(let bytes): files[name] = Data(bytes)
                case .text(let text): files[name] = Data(text.utf8)
                default: files[name] = Data()
                }
            }
            return files
        }
    }

    // MARK: Samples

    /// Keys of every successfully stored answer (failed ones are left out: the next run retries them).
    public func completedKeys() throws -> Set<String> {
        try locked {
            Set(try database.query("SELECT key FROM samples WHERE error IS NULL").compactMap { $0.first?.string })
        }
    }

    /// Commits one answer. A success replaces a stored failure of the same key; a stored success
    /// is never overwritten (returns false then: the work had already been done).
    @discardableResult
    public func record(_ sample: SampleRecord, runID: Int?) throws -> Bool {
        let tokens = "[" + sample.tokens.map(String.init).joined(separator: ",") + "]"
        let timings = try JSONText.encode(sample.timings)
        return try locked {
            try database.transaction {
                try database.query("""
                    INSERT INTO samples (key, cell_key, sample_index, sample_id, prompt, output, tokens, timings,
                                         kv_bytes, weight_bytes, error, run_id, finished_at, kv_tokens)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(key) DO UPDATE SET
                        cell_key = excluded.cell_key, sample_index = excluded.sample_index, sample_id = excluded.sample_id,
                        prompt = excluded.prompt, output = excluded.output, tokens = excluded.tokens,
                        timings = excluded.timings, kv_bytes = excluded.kv_bytes, weight_bytes = excluded.weight_bytes,
                        error = excluded.error, run_id = excluded.run_id, finished_at = excluded.finished_at,
                        kv_tokens = excluded.kv_tokens
                    WHERE samples.error IS NOT NULL
                    """,
                    [.text(sample.key), .text(sample.cellKey), .integer(Int64(sample.sampleIndex)), .text(sample.sampleID),
                     .text(sample.prompt), .text(sample.output), .text(tokens), .text(timings),
                     .integer(Int64(sample.kvBytes)), .integer(Int64(sample.weightBytes)), SQLiteValue(sample.error),
                     SQLiteValue(runID), .text(Timestamp.now()), .integer(Int64(sample.kvTokens))])
                let changed = database.changes > 0
                if changed, sample.error == nil, let runID {
                    try database.query("UPDATE runs SET computed = computed + 1 WHERE id = ?", [.integer(Int64(runID))])
                }
                return changed
            }
        }
    }

    /// The stored answers for `keys` (those present).
    public func records(keys: [String]) throws -> [String: SampleRecord] {
        var result: [String: SampleRecord] = [:]
        try locked {
            // In chunks: SQLite limits bound parameters per statement.
            var start = 0
            while start < keys.count {
                let chunk = Array(keys[start..<min(start + 500, keys.count)])
                start += chunk.count
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try database.query("""
                    SELECT key, cell_key, sample_index, sample_id, prompt, output, tokens, timings, kv_bytes,
                           weight_bytes, error, kv_tokens FROM samples WHERE key IN (\(marks))
                    """, chunk.map { .text($0) })
                for row in rows {
                    let record = SampleRecord(
                        key: row[0].string ?? "", cellKey: row[1].string ?? "", sampleIndex: row[2].int ?? 0,
                        sampleID: row[3].string ?? "", prompt: row[4].string ?? "", output: row[5].string ?? "",
                        tokens: (try? JSONText.decode([Int].self, row[6].string ?? "[]")) ?? [],
                        timings: (try? JSONText.decode([String: Double].self, row[7].string ?? "{}")) ?? [:],
                        kvBytes: row[8].int ?? 0, kvTokens: row[11].int ?? 0, weightBytes: row[9].int ?? 0, error: row[10].string)
                    result[record.key] = record
                }
            }
        }
        return result
    }

    /// Total answers stored (failures included).
    public func sampleCount() throws -> Int {
        try locked { try database.query("SELECT COUNT(*) FROM samples").first?.first?.int ?? 0 }
    }

    /// Answers first stored by run `runID`.
    public func sampleCount(runID: Int) throws -> Int {
        try locked {
            try database.query("SELECT COUNT(*) FROM samples WHERE run_id = ? AND error IS NULL", [.integer(Int64(runID))])
                .first?.first?.int ?? 0
        }
    }

    // MARK: Cells

    /// Stores (or refreshes) a cell's description and scores as computed by run `runID`.
    public func recordCell(_ cell: StoredCellResult, runID: Int) throws {
        try locked {
            try database.query("""
                INSERT INTO cells (key, description, metrics, first_run, last_run) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET description = excluded.description, metrics = excluded.metrics,
                                              last_run = excluded.last_run
                """, [.text(cell.cellKey), .text(cell.descriptionJSON), .text(cell.metricsJSON),
                      .integer(Int64(runID)), .integer(Int64(runID))])
        }
    }

    public func cell(key: String) throws -> StoredCellResult? {
        try locked {
            try database.query("SELECT key, description, metrics FROM cells WHERE key = ?", [.text(key)]).first.map {
                StoredCellResult(cellKey: $0[0].string ?? "", descriptionJSON: $0[1].string ?? "", metricsJSON: $0[2].string ?? "")
            }
        }
    }

    public func cellCount() throws -> Int {
        try locked { try database.query("SELECT COUNT(*) FROM cells").first?.first?.int ?? 0 }
    }
}

/// JSON text with sorted keys, for the store's JSON columns and the report files.
enum JSONText {
    static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
