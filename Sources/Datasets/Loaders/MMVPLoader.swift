import Foundation

/// MMVP: a folder with `Questions.csv` (`Index,Question,Options,Correct Answer`) and
/// `MMVP Images/<Index>.jpg`. Questions 2k−1 and 2k ask about the two images of pair k.
///
/// Options read `(a) Open (b) Closed`; the answer `(a)`. The prompt lists the options after the
/// question, as LLaVA's multiple-choice prompts do, and the reference is the letter.
enum MMVPLoader {
    static func load(_ context: LoadContext) throws -> [Sample] {
        let root = context.main
        let csvPath = root.isDirectory ? root.appending("Questions.csv") : root
        let folder = root.isDirectory ? root : context.mainFolder
        let images = context.imageFolder(default: folder.appending("MMVP Images"))
        let data = try csvPath.read(expecting: "the MMVP questions CSV (Index,Question,Options,Correct Answer)")
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError(file: csvPath.display, message: "is not UTF-8 text")
        }
        let rows: [CSVReader.Row]
        do {
            rows = try CSVReader.rows(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        } catch CSVReader.Failure.unterminatedQuote(let line) {
            throw DatasetError(file: csvPath.display, location: .line(line), message: "quoted field is never closed")
        } catch CSVReader.Failure.strayQuote(let line) {
            throw DatasetError(file: csvPath.display, location: .line(line), message: "a quote inside an unquoted field; quote the whole field and double inner quotes")
        }
        guard let header = rows.first else {
            throw DatasetError(file: csvPath.display, message: "is empty; expected a header line Index,Question,Options,Correct Answer")
        }
        // The released file spells the first column "lndex"; accept both.
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ wanted: [String]) throws -> Int {
            guard let index = names.firstIndex(where: wanted.contains) else {
                throw DatasetError(file: csvPath.display, location: .line(header.line),
                                   message: "header has no '\(wanted[0])' column; expected Index,Question,Options,Correct Answer")
            }
            return index
        }
        let indexColumn = try column(["index", "lndex"])
        let questionColumn = try column(["question"])
        let optionsColumn = try column(["options"])
        let answerColumn = try column(["correct answer", "answer"])
        var samples: [Sample] = []
        for row in rows.dropFirst() {
            if context.reachedLimit(samples.count) { break }
            func fail(_ message: String) -> DatasetError {
                DatasetError(file: csvPath.display, location: .line(row.line), message: message)
            }
            guard row.fields.count == names.count else {
                throw fail("expected \(names.count) fields, found \(row.fields.count)")
            }
            let indexText = row.fields[indexColumn].trimmingCharacters(in: .whitespaces)
            guard let index = Int(indexText), index >= 1 else {
                throw fail("Index should be a positive integer, found \"\(indexText)\"")
            }
            let options = row.fields[optionsColumn].trimmingCharacters(in: .whitespaces)
            let choices = parseOptions(options)
            guard choices.count >= 2 else {
                throw fail("Options should list choices as \"(a) … (b) …\", found \"\(options)\"")
            }
            let answer = row.fields[answerColumn].trimmingCharacters(in: .whitespaces)
            guard let letter = answerLetter(answer), letter < choices.count else {
                throw fail("Correct Answer should be one of the option letters like \"(a)\", found \"\(answer)\"")
            }
            let imagePath = try context.image("\(index).jpg", in: images, file: csvPath.display, location: .line(row.line))
            let question = row.fields[questionColumn].trimmingCharacters(in: .whitespaces) + "\n" + options
            samples.append(Sample(id: "mmvp/\(index)", imagePath: imagePath, question: question, promptSuffix: context.suffix,
                                  references: [String(letterName(letter))], answerType: .multipleChoice(choices: choices),
                                  groups: SampleGroups(mmvpPairID: (index - 1) / 2)))
        }
        return samples
    }

    static func letterName(_ index: Int) -> Character {
        Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(index)))
    }

    /// `(a) Open (b) Closed` → ["Open", "Closed"].
    static func parseOptions(_ text: String) -> [String] {
        var choices: [String] = []
        var rest = Substring(text)
        var expected = 0
        guard rest.hasPrefix("(a)") else { return [] }
        while true {
            let marker = "(\(letterName(expected)))"
            guard rest.hasPrefix(marker) else { break }
            rest = rest.dropFirst(marker.count)
            let next = "(\(letterName(expected + 1)))"
            if let range = rest.range(of: next) {
                choices.append(rest[..<range.lowerBound].trimmingCharacters(in: .whitespaces))
                rest = rest[range.lowerBound...]
            } else {
                choices.append(rest.trimmingCharacters(in: .whitespaces))
                break
            }
            expected += 1
        }
        return choices
    }

    /// `(a)` or `a` → 0.
    static func answerLetter(_ text: String) -> Int? {
        let stripped = text.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).lowercased()
        guard stripped.count == 1, let scalar = stripped.unicodeScalars.first, scalar >= "a", scalar <= "z" else { return nil }
        return Int(scalar.value - UnicodeScalar("a").value)
    }
}
