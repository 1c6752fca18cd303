import Foundation

/// What a finished `lcb` process printed and returned.
public struct LCBProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs the built `lcb` executable as a child process, as a user would.
public enum LCBProcess {
    /// The built `lcb`: beside the test bundle (`swift build` puts it there), or nil if not built.
    public static let executable: URL? = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for folder in [here, here.deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("lcb")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()

    /// Runs `executable` with `arguments` in `directory`, the environment plus `environment`.
    ///
    /// Both pipes are read to the end before waiting, so a full pipe never blocks the child.
    public static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:],
                           executable: URL? = LCBProcess.executable) throws -> LCBProcessResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return LCBProcessResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                                stderr: String(decoding: stderr, as: UTF8.self))
    }
}
