import Foundation

/// Grades open answers against a reference, 0 to 1 (MM-Vet's GPT-4 grader). Pluggable and off by default.
public protocol AnswerJudge: Sendable {
    /// Identifies the judge in reports.
    var name: String { get }
    func grades(_ items: [JudgeItem]) throws -> [Double]
}

/// What a judge sees for one answer.
public struct JudgeItem: Sendable, Hashable {
    public var id: String
    public var question: String
    public var reference: String
    public var prediction: String
    public var capabilities: [String]
    public init(id: String, question: String, reference: String, prediction: String, capabilities: [String]) {
        self.id = id
        self.question = question
        self.reference = reference
        self.prediction = prediction
        self.capabilities = capabilities
    }
}

/// A judge run as an external command (e.g. a script calling GPT-4 with MM-Vet's few-shot prompt).
///
/// Protocol: stdin receives one JSON object per answer, `{"id", "question", "answer", "prediction",
/// "capability"}`; stdout must hold one line per answer: a number in [0, 1], or a JSON object with `score`.
public struct CommandJudge: AnswerJudge {
    public let command: String
    public let name: String

    public init(command: String, name: String? = nil) {
        self.command = command
        self.name = name ?? "command: \(command)"
    }

    public func grades(_ items: [JudgeItem]) throws -> [Double] {
        let lines: [[String: Any]] = items.map {
            ["id": $0.id, "question": $0.question, "answer": $0.reference, "prediction": $0.prediction, "capability": $0.capabilities]
        }
        let grades = try ExternalCommand(command: command, role: "judge").scores(for: lines, keys: ["score", "grade"])
        if let index = grades.firstIndex(where: { $0 < 0 || $0 > 1 }) {
            throw ScorerError(message: "judge command '\(command)' gave \(grades[index]) for \(items[index].id); expected a grade in [0, 1]")
        }
        return grades
    }
}
