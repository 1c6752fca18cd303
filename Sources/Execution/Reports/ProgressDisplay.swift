import Foundation

/// Renders per-experiment progress: in place on a terminal, as occasional plain lines otherwise.
///
/// Pure formatting plus a clock, so tests can drive it: `update` returns the text to write.
public struct ProgressDisplay {
    public var interactive: Bool
    /// Plain mode prints a line at most this often per experiment (and always at the end).
    public var plainInterval: TimeInterval = 5
    private var order: [String] = []
    private var states: [String: ExperimentProgress] = [:]
    private var computedStart: [String: (date: Date, computed: Int)] = [:]
    private var lastPlain: [String: Date] = [:]
    private var drawnLines = 0

    public init(interactive: Bool) {
        self.interactive = interactive
    }

    /// One experiment's line: `quickstart  37/80 (12 stored)  2.1 samples/s  ETA 0:20`.
    public static func line(_ progress: ExperimentProgress, rate: Double?) -> String {
        var text = "\(progress.experiment)  \(progress.done)/\(progress.total)"
        let stored = progress.done - progress.computed - progress.failed
        if stored > 0 { text += " (\(stored) from the store)" }
        if progress.failed > 0 { text += " \(progress.failed) failed" }
        if let rate, rate > 0 {
            text += String(format: "  %.2f samples/s", rate)
            let remaining = Double(progress.total - progress.done) / rate
            if progress.done < progress.total { text += "  ETA " + duration(remaining) }
        }
        if progress.done == progress.total { text += "  done" }
        return text
    }

    /// `1:05`, `1:02:03`.
    public static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let hours = total / 3600
        let minutes = (total % 3600) / 60
        let secs = total % 60
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }

    /// Records new progress; returns what to write to the terminal (possibly nothing).
    public mutating func update(_ progress: ExperimentProgress, now: Date = Date()) -> String {
        let name = progress.experiment
        if states[name] == nil { order.append(name) }
        states[name] = progress
        if computedStart[name] == nil { computedStart[name] = (now, progress.computed) }
        if interactive {
            // Move up over the block drawn last time and redraw every experiment's line.
            var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
            for experiment in order {
                guard let state = states[experiment] else { continue }
                text += "\r\u{1B}[K" + Self.line(state, rate: rate(experiment, now: now)) + "\n"
            }
            drawnLines = order.count
            return text
        }
        let finished = progress.done == progress.total
        if finished || lastPlain[name].map({ now.timeIntervalSince($0) >= plainInterval }) ?? true {
            lastPlain[name] = now
            return Self.line(progress, rate: rate(name, now: now)) + "\n"
        }
        return ""
    }

    /// Computed samples per second since the experiment's first report.
    func rate(_ experiment: String, now: Date) -> Double? {
        guard let start = computedStart[experiment], let state = states[experiment] else { return nil }
        let elapsed = now.timeIntervalSince(start.date)
        let computed = state.computed - start.computed
        guard elapsed > 0.5, computed > 0 else { return nil }
        return Double(computed) / elapsed
    }
}
