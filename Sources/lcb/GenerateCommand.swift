import ArgumentParser
import Engine
import Execution
import Foundation
import Quantization

/// `lcb generate`: one greedy answer from a checkpoint, with optional KV and weight quantization.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a greedy answer with a Hugging Face LLaVA, Llama or Gemma checkpoint.",
        discussion: """
            The prompt is wrapped in the template (default: the checkpoint's), each --image fills one \
            <image> placeholder. --kv and --weights take METHOD[:BITS][,name=value…] with the spec \
            language's methods, parameters and defaults (docs/spec-language.md), e.g. \
            --kv kivi:2,residual=32,regime=prefix or --weights rtn:4,group_size=64,targets=lm+lm_head \
            (lists joined by +). AWQ and GPTQ calibrate on this prompt: they take no calibration dataset.
            """)

    @Option(name: .long, help: ArgumentHelp("Checkpoint folder (config.json, safetensors, tokenizer.json).", valueName: "DIR"))
    var model: String

    @Option(name: .long, help: ArgumentHelp("PNG or JPEG image (or a .npy of preprocessed pixel values [3, S, S]); repeat for several.", valueName: "FILE"))
    var image: [String] = []

    @Option(name: .long, help: "The question.")
    var prompt: String

    @Option(name: .long, help: ArgumentHelp("Prompt template: llava-1.5, gemma or raw (default: the checkpoint's).", valueName: "NAME"))
    var template: PromptTemplate?

    @Option(name: .customLong("max-new-tokens"), help: "Most tokens to generate.")
    var maxNewTokens = 64

    @Flag(name: .long, help: "Print prompt_ids, tokens, text and timings as JSON.")
    var json = false

    @Option(name: .customLong("dump-logits"), help: ArgumentHelp("Write the float32 logits of the last prompt position to FILE.npy.", valueName: "FILE.npy"))
    var dumpLogits: String?

    @Option(name: .long, help: ArgumentHelp("KV-cache quantization (fp16 = none).", valueName: "METHOD:BITS[,k=v…]"))
    var kv = "fp16"

    @Option(name: .long, help: ArgumentHelp("Weight quantization (fp16 = none).", valueName: "METHOD:BITS[,k=v…]"))
    var weights = "fp16"

    @Option(name: .long, help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    @Flag(name: .customLong("pad-to-square"), help: "Pad images to a square with the mean colour first (LLaVA's image_aspect_ratio=pad).")
    var padToSquare = false

    func validate() throws {
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        try CompressionFlags.validate(kv: [kv], weights: [weights])
    }

    func run() throws {
        ThreadSetting.apply(threads)
        let report: GenerationReport
        do {
            let request = GenerationRequest(
                modelDirectory: URL(fileURLWithPath: model), prompt: prompt, images: image.map { URL(fileURLWithPath: $0) },
                template: template, maxNewTokens: maxNewTokens, kv: try CompressionConversion.kvConfig(argument: kv),
                weights: try CompressionConversion.weightConfig(argument: weights), padToSquare: padToSquare ? true : nil)
            report = try CompressedGeneration.run(request)
            if let dumpLogits {
                do {
                    try NumpyFile.write(report.promptLogits, shape: [report.promptLogits.count], to: URL(fileURLWithPath: dumpLogits))
                } catch {
                    throw GenerationRequestError("\(dumpLogits): cannot write the logits (\(error.localizedDescription)); check that the folder exists and is writable")
                }
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(UserFacingError.message(error))\n".utf8))
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}

extension PromptTemplate: ExpressibleByArgument {}

/// The description an error carries for users (CheckpointError keeps it in `message`).
enum UserFacingError {
    static func message(_ error: any Error) -> String {
        if let checkpoint = error as? CheckpointError { return checkpoint.message }
        return String(describing: error)
    }
}

/// `--kv` and `--weights`: text the spec language rejects is a usage error (exit 2).
enum CompressionFlags {
    static func validate(kv: [String], weights: [String]) throws {
        do {
            for text in kv { _ = try CompressionConversion.kvConfig(argument: text) }
            for text in weights { _ = try CompressionConversion.weightConfig(argument: text) }
        } catch {
            throw ValidationError(String(describing: error))
        }
    }
}

/// `--threads`: the kernels' process-wide thread count.
enum ThreadSetting {
    static func apply(_ threads: Int?) {
        if let threads { KernelThreads.count = threads }
    }
}
