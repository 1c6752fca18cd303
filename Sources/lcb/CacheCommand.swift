import ArgumentParser
import Execution
import Foundation

/// `lcb cache ls|clear`: what the content-addressed caches in `.lcb/` hold, and removing it.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List or clear lcb's on-disk caches (vision features, quantized weights).",
        discussion: """
            Caches live in .lcb/cache/ (or $LCB_HOME/cache/). Entries are content-addressed and \
            verified on every read, so clearing them never changes a result: lcb recomputes what it \
            needs. The result store is not a cache and is never cleared here.
            """,
        subcommands: [List.self, Clear.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "Show entries and sizes per kind.")

        func run() throws {
            let home = LCBHome.resolve()
            let summary = home.cache.summary()
            var lines = ["cache: \(home.cache.root.path)"]
            let width = ArtifactKind.allCases.map(\.rawValue.count).max() ?? 0
            for kind in summary {
                lines.append("  " + kind.kind.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
                             + "  \(kind.entries) entries  \(formatBytes(kind.bytes))")
            }
            let total = summary.reduce(0) { $0 + $1.bytes }
            lines.append("  total" + String(repeating: " ", count: max(width - 5, 0))
                         + "  \(summary.reduce(0) { $0 + $1.entries }) entries  \(formatBytes(total))")
            print(lines.joined(separator: "\n"))
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear", abstract: "Remove cache entries (all, or those not used for a while).")

        @Option(name: .customLong("older-than"), help: "Only entries last used longer ago than this (e.g. 7d, 12h, 30m).")
        var olderThan: String?

        func validate() throws {
            if let olderThan, parseAge(olderThan) == nil {
                throw ValidationError("--older-than '\(olderThan)' is not an age; write a number and a unit: s, m, h, d or w (e.g. 7d, 12h).")
            }
        }

        func run() throws {
            let cache = LCBHome.resolve().cache
            let cutoff = olderThan.flatMap(parseAge).map { Date(timeIntervalSinceNow: -$0) }
            let removed = cache.clear(olderThan: cutoff)
            print("removed \(removed.entries) entries, \(formatBytes(removed.bytes)) from \(cache.root.path)")
        }
    }
}
