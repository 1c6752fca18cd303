import ArgumentParser
import Engine
import Foundation

/// `lcb bench-kernels`: memory bandwidth and dense-kernel speed on a decoder's shapes (hidden).
struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Measure memory bandwidth, the dense matrix kernels and the packed-weight GEMV on Gemma-2B shapes.",
        discussion: "Allocates about 1.8 GB (a 1 GiB bandwidth buffer, 350 MB of random f16 weights, and the packed 8- and 4-bit copies).",
        shouldDisplay: false)

    @Option(help: "Kernel threads (default: the processors this process may use).")
    var threads: Int?

    @Option(help: "Kernel instruction set: avx512, avx2 or scalar (default: the best this CPU has).")
    var isa: String?

    @Option(help: "Timed repetitions of each measurement; medians are reported.")
    var repeats: Int = 5

    @Option(name: .customLong("prefill-rows"), help: "Tokens in the prefill GEMM.")
    var prefillRows: Int = 512

    @Option(name: .customLong("bandwidth-mib"), help: "MiB streamed by the bandwidth probe.")
    var bandwidthMiB: Int = 1024

    @Option(name: .customLong("packed-bits"), help: "Code widths of the packed decode GEMV, comma-separated from 2, 4, 8, or 'none' (needs AVX-512).")
    var packedBits: String = "8,4"

    @Option(name: .customLong("packed-group-size"), help: "Group size of the packed codes (a multiple of 16·8/bits columns).")
    var packedGroupSize: Int = 128

    private var packedWidths: [Int]? {
        if packedBits == "none" { return [] }
        let widths = packedBits.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard widths.allSatisfy({ $0 == 2 || $0 == 4 || $0 == 8 }) else { return nil }
        return widths.compactMap { $0 }
    }

    func validate() throws {
        guard let widths = packedWidths else { throw ValidationError("--packed-bits must list 2, 4 or 8 (comma-separated) or be 'none', got '\(packedBits)'.") }
        for bits in widths where packedGroupSize % (128 / bits) != 0 {
            throw ValidationError("--packed-group-size must be a multiple of \(128 / bits) for \(bits)-bit codes, got \(packedGroupSize).")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads).") }
        if let isa, instructionSet(named: isa) == nil {
            let names = KernelInstructionSet.allCases.map(\.description).joined(separator: ", ")
            throw ValidationError("--isa must be one of \(names), got '\(isa)'.")
        }
        if let isa, let set = instructionSet(named: isa), !set.isSupported {
            throw ValidationError("--isa \(isa): this CPU does not support it; best available is \(KernelInstructionSet.best).")
        }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1, got \(repeats).") }
        if prefillRows < 1 { throw ValidationError("--prefill-rows must be at least 1, got \(prefillRows).") }
        if bandwidthMiB < 64 { throw ValidationError("--bandwidth-mib must be at least 64 (larger than the caches), got \(bandwidthMiB).") }
    }

    func run() throws {
        if let threads { KernelThreads.count = threads }
        var options = KernelBenchmark.Options()
        options.threads = threads
        options.repeats = repeats
        if let isa, let set = instructionSet(named: isa) { options.instructionSet = set }
        options.prefillRows = prefillRows
        options.bandwidthBytes = bandwidthMiB << 20
        options.packedBits = packedWidths ?? []
        options.packedGroupSize = packedGroupSize
        let loadBefore = loadAverage()
        let report = KernelBenchmark.run(options) { message in
            FileHandle.standardError.write(Data("… \(message)\n".utf8))
        }
        print(report.text)
        print("")
        print("Load average (1 min) before/after: \(loadBefore) / \(loadAverage()) on \(ProcessInfo.processInfo.activeProcessorCount) processors")
    }
}

/// The 1-minute load average from /proc/loadavg ("n/a" where there is none): how busy the machine was.
private func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
          let first = text.split(separator: " ").first else { return "n/a" }
    return String(first)
}

private func instructionSet(named name: String) -> KernelInstructionSet? {
    KernelInstructionSet.allCases.first { $0.description == name }
}
