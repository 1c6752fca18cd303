import ArgumentParser
import Execution
import Foundation
import Reporting

/// `lcb diff A B`: what changed between two result sets, with paired statistics.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two result sets cell by cell with paired significance tests.",
        discussion: """
            A and B are report folders, run ids (run:N) or git revisions (their Reports/<spec>/ \
            files are read with git; nothing is checked out). Per cell and metric: old, new, delta \
            and a paired test (exact McNemar for right/wrong answers, paired bootstrap otherwise); \
            then cells added and removed, changed settings and provenance. Fractions are compared \
            in percentage points. Exit status: 0 ok, 1 unreadable input or (with \
            --fail-on-regression) a significant regression larger than the threshold, 2 usage errors.
            """
    )

    @Argument(help: "The old result set: a report folder, run:N or a git revision.")
    var old: String

    @Argument(help: "The new result set.")
    var new: String

    @Option(name: .long, help: "The spec whose report folder to read at git revisions (Reports/<NAME>); default: the spec of a folder or run on the other side, or the revision's only report.")
    var spec: String?

    @Option(name: .long, help: "The result store that run:N is read from (default: $LCB_HOME/store.sqlite or .lcb/store.sqlite).")
    var store: String?

    @Option(name: .long, help: "Output format: md, tex or json.")
    var format: String = "md"

    @Option(name: .customLong("fail-on-regression"), help: "Exit 1 when a significant regression is larger than this many points.")
    var failOnRegression: Double?

    @Option(name: .long, help: "Significance level of the flags.")
    var alpha: Double = 0.05

    @Option(name: .long, help: "Digits after the decimal point.")
    var decimals: Int = 2

    func validate() throws {
        if DiffRenderer.Format(rawValue: format) == nil {
            throw ValidationError("Unknown format '\(format)' in --format; expected md, tex or json.")
        }
        if !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must be between 0 and 1, e.g. 0.05.") }
        if let threshold = failOnRegression, threshold < 0 || !threshold.isFinite {
            throw ValidationError("--fail-on-regression takes a non-negative number of points, e.g. 1.")
        }
        if !(0...10).contains(decimals) { throw ValidationError("--decimals must be 0 … 10.") }
    }

    func run() throws {
        let locator = ResultSetLocator(directory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                                       store: StoredRunResults(storeURL: LCBHome.resolve(storePath: store).store))
        let diff: ResultDiff
        do {
            let (before, after) = try locator.loadPair(old, new, spec: spec)
            diff = ResultDiffer(alpha: alpha).diff(old: before, new: after)
            print(try DiffRenderer.render(diff, format: DiffRenderer.Format(rawValue: format) ?? .md, decimals: decimals),
                  terminator: "")
        } catch let error as ReportingError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if let threshold = failOnRegression {
            let regressions = diff.regressions(largerThan: threshold)
            if !regressions.isEmpty {
                let list = regressions.map { "\($0.cell) \($0.metric) \(NumberText.signed($0.delta, decimals: decimals))" }
                FileHandle.standardError.write(Data(("\(regressions.count) significant regression(s) larger than \(NumberText.plain(threshold)) points: "
                    + list.joined(separator: "; ") + "\n").utf8))
                throw ExitCode(1)
            }
        }
    }
}
