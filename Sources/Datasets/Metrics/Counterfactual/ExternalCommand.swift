import Foundation

/// Runs a user-supplied command through `/bin/sh -c`, feeding it JSONL on stdin and reading one
/// result per line from stdout. Shared by the external toxicity scorer and the external judge.
struct ExternalCommand: Sendable {
    let command: String
    /// What the command is for, for error messages ("toxicity scorer").
    let role: String

    /// Sends `lines` (one JSON object each) and returns one number per input line.
    ///
    /// A result line may be a bare number or a JSON object holding it under one of `keys`.
    func scores(for lines: [[String: Any]], keys: [String]) throws -> [Double] {
        let directory = FileManager.default.temporaryDirectory
        let token = UUID().uuidString
        let inputURL = directory.appendingPathComponent("lcb-\(token).in.jsonl")
        let errorURL = directory.appendingPathComponent("lcb-\(token).err")
        defer {
            try? FileManager.default.removeItem(at: inputURL)
            try? FileManager.default.removeItem(at: errorURL)
        }
        var input = Data()
        for line in lines {
            input.append(try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]))
            input.append(UInt8(ascii: "\n"))
        }
        try input.write(to: inputURL)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        let inputHandle = try FileHandle(forReadingFrom: inputURL)
        let errorHandle = try FileHandle(forWritingTo: errorURL)
        defer {
            try? inputHandle.close()
            try? errorHandle.close()
        }
        process.standardInput = inputHandle
        process.standardError = errorHandle
        do {
            try process.run()
        } catch {
            throw ScorerError(message: "\(role) command '\(command)' could not start: \(error.localizedDescription)")
        }
        // Read to the end before waiting: a command that fills the pipe would otherwise block forever.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
            throw ScorerError(message: "\(role) command '\(command)' exited with status \(process.terminationStatus)"
                              + (stderr.isEmpty ? "" : ": " + stderr.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let text = String(decoding: data, as: UTF8.self)
        let results = text.split(whereSeparator: \.isNewline).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard results.count == lines.count else {
            throw ScorerError(message: "\(role) command '\(command)' wrote \(results.count) result line(s) for \(lines.count) input line(s); expected one per input")
        }
        return try results.enumerated().map { index, line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let number = Double(trimmed), number.isFinite { return number }
            if let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8), options: [.fragmentsAllowed])) as? [String: Any] {
                for key in keys {
                    if let number = object[key] as? NSNumber { return number.doubleValue }
                }
            }
            throw ScorerError(message: "\(role) command '\(command)' output line \(index + 1) is \"\(trimmed.prefix(60))\"; expected a number or a JSON object with \(keys.map { "\"\($0)\"" }.joined(separator: " or "))")
        }
    }
}

/// A pluggable scorer failed or answered in an unexpected form.
public struct ScorerError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { "error: " + message }
}
