import Foundation

/// Where lcb keeps its state: the result store and the caches.
///
/// `.lcb/` in the working directory unless `$LCB_HOME` says otherwise; `--store PATH` moves the
/// database alone.
public struct LCBHome: Sendable, Equatable {
    public var root: URL
    public var store: URL

    public init(root: URL, store: URL? = nil) {
        self.root = root
        self.store = store ?? root.appendingPathComponent("store.sqlite")
    }

    /// The home for this process: `$LCB_HOME` or `./.lcb`, and `storePath` when given.
    public static func resolve(storePath: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               workingDirectory: String = FileManager.default.currentDirectoryPath) -> LCBHome {
        let base = URL(fileURLWithPath: workingDirectory, isDirectory: true)
        let root: URL
        if let home = environment["LCB_HOME"], !home.isEmpty {
            root = URL(fileURLWithPath: home, relativeTo: base).standardizedFileURL
        } else {
            root = base.appendingPathComponent(".lcb")
        }
        return LCBHome(root: root, store: storePath.map { URL(fileURLWithPath: $0, relativeTo: base).standardizedFileURL })
    }

    /// The content-addressed caches (vision features, quantized weights).
    public var cache: ArtifactCache { ArtifactCache(root: root.appendingPathComponent("cache")) }

    /// The planner's checkpoint digest cache.
    public var fileDigests: URL { root.appendingPathComponent("file-digests.json") }

    /// Rendered synthetic datasets (regenerated on demand; never part of a key).
    public var syntheticData: URL { root.appendingPathComponent("synthetic") }
}

/// `1.2 MiB`-style sizes for listings.
public func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
