import ArgumentParser
import Datasets
import Foundation

/// `lcb data …`: tools for benchmark data.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Generate and inspect benchmark data.",
        subcommands: [SynthCommand.self]
    )
}

/// `lcb data synth`: writes the synthetic probe suite.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate the synthetic probe suite (rendered shapes with questions and answers).",
        discussion: """
            Writes PNG scenes and one question file per probe, in the formats the real-dataset \
            loaders read: recognition, knowledge, spatial and reasoning as JSONL, captions as COCO \
            JSON, hallucination as POPE JSONL, illusion as HallusionBench JSON, and the toxicity, \
            stereotype and bias stand-ins as counterfactual-set JSONL; scenes.jsonl lists every \
            image's shapes and suite.json labels each probe as a synthetic proxy. The same seed \
            gives the same bytes on every machine. Exit status: 0 ok, 1 when writing fails, 2 for \
            usage errors. See docs/synthetic.md.
            """
    )

    enum Suite: String, ExpressibleByArgument, CaseIterable {
        case shapes
    }

    @Option(name: .long, help: "The suite to generate (\(Suite.allCases.map(\.rawValue).joined(separator: ", "))).")
    var suite: Suite = .shapes

    @Option(name: .long, help: "Output folder (created if missing; existing files of the suite are replaced).")
    var out: String

    @Option(name: .long, help: "Seed for every random choice.")
    var seed: UInt64 = 0

    @Option(name: [.customShort("n"), .long], help: "Scenes per probe (sets for the illusion and counterfactual probes).")
    var n: Int = 100

    @Option(name: .long, help: "Image width and height in pixels.")
    var imageSize: Int = 48

    func validate() throws {
        if n < 1 { throw ValidationError("--n must be at least 1, got \(n).") }
        if imageSize < 24 { throw ValidationError("--image-size must be at least 24 pixels, got \(imageSize).") }
    }

    func run() throws {
        var configuration = SyntheticSuiteConfiguration(seed: seed, count: n)
        configuration.imageSize = imageSize
        do {
            let generated = try SyntheticSuite(configuration: configuration)
            try generated.write(to: URL(fileURLWithPath: out))
            let questions = generated.sampleCounts.values.reduce(0, +)
            print("wrote \(generated.scenes.count) images and \(questions) questions in \(generated.files.count) files to \(out)")
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
