import Foundation

/// What loading one spec gives: the checked spec (nil when it has errors), every diagnostic in
/// position order, and the source files needed to render them.
public struct SpecLoadResult: Sendable {
    public var spec: Spec?
    public var diagnostics: [Diagnostic]
    public var sources: [SourceFile]

    /// True when the spec has no errors (warnings allowed).
    public var succeeded: Bool { spec != nil && !diagnostics.containsErrors }

    /// The diagnostics as a compiler prints them (no summary line).
    public func rendered(useColor: Bool = false) -> String {
        DiagnosticRenderer(files: sources, useColor: useColor).render(diagnostics)
    }
}

/// Reads spec files (following `include:`), parses them and checks them into a typed `Spec`.
///
/// The entry point for every command that takes a spec:
/// ```swift
/// let result = SpecLoader().load(path: "Specs/quickstart.yaml")
/// guard let spec = result.spec else { print(result.rendered()); ... }
/// ```
public struct SpecLoader: Sendable {
    public var fileSystem: any SpecFileSystem
    public var checkpoints: any CheckpointInspector
    /// Relative root paths are resolved against this folder.
    public var currentDirectory: String
    /// Deepest chain of includes.
    public var maximumIncludeDepth = 32
    public var parser = YAMLParser()

    public init(fileSystem: any SpecFileSystem = LocalSpecFileSystem(),
                checkpoints: (any CheckpointInspector)? = nil,
                currentDirectory: String = FileManager.default.currentDirectoryPath) {
        self.fileSystem = fileSystem
        self.checkpoints = checkpoints ?? ConfigFileInspector(fileSystem: fileSystem)
        self.currentDirectory = currentDirectory
    }

    /// Loads and checks the spec at `path` (relative paths are shown as given in diagnostics).
    public func load(path: String) -> SpecLoadResult {
        load(path: path, text: nil)
    }

    /// Loads each spec on its own (each is a root: unused-definition warnings apply to it).
    public func load(paths: [String]) -> [SpecLoadResult] {
        paths.map { load(path: $0) }
    }

    /// Checks spec text held in memory, as if it were the file `path` (includes are read from disk).
    public func load(text: String, path: String) -> SpecLoadResult {
        load(path: path, text: text)
    }

    private func absolute(_ path: String) -> String {
        normalize(path.hasPrefix("/") ? path : currentDirectory + "/" + path)
    }

    private func load(path: String, text: String?) -> SpecLoadResult {
        let sink = DiagnosticSink()
        var state = LoadState()
        loadFile(display: normalize(path), absolute: absolute(path), text: text, chain: [], sink: sink, state: &state)

        let checker = SpecChecker(sink: sink, checkpoints: checkpoints)
        var spec: Spec?
        if !state.files.isEmpty {
            let base = (path as NSString).lastPathComponent
            let name = base.hasSuffix(".yaml") ? String(base.dropLast(5)) : base.hasSuffix(".yml") ? String(base.dropLast(4)) : base
            spec = checker.check(files: state.files, defaultName: name)
        }

        // Diagnostics inside included files say how the file was reached.
        var diagnostics = sink.diagnostics.map { diagnostic -> Diagnostic in
            var diagnostic = diagnostic
            var file = diagnostic.range.file
            var hops = 0
            while let site = state.includedFrom[file], hops < maximumIncludeDepth {
                diagnostic.notes.append(.init("'\(file)' included from here", at: site))
                file = site.file
                hops += 1
            }
            return diagnostic
        }
        diagnostics = diagnostics.sortedByPosition(fileOrder: state.order)
        if diagnostics.containsErrors { spec = nil }
        return SpecLoadResult(spec: spec, diagnostics: diagnostics, sources: state.sources)
    }

    private struct LoadState {
        var files: [LoadedFile] = []
        var sources: [SourceFile] = []
        var order: [String] = []
        var loaded: Set<String> = []
        var includedFrom: [String: SourceRange] = [:]
    }

    /// One link of the include chain: the file and the `include:` entry that led out of it.
    private struct Link {
        var absolute: String
        var display: String
        var site: SourceRange
    }

    private func loadFile(display: String, absolute: String, text: String?, chain: [Link], sink: DiagnosticSink,
                          state: inout LoadState) {
        state.loaded.insert(absolute)
        state.order.append(display)
        var bytes: [UInt8]
        if let text {
            bytes = Array(text.utf8)
        } else {
            switch fileSystem.read(absolute) {
            case .success(let read): bytes = read
            case .failure(let error):
                if let site = chain.last?.site {
                    sink.error("cannot read included file '\(display)': \(error.reason)", at: site)
                } else {
                    sink.error("cannot read spec '\(display)': \(error.reason)", at: .fileStart(display))
                }
                state.order.removeLast()
                return
            }
        }
        state.sources.append(SourceFile(displayPath: display, text: String(decoding: bytes, as: UTF8.self)))
        let parsed = parser.parse(bytes: &bytes, path: display)
        for diagnostic in parsed.diagnostics { sink.add(diagnostic) }
        let directory = (absolute as NSString).deletingLastPathComponent
        state.files.append(LoadedFile(displayPath: display, directory: directory, root: parsed.root, isRoot: chain.isEmpty,
                                      isBroken: parsed.root == nil && parsed.diagnostics.containsErrors))

        guard let includeNode = parsed.root?.mapping?[key: "include"], !includeNode.isNull,
              let items = sink.scalarList(includeNode, "'include'") else { return }
        let displayDirectory = (display as NSString).deletingLastPathComponent
        for item in items {
            guard let relative = sink.string(item, "an included file") else { continue }
            let childAbsolute = normalize(relative.hasPrefix("/") ? relative : directory + "/" + relative)
            let childDisplay = relative.hasPrefix("/") ? normalize(relative)
                : normalize(displayDirectory.isEmpty ? relative : displayDirectory + "/" + relative)
            let here = Link(absolute: absolute, display: display, site: item.range)
            let fullChain = chain + [here]
            if let start = fullChain.firstIndex(where: { $0.absolute == childAbsolute }) {
                let cycle = fullChain[start...]
                let path = cycle.map { "'\($0.display)'" }.joined(separator: " → ") + " → '\(childDisplay)'"
                // The "included from here" notes added to every diagnostic in an included file spell out the cycle.
                sink.error("include cycle: \(path)", at: item.range)
                continue
            }
            if state.loaded.contains(childAbsolute) { continue }
            if fullChain.count >= maximumIncludeDepth {
                sink.error("includes nest deeper than \(maximumIncludeDepth) files", at: item.range)
                continue
            }
            state.includedFrom[childDisplay] = item.range
            loadFile(display: childDisplay, absolute: childAbsolute, text: nil, chain: fullChain, sink: sink, state: &state)
        }
    }
}
