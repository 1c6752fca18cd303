/// The tokenisation pycocoevalcap applies to every caption before scoring.
///
/// pycocoevalcap runs Stanford CoreNLP 3.4.1's `PTBTokenizer -preserveLines -lowerCase` in Java,
/// then drops the tokens in ``removedTokens``. This is a Swift implementation of the PTB rules that
/// occur in captions — punctuation split from words, quotes and brackets rewritten (`(` →
/// `-LRB-`), clitics split (`isn't` → `is n't`, `cat's` → `cat 's`, `cannot` → `can not`),
/// periods kept on abbreviations (`st.`, `p.m.`, `u.s.a.`) and inside numbers (`3.5`), hyphens
/// kept inside words — checked against the Java tokenizer by the committed fixtures. Like the
/// original, brackets survive as `-lrb-` because the removal list is upper-case and the tokens are
/// lower-cased first.
public enum PTBTokenizer {
    /// pycocoevalcap's punctuation list, exactly (note the upper-case bracket names).
    public static let removedTokens: Set<String> = ["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
                                                    ".", "?", "!", ",", ":", "-", "--", "...", ";"]

    /// A caption as pycocoevalcap scores it: lower-cased PTB tokens without punctuation, joined by spaces.
    public static func cocoTokenize(_ caption: String) -> String {
        tokens(caption.replacingOccurrences(of: "\n", with: " "))
            .filter { !removedTokens.contains($0) }
            .joined(separator: " ")
    }

    /// Lower-cased PTB tokens of one line, punctuation included.
    public static func tokens(_ line: String) -> [String] {
        var normalized = ""
        normalized.reserveCapacity(line.utf8.count)
        for character in line {
            switch character {
            case "\u{201C}", "\u{201D}", "\u{201E}", "\u{00AB}", "\u{00BB}": normalized.append("\"")
            case "\u{2018}", "\u{2019}", "\u{201A}": normalized.append("'")
            case "\u{2013}", "\u{2014}", "\u{2015}": normalized.append(" -- ")
            case "\u{2026}": normalized.append(" ... ")
            default: normalized.append(character)
            }
        }
        var result: [String] = []
        let chunks = normalized.split(whereSeparator: { $0.isWhitespace })
        for (index, chunk) in chunks.enumerated() {
            let next = index + 1 < chunks.count ? chunks[index + 1].first : nil
            result += tokenizeChunk(Array(chunk), nextCharacter: next)
        }
        return result.map { $0.lowercased() }
    }

    // MARK: - One whitespace-delimited chunk

    static let openingBrackets: [Character: String] = ["(": "-LRB-", "[": "-LSB-", "{": "-LCB-"]
    static let closingBrackets: [Character: String] = [")": "-RRB-", "]": "-RSB-", "}": "-RCB-"]
    /// Tokens that start with an apostrophe and stay whole.
    static let apostropheWords: Set<String> = ["'s", "'m", "'d", "'re", "'ve", "'ll", "'em", "'til", "'n'", "'n", "'t", "'"]

