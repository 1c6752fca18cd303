import Foundation

/// A path as the user wrote it, resolved against a base folder.
///
/// Error messages show ``display`` (what the user typed, joined with the names the loader adds),
/// never the absolute path the process happens to resolve it to.
struct UserPath: Sendable {
    /// The path as the user gave it, with loader-added components appended.
    let display: String
    /// The resolved absolute path. Kept as a string: URL arithmetic is slow on Linux, and loaders
    /// build one path per image.
    let absolute: String

    init(_ given: String, relativeTo base: URL) {
        display = given
        let expanded = given.hasPrefix("~/") ? NSString(string: given).expandingTildeInPath : given
        let joined = expanded.hasPrefix("/") ? expanded : base.path + "/" + expanded
        absolute = NSString(string: joined).standardizingPath
    }

    private init(display: String, absolute: String) {
        self.display = display
        self.absolute = absolute
    }

    var url: URL { URL(fileURLWithPath: absolute) }

    /// A path inside this one; `components` may contain slashes.
    func appending(_ components: String) -> UserPath {
        let joined = display.isEmpty || display.hasSuffix("/") ? display + components : display + "/" + components
        let separator = absolute.hasSuffix("/") ? "" : "/"
        return UserPath(display: joined, absolute: absolute + separator + components)
    }

    var exists: Bool { FileManager.default.fileExists(atPath: absolute) }

    var isDirectory: Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: absolute, isDirectory: &directory) && directory.boolValue
    }

    /// The file's bytes, or an error naming the file and saying what was expected there.
    func read(expecting what: String) throws -> Data {
        guard exists else {
            throw DatasetError(file: display, message: "file not found; expected \(what)",
                               hint: "check the dataset path in the spec")
        }
        guard !isDirectory else {
            throw DatasetError(file: display, message: "is a folder; expected \(what)")
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw DatasetError(file: display, message: "cannot be read (\(error.localizedDescription))")
        }
    }

    /// The folder's entries (names only), sorted for a deterministic order.
    func listDirectory(expecting what: String) throws -> [String] {
        guard isDirectory else {
            throw DatasetError(file: display, message: exists ? "is a file; expected \(what)" : "folder not found; expected \(what)",
                               hint: "check the dataset path in the spec")
        }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: absolute).sorted()
        } catch {
            throw DatasetError(file: display, message: "cannot be listed (\(error.localizedDescription))")
        }
    }
}
