import ArgumentParser
import Foundation
import Engine
import Execution
import Quantization

/// `lcb bench`: prefill and decode speed, memory and bytes of a model under compression.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode speed, peak memory and exact KV/weight bytes of a checkpoint's language model.",
        discussion: """
            Prefills --prompt-tokens random ids, then decodes --gen-tokens greedy tokens, for every \
            combination of the --weights and --kv options given (repeat them to compare: the first \
            combination is the baseline of the speedup column, all measured in this one process). \
            The bandwidth bound is the read bandwidth this command measures itself, divided by the \
            bytes one decode step reads (linear weights + KV cache).
            """)

    @Option(name: .long, help: ArgumentHelp("Checkpoint folder.", valueName: "DIR"))
    var model: String

    @Option(name: .customLong("prompt-tokens"), help: "Prompt length to prefill.")
    var promptTokens = 512

    @Option(name: .customLong("gen-tokens"), help: "Decode steps to time.")
    var genTokens = 32

    @Option(name: .long, help: ArgumentHelp("KV-cache quantization; repeat to compare.", valueName: "METHOD:BITS[,k=v…]"))
    var kv: [String] = []

    @Option(name: .long, help: ArgumentHelp("Weight quantization; repeat to compare.", valueName: "METHOD:BITS[,k=v…]"))
    var weights: [String] = []

    @Option(name: .long, help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    @Flag(name: .long, help: "Print the reports as JSON lines.")
    var json = false

    func validate() throws {
        if promptTokens < 1 || genTokens < 1 { throw ValidationError("--prompt-tokens and --gen-tokens must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        try CompressionFlags.validate(kv: kv, weights: weights)
    }

    func run() throws {
        ThreadSetting.apply(threads)
        do {
            let kvConfigs = try (kv.isEmpty ? ["fp16"] : kv).map { try CompressionConversion.kvConfig(argument: $0) }
            let weightConfigs = try (weights.isEmpty ? ["fp16"] : weights).map { try CompressionConversion.weightConfig(argument: $0) }
            let bandwidth = ModelBenchmark.measureReadBandwidth()
            var first: ModelBenchmarkReport?
            if !json {
                print(String(format: "read bandwidth: %.1f GB/s (median of 128 MiB cold windows, %d threads); load average %@", bandwidth, KernelThreads.count, LoadAverage.text))
                print("weights | kv | prefill tok/s | GFLOP/s | decode tok/s | decode speedup | % of bound | weight MB | KV B/token after prefill / at end (f16) | peak RSS MB")
            }
            for w in weightConfigs {
                for k in kvConfigs {
                    let report = ModelBenchmark.withBandwidth(
                        try ModelBenchmark.run(directory: URL(fileURLWithPath: model), promptTokens: promptTokens,
                                               decodeSteps: genTokens, kv: k, weights: w),
                        gigabytesPerSecond: bandwidth)
                    let base = first ?? report
                    first = base
                    if json {
                        print(String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
                    } else {
                        print(String(format: "%@ | %@ | %.1f | %.1f | %.2f | %.2f× | %.0f%% | %.1f | %.1f / %.1f (%d) | %.0f",
                                     report.weights, report.kv, report.prefillTokensPerSecond, report.prefillGFLOPs,
                                     report.decodeTokensPerSecond, report.decodeTokensPerSecond / base.decodeTokensPerSecond,
                                     100 * (report.fractionOfBandwidthBound ?? 0), Double(report.linearWeightBytes) / 1e6,
                                     report.kvBytesPerTokenAfterPrefill, report.kvBytesPerToken, report.kvBytesPerTokenF16, Double(report.peakResidentBytes) / 1e6))
                    }
                }
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(UserFacingError.message(error))\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// The 1/5/15-minute load averages, so that shared-machine measurements say how busy it was.
enum LoadAverage {
    static var text: String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
    }
}