    static func tokenizeChunk(_ input: [Character], nextCharacter: Character? = nil) -> [String] {
        var text = input[...]
        var front: [String] = []
        var back: [String] = []
        var peeledClitic = false

        // Leading punctuation.
        while let first = text.first {
            if text.starts(with: ["'", "'"]) && text.count > 2 {
                front.append("''")
                text = text.dropFirst(2)
            } else if text.starts(with: ["`", "`"]) {
                front.append("``")
                text = text.dropFirst(2)
            } else if first == "\"" {
                front.append("``")
                text = text.dropFirst()
            } else if first == "`" {
                front.append("`")
                text = text.dropFirst()
            } else if first == "'" && text.count > 1 && !apostropheWords.contains(String(text).lowercased())
                        && !["'tis", "'twas"].contains(String(text).lowercased()) {
                front.append("`")
                text = text.dropFirst()
            } else if let bracket = openingBrackets[first] {
                front.append(bracket)
                text = text.dropFirst()
            } else if (first == "$" || first == "#") && text.count > 1 && text.dropFirst().first?.isNumber == true {
                front.append(String(first))
                text = text.dropFirst()
            } else if text.starts(with: ["-", "-"]) && text.count > 2 {
                front.append("--")
                text = text.dropFirst(2)
            } else if first == "-" && text.count > 1 && text.dropFirst().first?.isNumber != true {
                front.append("-")
                text = text.dropFirst()
            } else if text.starts(with: [".", ".", "."]) && text.count > 3 && !(text.dropFirst(3).first == ".") {
                front.append("...")
                text = text.dropFirst(3)
            } else {
                break
            }
        }

        // Trailing punctuation, collected in reverse.
        while let last = text.last, text.count > 1 {
            if text.count > 3 && text.hasSuffix(["'", "'", "s"]) {
                // A closing quote then `s` (`tick''s`): CoreNLP reads `''` and a bare `s`.
                back.append(String(text.suffix(1)))
                text = text.dropLast()
            } else if let clitic = trailingClitic(text) {
                back.append(clitic)
                text = text.dropLast(clitic.count)
                peeledClitic = true
            } else if text.hasSuffix(["'", "'"]) {
                back.append("''")
                text = text.dropLast(2)
            } else if last == "\"" {
                back.append("''")
                text = text.dropLast()
            } else if last == "'" {
                if ["'n'", "y'"].contains(String(text).lowercased()) { break }
                back.append("'")
                text = text.dropLast()
            } else if let bracket = closingBrackets[last] {
                back.append(bracket)
                text = text.dropLast()
            } else if last == "?" || last == "!" {
                let run = text.reversed().prefix { $0 == "?" || $0 == "!" }.count
                if run == text.count { break }
                back.append(String(text.suffix(run)))
                text = text.dropLast(run)
            } else if last == "," || last == ";" || last == ":" {
                back.append(String(last))
                text = text.dropLast()
            } else if last == "." {
                let dots = text.reversed().prefix { $0 == "." }.count
                if dots == text.count { break }
                let word = text.dropLast(dots)
                // "No." abbreviates "number" before a numeral ("No. 5") or a comma or semicolon; elsewhere
                // it is the word "no" ending a sentence.
                let numberSign = back.isEmpty ? nextCharacter?.isNumber == true : (back.last == "," || back.last == ";")
                let abbreviation = isAbbreviation(word) && (String(word).lowercased() != "no" || numberSign)
                // An abbreviation keeps one period; what follows is punctuation (`p.m..` → `p.m.` `.`,
                // `p.m....` → `p.m.` `...`); a plain word gives `.`, `. .` or `...` (`dog..` → `dog . .`).
                let rest = abbreviation ? dots - 1 : dots
                switch rest {
                case 0: break
                case 1: back.append(".")
                case 2: back += [".", "."]
                default: back.append("...")
                }
                text = abbreviation ? text.dropLast(rest) : word
                if abbreviation { break }
            } else if last == "/" {
                back.append("/")
                text = text.dropLast()
            } else if last == "%" {
                back.append("%")
                text = text.dropLast()
            } else if last == "-" {
                let isDouble = text.hasSuffix(["-", "-"]) && text.count > 2
                back.append(isDouble ? "--" : "-")
                text = text.dropLast(isDouble ? 2 : 1)
            } else {
                break
            }
        }

        var core: [String] = []
        if !text.isEmpty {
            // `cannot`-style splits apply to a whole word only: `cannot's` stays `cannot 's`.
            for piece in splitInternal(Array(text)) { core += peeledClitic ? [piece] : splitClitics(piece) }
        }
        return front + core.map(rewriteSingle) + back.reversed()
    }

