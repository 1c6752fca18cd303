import Foundation

/// ScienceQA-IMG: a folder with `problems.json` (pid → `question`, `choices`, `answer` index,
/// `hint`, `image`), `pid_splits.json` (split → pids) and `images/<split>/<pid>/image.png`.
///
/// Only problems with an image are kept (the IMG subset). The prompt follows LLaVA's CQM format
/// (see ``promptText(question:hint:choices:)``); the reference is the answer's letter.
enum ScienceQALoader {
    static func load(_ context: LoadContext) throws -> [Sample] {
        let root = context.main
        let folder = root.isDirectory ? root : context.mainFolder
        let problemsPath = root.isDirectory ? root.appending("problems.json") : root
        let splitsPath = context.location.annotations.map { UserPath($0, relativeTo: context.base) } ?? folder.appending("pid_splits.json")
        let split = context.options.split ?? "test"
        let images = context.imageFolder(default: folder.appending("images/\(split)"))

        let problemsDocument = try JSONFile.document(problemsPath, expecting: "ScienceQA problems (an object keyed by problem id)")
        guard let problems = problemsDocument as? [String: Any] else {
            throw DatasetError(file: problemsPath.display, message: "expected an object keyed by problem id, found \(JSONRecord.describe(problemsDocument))")
        }
        let splitsDocument = try JSONFile.document(splitsPath, expecting: "ScienceQA splits (split name → problem ids)")
        guard let splits = splitsDocument as? [String: Any] else {
            throw DatasetError(file: splitsPath.display, message: "expected an object of split name → problem ids, found \(JSONRecord.describe(splitsDocument))")
        }
        guard let pidValues = splits[split] as? [Any] else {
            throw DatasetError(file: splitsPath.display, message: "no split '\(split)'; expected one of \(splits.keys.sorted().joined(separator: ", "))")
        }
        var samples: [Sample] = []
        for (position, value) in pidValues.enumerated() {
            if context.reachedLimit(samples.count) { break }
            guard let pid = JSONRecord.identifierText(value) else {
                throw DatasetError(file: splitsPath.display, location: .record("\(split)[\(position)]"),
                                   message: "expected a problem id, found \(JSONRecord.describe(value))")
            }
            guard let problem = problems[pid] else {
                throw DatasetError(file: splitsPath.display, location: .record("\(split)[\(position)]"),
                                   message: "problem id \(pid) is not in \(problemsPath.display)",
                                   hint: "use pid_splits.json from the same ScienceQA release as problems.json")
            }
            let record = try JSONRecord(problem, file: problemsPath.display, location: .record(pid), what: "a problem")
            guard let imageName = try record.optionalString("image") else { continue }
            let choices = try record.strings("choices")
            let answer = try record.integer("answer")
            guard choices.count >= 2, choices.count <= 26 else {
                throw record.error("field 'choices' should hold 2 to 26 choices, found \(choices.count)")
            }
            guard answer >= 0, answer < choices.count else {
                throw record.error("field 'answer' should index 'choices' (0..<\(choices.count)), found \(answer)")
            }
            let question = try record.string("question")
            let hint = (try record.optionalString("hint") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let prompt = promptText(question: question, hint: hint, choices: choices)
            let imagePath = try context.image("\(pid)/\(imageName)", in: images, file: problemsPath.display, location: record.location)
            samples.append(Sample(id: "scienceqa/\(pid)", imagePath: imagePath, question: prompt,
                                  promptSuffix: context.suffix, references: [letter(answer)],
                                  answerType: .multipleChoice(choices: choices)))
        }
        return samples
    }

    /// LLaVA's CQM prompt (`convert_sqa_to_llava`): `Context: <hint or N/A>`, `Question: …`,
    /// `Options: (A) … (B) …`, with double spaces collapsed once and the ends trimmed, as there.
    static func promptText(question: String, hint: String, choices: [String]) -> String {
        let options = choices.enumerated().map { "(\(letter($0.offset))) \($0.element)" }.joined(separator: " ")
        let text = "Context: \(hint.isEmpty ? "N/A" : hint)\nQuestion: \(question)\nOptions: \(options)\n"
        return text.replacingOccurrences(of: "  ", with: " ").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func letter(_ index: Int) -> String {
        String(Character(UnicodeScalar(UInt8(ascii: "A") + UInt8(index))))
    }
}
