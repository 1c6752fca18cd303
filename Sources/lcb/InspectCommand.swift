import ArgumentParser
import Engine
import Foundation

/// `lcb inspect --model DIR`: what a checkpoint folder holds, without running it.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's architecture, parameter counts, dtypes, bytes and KV-cache bytes per token.")

    @Option(name: .long, help: "Hugging Face checkpoint folder (config.json + safetensors).")
    var model: String

    @Flag(name: .long, help: "Print the facts as JSON.")
    var json = false

    func run() throws {
        let directory = URL(fileURLWithPath: model)
        let loaded: Model
        do {
            loaded = try Model(directory: directory)
        } catch let error as CheckpointError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
        let facts = loaded.facts
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(facts), as: UTF8.self))
        } else {
            print(facts.textReport(directory: model))
        }
    }
}
