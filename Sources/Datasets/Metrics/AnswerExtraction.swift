import Foundation

/// Turns free model output into the answer a benchmark's official script would read from it.
public enum AnswerExtraction {
    /// POPE's rule (POPE `evaluate.py`, LLaVA `eval_pope.py`): keep the text before the first
    /// period, drop commas, split on spaces; "no" if a word is exactly `No`, `no` or `not`, else "yes".
    public static func popeYesNo(_ output: String) -> String {
        var text = Substring(output)
        if let period = text.firstIndex(of: ".") { text = text[..<period] }
        let words = text.replacingOccurrences(of: ",", with: "").split(separator: " ", omittingEmptySubsequences: false)
        return words.contains(where: { $0 == "No" || $0 == "no" || $0 == "not" }) ? "no" : "yes"
    }

    /// MME's rule (`calculation.py` `parse_pred_ans`), after lower-casing: the whole answer if it
    /// is `yes` or `no`, else `yes` / `no` if found in the first four characters, else `other`
    /// (counted wrong). Surrounding whitespace is trimmed first.
    public static func mmeYesNo(_ output: String) -> String {
        let answer = output.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if answer == "yes" || answer == "no" { return answer }
        let prefix = String(answer.prefix(4))
        if prefix.contains("yes") { return "yes" }
        if prefix.contains("no") { return "no" }
        return "other"
    }

    /// LLaVA's ScienceQA rule (`model_vqa_science` / `eval_science_qa`): the answer is the output
    /// if it is one of the option letters; else its first letter when it starts `X. `; else the
    /// single match of `The answer is X.`; otherwise none (counted wrong).
    /// The output is trimmed first, as LLaVA's generation script strips what it writes.
    public static func llavaOptionLetter(_ rawOutput: String, choiceCount: Int) -> Int? {
        let output = rawOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let letters = (0..<min(choiceCount, 26)).map { String(Character(UnicodeScalar(UInt8(65 + $0)))) }
        if let index = letters.firstIndex(of: output) { return index }
        let characters = Array(output)
        if characters.count >= 3, let index = letters.firstIndex(of: String(characters[0])),
           characters[1] == ".", characters[2] == " " {
            return index
        }
        // re.findall(r'The answer is ([A-Z]).', text): non-overlapping, any character after the letter.
        var matches: [Character] = []
        var rest = Substring(output)
        while let range = rest.range(of: "The answer is ") {
            let after = rest[range.upperBound...]
            // `.` in the pattern matches any character but a newline.
            if after.count >= 2, let letter = after.first, letter.isASCII, letter.isUppercase,
               after.dropFirst().first?.isNewline == false {
                matches.append(letter)
                rest = after.dropFirst(2)
            } else {
                rest = rest[range.upperBound...]
            }
        }
        guard matches.count == 1 else { return nil }
        return letters.firstIndex(of: String(matches[0]))
    }

    /// A lenient option reader for `(a)`-style choices (MMVP): `a`, `A`, `(a)`, `a.`, `(a) Open`,
    /// or the text of one choice exactly (case-insensitive).
    public static func optionLetter(_ output: String, choices: [String]) -> Int? {
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let lowered = trimmed.lowercased()
        func index(of letter: Character?) -> Int? {
            guard let letter, let scalar = letter.unicodeScalars.first, letter.isASCII, letter.isLetter else { return nil }
            let value = Int(scalar.value) - 97
            return value >= 0 && value < choices.count ? value : nil
        }
        let bare = lowered.trimmingCharacters(in: CharacterSet(charactersIn: "().: "))
        if bare.count == 1, let found = index(of: bare.first) { return found }
        if lowered.hasPrefix("("), lowered.count >= 3, Array(lowered)[2] == ")" { return index(of: Array(lowered)[1]) }
        let characters = Array(lowered)
        if characters.count >= 2, characters[1] == "." || characters[1] == ")", let found = index(of: characters[0]) { return found }
        let stripped = lowered.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        return choices.firstIndex { $0.lowercased() == stripped }
    }

    /// GQA as LLaVA submits it (`convert_gqa_for_eval`: trailing periods stripped, lower-cased),
    /// compared exactly by GQA's `eval.py`. Whitespace around the answer is trimmed too.
    public static func gqaNormalized(_ text: String) -> String {
        var result = text.trimmingCharacters(in: .whitespacesAndNewlines)
        while result.hasSuffix(".") { result.removeLast() }
        return result.lowercased()
    }
}
