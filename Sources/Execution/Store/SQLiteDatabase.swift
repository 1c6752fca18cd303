import Foundation
internal import CSQLite

/// A failure reported by SQLite: its result code, its message and the statement that failed.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// SQLite's primary or extended result code (`SQLITE_CONSTRAINT` = 19, `SQLITE_BUSY` = 5 …).
    public let code: Int32
    public let message: String
    /// The SQL being run, when there was one.
    public let sql: String?
    public let path: String

    public var description: String {
        var text = "\(path): SQLite error \(code): \(message)"
        if let sql { text += " (while running: \(sql.prefix(120)))" }
        return text
    }
}

/// A value SQLite stores: the five storage classes.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var int: Int? {
        switch self {
        case .integer(let value): return Int(value)
        case .real(let value): return Int(value)
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .real(let value): return value
        default: return nil
        }
    }

    public var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

extension SQLiteValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }

    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    public init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
}

/// One SQLite connection, used from one thread at a time (callers serialise, as `ResultStore` does).
///
/// A thin wrapper in GRDB's manner: statements are prepared, bound and stepped here, and C types
/// never leave this file.
final class SQLiteDatabase {
    let path: String
    private let handle: OpaquePointer

    /// Opens (creating if needed) the database at `path`.
    init(path: String) throws {
        self.path = path
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &pointer, flags, nil)
        guard code == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open the database"
            if let pointer { sqlite3_close_v2(pointer) }
            throw SQLiteError(code: code, message: message, sql: nil, path: path)
        }
        handle = pointer
        sqlite3_extended_result_codes(handle, 1)
        // Another lcb process may hold the write lock for a moment (two runs on one store): wait.
        sqlite3_busy_timeout(handle, 10_000)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    private func error(_ code: Int32, _ sql: String?) -> SQLiteError {
        SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql, path: path)
    }

    /// Runs one or more statements without results (schema, pragmas).
    func execute(_ sql: String) throws {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(code, sql) }
    }

    /// Runs one statement with bound values; returns its rows (empty for statements without results).
    @discardableResult
    func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard prepared == SQLITE_OK, let statement else { throw error(prepared, sql) }
        defer { sqlite3_finalize(statement) }
        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(statement, index)
            case .integer(let number): code = sqlite3_bind_int64(statement, index, number)
            case .real(let number): code = sqlite3_bind_double(statement, index, number)
            case .text(let text): code = sqlite3_bind_text(statement, index, text, -1, lcb_sqlite_transient())
            case .blob(let bytes):
                code = bytes.withUnsafeBytes {
                    sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), lcb_sqlite_transient())
                }
            }
            guard code == SQLITE_OK else { throw error(code, sql) }
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw error(step, sql) }
            let columns = sqlite3_column_count(statement)
            var row: [SQLiteValue] = []
            row.reserveCapacity(Int(columns))
            for column in 0..<columns {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, column)))
                case SQLITE_TEXT:
                    row.append(.text(sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    if let base = sqlite3_column_blob(statement, column), count > 0 {
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: base, count: count))))
                    } else {
                        row.append(.blob([]))
                    }
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; any error rolls everything back.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// Named schema migrations, applied once each, in order, and recorded in the database.
///
/// As in GRDB's `DatabaseMigrator`: a migration that has shipped is never edited; a schema change
/// is a new migration with a new name.
struct DatabaseMigrator {
    struct Migration {
        let name: String
        let sql: String
    }

    private(set) var migrations: [Migration] = []

    mutating func register(_ name: String, _ sql: String) {
        precondition(!migrations.contains { $0.name == name }, "migration '\(name)' registered twice")
        migrations.append(Migration(name: name, sql: sql))
    }

    /// Applies every migration the database has not seen, each in its own transaction.
    func migrate(_ database: SQLiteDatabase) throws {
        try database.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)")
        let applied = Set(try database.query("SELECT name FROM schema_migrations").compactMap { $0.first?.string })
        let known = Set(migrations.map(\.name))
        if let unknown = applied.subtracting(known).sorted().first {
            throw SQLiteError(code: 1, message: "the store was written by a newer lcb (it has migration '\(unknown)'); use that lcb or another --store",
                              sql: nil, path: database.path)
        }
        for migration in migrations where !applied.contains(migration.name) {
            try database.transaction {
                // Another process may have applied it since we looked (two runs starting at once).
                let done = try database.query("SELECT 1 FROM schema_migrations WHERE name = ?", [.text(migration.name)])
                guard done.isEmpty else { return }
                try database.execute(migration.sql)
                try database.query("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                                   [.text(migration.name), .text(Timestamp.now())])
            }
        }
    }

    /// The names of the migrations applied to `database`, in the order they were applied.
    static func applied(_ database: SQLiteDatabase) throws -> [String] {
        try database.query("SELECT name FROM schema_migrations ORDER BY rowid").compactMap { $0.first?.string }
    }
}

/// ISO 8601 UTC timestamps with milliseconds, as the store and manifests write them.
enum Timestamp {
    static func string(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        let millis = (parts.nanosecond ?? 0) / 1_000_000
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                      parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0, millis)
    }

    static func now() -> String { string(Date()) }
}