    /// The clitic ending `text`, if any (`n't`, `'s`, `'m`, `'d`, `'re`, `'ve`, `'ll`), with something before it.
    static func trailingClitic(_ text: ArraySlice<Character>) -> String? {
        let lower = String(text).lowercased()
        for clitic in ["n't", "'re", "'ve", "'ll", "'s", "'m", "'d"] where lower.count > clitic.count && lower.hasSuffix(clitic) {
            let before = lower.dropLast(clitic.count)
            // `'s` after an apostrophe or quote is not a clitic of a word (`''s`); leave it whole.
            if before.hasSuffix("'") || before.hasSuffix("`") { return nil }
            return String(text.suffix(clitic.count))
        }
        return nil
    }

    /// A lone quote, bracket or ellipsis chunk in PTB form.
    static func rewriteSingle(_ token: String) -> String {
        switch token {
        case "\"": return "''"
        default:
            if token.count == 1, let character = token.first,
               let bracket = openingBrackets[character] ?? closingBrackets[character] {
                return bracket
            }
            if token.count >= 2 && token.allSatisfy({ $0 == "." }) { return "..." }
            return token
        }
    }

    /// Splits commas and semicolons between non-digits (`park,and` → `park , and`) and `$` before a
    /// digit inside a word (`us$5` → `us$ 5`).
    static func splitInternal(_ characters: [Character]) -> [String] {
        var pieces: [String] = []
        var current = ""
        for (index, character) in characters.enumerated() {
            let previous = index > 0 ? characters[index - 1] : nil
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            if (character == "," || character == ";"), let previous, let next, !current.isEmpty,
               !(previous.isNumber && next.isNumber) {
                pieces.append(current)
                pieces.append(String(character))
                current = ""
            } else if character == "$", let next, next.isNumber, !current.isEmpty {
                current.append(character)
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    static let splitWords: [String: [Int]] = [
        // word → lengths of its parts
        "cannot": [3, 3], "gonna": [3, 2], "gotta": [3, 2], "wanna": [3, 2], "lemme": [3, 2], "gimme": [3, 2],
        "'tis": [2, 2], "'twas": [2, 3],
    ]

    /// Splits clitics: `n't`, `'s`, `'m`, `'d`, `'re`, `'ve`, `'ll`, and `cannot`-style words.
    static func splitClitics(_ word: String) -> [String] {
        let lower = word.lowercased()
        if let lengths = splitWords[lower] {
            let first = word.prefix(lengths[0])
            return [String(first), String(word.dropFirst(lengths[0]))]
        }
        if lower.hasPrefix("y'") && lower.count > 2 && lower.dropFirst(2).allSatisfy(\.isLetter) {
            return [String(word.prefix(2)), String(word.dropFirst(2))]
        }
        if lower.count > 3 && lower.hasSuffix("n't") {
            return [String(word.dropLast(3)), String(word.suffix(3))]
        }
        for suffix in ["'s", "'m", "'d"] where lower.count > 2 && lower.hasSuffix(suffix) {
            return [String(word.dropLast(2)), String(word.suffix(2))]
        }
        for suffix in ["'re", "'ve", "'ll"] where lower.count > 3 && lower.hasSuffix(suffix) {
            return [String(word.dropLast(3)), String(word.suffix(3))]
        }
        return [word]
    }

    /// Abbreviations whose period stays attached (CoreNLP's list, as far as captions need it).
    static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "st", "jr", "sr", "co", "inc", "corp", "ltd", "bros", "vs", "etc", "no",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "ave", "blvd", "mt", "ft", "prof", "gen", "gov", "sen", "rep", "lt", "col", "capt", "sgt", "rev",
        "hon", "messrs", "e.g", "i.e",
    ]

    /// True for a word whose final period belongs to it: a known abbreviation, or single letters
    /// joined by periods (`p.m`, `u.s.a`, `j`).
    static func isAbbreviation(_ word: ArraySlice<Character>) -> Bool {
        guard !word.isEmpty else { return false }
        let text = String(word).lowercased()
        if abbreviations.contains(text) { return true }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.allSatisfy { $0.count == 1 && $0.first?.isLetter == true }
    }
}

extension ArraySlice where Element == Character {
    func hasSuffix(_ suffix: [Character]) -> Bool {
        count >= suffix.count && Array(self.suffix(suffix.count)) == suffix
    }
}
