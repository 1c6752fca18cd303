import Foundation

/// MME's fourteen subtasks, as the benchmark names its folders.
public enum MMESubtasks {
    /// Perception: ten subtasks, 200 points each (acc×100 + acc+×100).
    public static let perception = ["existence", "count", "position", "color", "posters", "celebrity",
                                    "scene", "landmark", "artwork", "OCR"]
    /// Cognition: four subtasks.
    public static let cognition = ["commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning"]
    public static let all = perception + cognition

    /// The canonical name for a folder or file stem, matched without regard to case.
    static func canonical(_ name: String) -> String? {
        all.first { $0.lowercased() == name.lowercased() }
    }
}

/// MME: a root folder with one folder per subtask holding images and question/answer `.txt` files.
///
/// Both layouts of the release are read: `<subtask>/images/*.jpg` with
/// `<subtask>/questions_answers_YN/<image stem>.txt`, and images beside their `.txt` in
/// `<subtask>/`. A `.txt` line is `question<TAB>answer` (the image is the file's stem) or
/// `image<TAB>question<TAB>answer`; the eval tool's per-subtask files `<root>/<subtask>.txt` with
/// three fields per line are read too. `split` keeps one subtask, or `perception` / `cognition`.
enum MMELoader {
    static let imageExtensions = ["jpg", "png", "jpeg", "JPG", "PNG", "JPEG"]

    static func load(_ context: LoadContext) throws -> [Sample] {
        let root = context.main
        let entries = try root.listDirectory(expecting: "the MME folder with one folder per subtask")
        let wanted = try selectedSubtasks(context.options.split, file: root.display)
        var samples: [Sample] = []
        var foundAny = false
        for subtask in MMESubtasks.all where wanted.contains(subtask) {
            guard let entry = entry(for: subtask, in: entries) else { continue }
            foundAny = true
            let path = root.appending(entry)
            let remaining = context.options.limit.map { $0 - samples.count }
            if let remaining, remaining <= 0 { break }
            var loaded: [Sample]
            if path.isDirectory {
                loaded = try loadFolder(path, subtask: subtask, context: context)
            } else {
                let images = context.imageFolder(default: root).appending(subtask)
                loaded = try loadTextFile(path, subtask: subtask, defaultImage: nil, images: images, context: context)
            }
            if let remaining, loaded.count > remaining { loaded = Array(loaded.prefix(remaining)) }
            samples += loaded
        }
        guard foundAny else {
            let names = MMESubtasks.all.filter(wanted.contains)
            throw DatasetError(file: root.display, message: "no MME subtask folders found; expected folders named \(names.joined(separator: ", "))",
                               hint: "point the dataset path at MME_Benchmark_release_version")
        }
        return samples
    }

    /// The folder `<subtask>` or the eval-tool file `<subtask>.txt` (a folder wins when both exist).
    static func entry(for subtask: String, in entries: [String]) -> String? {
        entries.first { MMESubtasks.canonical($0) == subtask }
            ?? entries.first { $0.hasSuffix(".txt") && MMESubtasks.canonical(($0 as NSString).deletingPathExtension) == subtask }
    }

    static func selectedSubtasks(_ split: String?, file: String) throws -> Set<String> {
        guard let split else { return Set(MMESubtasks.all) }
        switch split.lowercased() {
        case "perception": return Set(MMESubtasks.perception)
        case "cognition": return Set(MMESubtasks.cognition)
        default:
            guard let subtask = MMESubtasks.canonical(split) else {
                throw DatasetError(file: file, message: "unknown MME split '\(split)'; expected perception, cognition or one of \(MMESubtasks.all.joined(separator: ", "))")
            }
            return [subtask]
        }
    }

    static func loadFolder(_ folder: UserPath, subtask: String, context: LoadContext) throws -> [Sample] {
        let questionFolder = folder.appending("questions_answers_YN")
        let textFolder = questionFolder.isDirectory ? questionFolder : folder
        let imageFolder = folder.appending("images").isDirectory ? folder.appending("images") : folder
        let textFiles = try textFolder.listDirectory(expecting: "MME question files").filter { $0.hasSuffix(".txt") }
        guard !textFiles.isEmpty else {
            throw DatasetError(file: textFolder.display, message: "no .txt question files in subtask '\(subtask)'")
        }
        var samples: [Sample] = []
        for name in textFiles {
            let stem = (name as NSString).deletingPathExtension
            let image = imageExtensions.map { "\(stem).\($0)" }.first { imageFolder.appending($0).exists }
            samples += try loadTextFile(textFolder.appending(name), subtask: subtask, defaultImage: image ?? "\(stem).jpg",
                                        images: context.location.images.map { UserPath($0, relativeTo: context.base).appending(subtask) } ?? imageFolder,
                                        context: context)
        }
        return samples
    }

    /// Reads `question<TAB>answer` lines (image = `defaultImage`) or `image<TAB>question<TAB>answer` lines.
    static func loadTextFile(_ file: UserPath, subtask: String, defaultImage: String?, images: UserPath,
                             context: LoadContext) throws -> [Sample] {
        let data = try file.read(expecting: "MME question lines (question<TAB>answer)")
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError(file: file.display, message: "is not UTF-8 text")
        }
        var samples: [Sample] = []
        var questionsPerImage: [String: Int] = [:]
        // Character-wise, "\r\n" is one newline, so CRLF files split like LF ones.
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let image: String, question: String, answer: String
            switch (fields.count, defaultImage) {
            case (2, let stem?): (image, question, answer) = (stem, fields[0], fields[1])
            case (3, _), (4, _): (image, question, answer) = (fields[0], fields[1], fields[2])
            default:
                throw DatasetError(file: file.display, location: .line(index + 1),
                                   message: "expected \(defaultImage == nil ? "image<TAB>question<TAB>answer" : "question<TAB>answer") separated by tabs, found \(fields.count) field(s)")
            }
            let label = answer.trimmingCharacters(in: .whitespaces).lowercased()
            guard label == "yes" || label == "no" else {
                throw DatasetError(file: file.display, location: .line(index + 1),
                                   message: "answer should be Yes or No, found \"\(answer)\"")
            }
            let imagePath = try context.image(image, in: images, file: file.display, location: .line(index + 1))
            let ordinal = questionsPerImage[image, default: 0]
            questionsPerImage[image] = ordinal + 1
            samples.append(Sample(id: "mme/\(subtask)/\(image)/\(ordinal)", imagePath: imagePath,
                                  question: question.trimmingCharacters(in: .whitespaces), promptSuffix: context.suffix,
                                  references: [label], answerType: .yesNo,
                                  groups: SampleGroups(mme: MMEGroup(subtask: subtask, imageID: image))))
        }
        return samples
    }
}
