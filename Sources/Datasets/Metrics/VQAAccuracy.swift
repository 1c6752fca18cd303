import Foundation

/// The VQA accuracy of the official VQAv2 evaluation (`vqaEval.py`), with the answer processing
/// LLaVA applies before submission (`EvalAIAnswerProcessor`).
public enum VQAAccuracy {
    /// Accuracy of one prediction against the human answers, in [0, 1].
    ///
    /// The prediction is processed as LLaVA's submission converter does; then, as the official
    /// evaluator does, answers and prediction are normalised again only when the humans disagree;
    /// each of the n leave-one-out subsets scores min(1, matches / 3); the mean is returned.
    public static func score(prediction: String, answers: [String], processPrediction: Bool = true) -> Double {
        guard !answers.isEmpty else { return 0 }
        var result = processPrediction ? evalAIProcess(prediction) : prediction
        result = cleanWhitespace(result)
        var references = answers.map(cleanWhitespace)
        if Set(references).count > 1 {
            references = references.map { processDigitArticle(processPunctuation($0, commaRun: false)) }
            result = processDigitArticle(processPunctuation(result, commaRun: false))
        }
        var total = 0.0
        for left in references.indices {
            var matches = 0
            for other in references.indices where other != left && references[other] == result { matches += 1 }
            total += min(1, Double(matches) / 3)
        }
        return total / Double(references.count)
    }

    /// `EvalAIAnswerProcessor.__call__`: lower-case, drop `,` and `?`, split off `'s`, then
    /// punctuation, number words, articles and contractions.
    public static func evalAIProcess(_ text: String) -> String {
        // One pass for `replace(",", "").replace("?", "").replace("'s", " 's")` (no step creates
        // another's pattern), then newlines and tabs to spaces.
        var item = ""
        var characters = Array(text.lowercased())[...]
        while let character = characters.popFirst() {
            switch character {
            case ",", "?": continue
            case "'" where characters.first == "s":
                item += " '"
            case "\n", "\t":
                item.append(" ")
            default:
                item.append(character)
            }
        }
        return processDigitArticle(processPunctuation(pythonStrip(item), commaRun: true))
    }

    static func cleanWhitespace(_ text: String) -> String {
        guard text.contains(where: { $0 == "\n" || $0 == "\t" || $0.isWhitespace }) else { return text }
        return pythonStrip(String(text.map { $0 == "\n" || $0 == "\t" ? " " : $0 }))
    }

    static func pythonStrip(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let punctuation: [Character] = [";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-",
                                           ">", "<", "@", "`", ",", "?", "!"]
    static let punctuationSet = Set(punctuation)

    /// `processPunctuation`: each mark is deleted when it touches a space (or the text holds a
    /// digit-comma-digit), else replaced by a space; then periods not followed by a digit are
    /// deleted — at most 32, because the official code passes `re.UNICODE` (32) as `count`.
    ///
    /// The official code replaces mark by mark, but every decision reads the original text and no
    /// replacement creates another mark, so one pass gives the same string.
    /// `commaRun`: EvalAI's comma pattern allows several commas between the digits; the official one exactly one.
    public static func processPunctuation(_ text: String, commaRun: Bool) -> String {
        let characters = Array(text)
        guard characters.contains(where: { punctuationSet.contains($0) || $0 == "." }) else { return text }
        let hasDigitComma = containsDigitCommaDigit(characters, allowRun: commaRun)
        var deletes: Set<Character> = []
        for (index, character) in characters.enumerated() where punctuationSet.contains(character) {
            let spaceBefore = index > 0 && characters[index - 1] == " "
            let spaceAfter = index + 1 < characters.count && characters[index + 1] == " "
            if hasDigitComma || spaceBefore || spaceAfter { deletes.insert(character) }
        }
        var replaced: [Character] = []
        replaced.reserveCapacity(characters.count)
        for character in characters {
            if punctuationSet.contains(character) {
                if !deletes.contains(character) { replaced.append(" ") }
            } else {
                replaced.append(character)
            }
        }
        var result: [Character] = []
        result.reserveCapacity(replaced.count)
        var removed = 0
        for (index, character) in replaced.enumerated() {
            let nextIsDigit = index + 1 < replaced.count && isASCIIDigit(replaced[index + 1])
            if character == ".", !nextIsDigit, removed < 32 {
                removed += 1
            } else {
                result.append(character)
            }
        }
        return String(result)
    }

    /// `processDigitArticle`: lower-case, split on whitespace, number words to digits, drop
    /// articles, expand known contractions, join with single spaces.
    public static func processDigitArticle(_ text: String) -> String {
        var words: [String] = []
        for word in text.lowercased().split(whereSeparator: { $0.isWhitespace }) {
            let mapped = numberWords[String(word)] ?? String(word)
            if !articles.contains(mapped) { words.append(mapped) }
        }
        return words.map { contractions[$0] ?? $0 }.joined(separator: " ")
    }

    static func isASCIIDigit(_ character: Character) -> Bool {
        character.isASCII && character.isNumber
    }

    static func containsDigitCommaDigit(_ characters: [Character], allowRun: Bool) -> Bool {
        var index = 0
        while index < characters.count {
            if isASCIIDigit(characters[index]) {
                var next = index + 1
                var commas = 0
                while next < characters.count, characters[next] == "," {
                    commas += 1
                    next += 1
                    if !allowRun { break }
                }
                if commas > 0, next < characters.count, isASCIIDigit(characters[next]) { return true }
            }
            index += 1
        }
        return false
    }

    static let articles: Set<String> = ["a", "an", "the"]

    static let numberWords: [String: String] = [
        "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
        "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
    ]

    /// The official contraction table (apostrophe-less spellings → standard ones).
    static let contractions: [String: String] = [
        "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
        "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
        "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
        "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
        "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm",
        "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
        "let's": "let's", "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've",
        "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've",
        "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
        "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
        "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
        "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
        "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
        "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
        "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll",
        "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
        "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's",
        "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're",
        "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've",
        "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't",
        "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll",
        "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd",
        "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've",
        "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll",
        "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't",
        "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll",
        "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've",
        "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll",
        "youre": "you're", "youve": "you've",
    ]
}
