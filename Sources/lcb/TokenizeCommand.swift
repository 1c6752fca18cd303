import ArgumentParser
import Engine
import Foundation

/// `lcb tokenize`: the ids a model's tokenizer gives a text, with its post-processor's special tokens.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of TEXT as the model's tokenizer.json produces them.",
        discussion: """
            Encodes exactly as Hugging Face `tokenizers` does with the folder's tokenizer.json, \
            including the post-processor's special tokens (such as BOS) unless --no-special-tokens is \
            given; --compatibility transformers reproduces transformers' AutoTokenizer instead. Added \
            tokens written in TEXT (for example <image> or <start_of_turn>) become their own ids.
            """)

    @Option(name: .long, help: ArgumentHelp("Model folder containing tokenizer.json (or the tokenizer.json file itself).",
                                             valueName: "DIR"))
    var model: String

    @Flag(name: .long, help: "Print {\"ids\": [...]} instead of space-separated ids.")
    var json = false

    @Flag(name: .customLong("no-special-tokens"), help: "Leave out the special tokens the post-processor adds.")
    var noSpecialTokens = false

    @Option(name: .long, help: ArgumentHelp(
        "Whose behaviour to reproduce: 'tokenizers' (tokenizer.json as written) or 'transformers' (AutoTokenizer, which rebuilds Llama and Gemma pipelines from tokenizer_config.json).",
        valueName: "NAME"))
    var compatibility: TokenizerCompatibility = .tokenizers

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let tokenizer: Tokenizer
        do {
            tokenizer = try Self.load(model, compatibility: compatibility)
        } catch let error as TokenizerError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        let ids = tokenizer.encode(text, addSpecialTokens: !noSpecialTokens)
        let list = ids.map(String.init)
        print(json ? "{\"ids\": [\(list.joined(separator: ", "))]}" : list.joined(separator: " "))
    }

    /// A model folder, or a tokenizer.json path given directly.
    static func load(_ path: String, compatibility: TokenizerCompatibility) throws -> Tokenizer {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            return try Tokenizer(tokenizerFile: url, compatibility: compatibility)
        }
        return try Tokenizer(directory: url, compatibility: compatibility)
    }
}

/// `--compatibility tokenizers|transformers` (the raw values).
extension TokenizerCompatibility: ExpressibleByArgument {}
