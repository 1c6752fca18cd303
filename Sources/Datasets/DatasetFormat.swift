import Foundation

/// The on-disk formats `lcb` reads, one per benchmark family.
public enum DatasetFormat: String, Sendable, Hashable, Codable, CaseIterable {
    case pope
    case gqa
    case vqav2
    case mme
    case mmvp
    case hallusionBench = "hallusionbench"
    case scienceQA = "scienceqa"
    case cocoCaptions = "coco-captions"
    case mmVet = "mm-vet"
    case counterfactualSets = "counterfactual-sets"
    case jsonl

    /// Whether `LoadOptions.split` means something for this format (silently ignoring it would
    /// let a typo run the wrong data).
    public var acceptsSplit: Bool {
        switch self {
        case .pope, .vqav2, .mme, .scienceQA: return true
        case .gqa, .mmvp, .hallusionBench, .cocoCaptions, .mmVet, .counterfactualSets, .jsonl: return false
        }
    }

    /// LLaVA's evaluation suffix for this dataset (see docs/datasets.md); a spec may override it.
    public var defaultPromptSuffix: String {
        switch self {
        case .pope, .gqa, .vqav2, .mme: return PromptSuffix.shortAnswer
        case .scienceQA, .mmvp: return PromptSuffix.multipleChoice
        case .cocoCaptions: return PromptSuffix.caption
        case .hallusionBench, .mmVet, .counterfactualSets, .jsonl: return ""
        }
    }
}

/// LLaVA-1.5's evaluation instructions, appended to the question on its own line.
public enum PromptSuffix {
    /// VQAv2, GQA, MME, POPE.
    public static let shortAnswer = "Answer the question using a single word or phrase."
    /// ScienceQA-IMG, MMVP.
    public static let multipleChoice = "Answer with the option's letter from the given choices directly."
    /// COCO captioning (lmms-eval's LLaVA prompt).
    public static let caption = "Provide a one-sentence caption for the provided image."
}

/// Where a dataset's files are. Which fields a format uses is listed in docs/datasets.md.
public struct DatasetLocation: Sendable, Hashable, Codable {
    /// The main file or folder: the JSONL/JSON/CSV file, or the dataset's root folder (MME, MMVP, ScienceQA).
    public var path: String
    /// Image folder, when images are not where the format puts them by default.
    public var images: String?
    /// A second annotation file: VQAv2's annotations JSON (questions are in `path`);
    /// ScienceQA's `pid_splits.json` when not beside `problems.json`.
    public var annotations: String?

    public init(path: String, images: String? = nil, annotations: String? = nil) {
        self.path = path
        self.images = images
        self.annotations = annotations
    }
}

/// How much of a dataset to load and how to prompt it.
public struct LoadOptions: Sendable, Hashable, Codable {
    /// Split name where the format has several (ScienceQA: `test`, `val`, …; POPE: a category
    /// `random` / `popular` / `adversarial` filter; VQAv2: the image subfolder, e.g. `val2014`).
    public var split: String?
    /// Keep only the first `limit` samples in file order (after the split filter).
    public var limit: Int?
    /// Replaces the dataset's default suffix (``DatasetFormat/defaultPromptSuffix``); "" for none.
    public var promptSuffix: String?
    /// Check that every referenced image file exists (one `stat` per image).
    public var checkImages: Bool
    /// Relative paths are resolved against this folder (default: the current directory).
    public var baseDirectory: String?

    public init(split: String? = nil, limit: Int? = nil, promptSuffix: String? = nil,
                checkImages: Bool = true, baseDirectory: String? = nil) {
        self.split = split
        self.limit = limit
        self.promptSuffix = promptSuffix
        self.checkImages = checkImages
        self.baseDirectory = baseDirectory
    }
}

/// Reads any supported dataset into ``Sample``s.
public enum DatasetLoader {
    /// Loads `format` from `location`, validating every record; throws ``DatasetError`` for the first bad one.
    public static func load(_ format: DatasetFormat, at location: DatasetLocation,
                            options: LoadOptions = LoadOptions()) throws -> [Sample] {
        if let limit = options.limit, limit < 0 {
            throw DatasetError(file: location.path, message: "limit must be 0 or more, got \(limit)")
        }
        if let split = options.split, !format.acceptsSplit {
            throw DatasetError(file: location.path, message: "format '\(format.rawValue)' has no splits, but split '\(split)' was given",
                               hint: "remove the split, or point the path at the file of the split you want")
        }
        let context = LoadContext(format: format, location: location, options: options)
        let samples: [Sample]
        switch format {
        case .pope: samples = try POPELoader.load(context)
        case .gqa: samples = try GQALoader.load(context)
        case .vqav2: samples = try VQAv2Loader.load(context)
        case .mme: samples = try MMELoader.load(context)
        case .mmvp: samples = try MMVPLoader.load(context)
        case .hallusionBench: samples = try HallusionBenchLoader.load(context)
        case .scienceQA: samples = try ScienceQALoader.load(context)
        case .cocoCaptions: samples = try COCOCaptionsLoader.load(context)
        case .mmVet: samples = try MMVetLoader.load(context)
        case .counterfactualSets: samples = try CounterfactualSetsLoader.load(context)
        case .jsonl: samples = try GenericJSONLLoader.load(context)
        }
        try checkUniqueIDs(samples, file: location.path)
        return samples
    }

    private static func checkUniqueIDs(_ samples: [Sample], file: String) throws {
        var seen = Set<String>()
        for sample in samples where !seen.insert(sample.id).inserted {
            throw DatasetError(file: file, location: .record(sample.id),
                               message: "duplicate sample id '\(sample.id)'",
                               hint: "ids must be unique so that results can be stored and paired per sample")
        }
    }
}

/// What every loader needs: resolved paths, options, and the prompt suffix in force.
struct LoadContext {
    let format: DatasetFormat
    let location: DatasetLocation
    let options: LoadOptions
    let base: URL

    init(format: DatasetFormat, location: DatasetLocation, options: LoadOptions) {
        self.format = format
        self.location = location
        self.options = options
        base = URL(fileURLWithPath: options.baseDirectory ?? FileManager.default.currentDirectoryPath, isDirectory: true)
    }

    var main: UserPath { UserPath(location.path, relativeTo: base) }
    var suffix: String { options.promptSuffix ?? format.defaultPromptSuffix }

    /// The image folder: the location's `images`, else `fallback` (a path relative to the main path's folder or the main folder).
    func imageFolder(default fallback: UserPath) -> UserPath {
        if let images = location.images { return UserPath(images, relativeTo: base) }
        return fallback
    }

    /// The folder holding the main file, as a user path.
    var mainFolder: UserPath {
        let display = (location.path as NSString).deletingLastPathComponent
        return UserPath(display.isEmpty ? "." : display, relativeTo: base)
    }

    /// True once `count` samples are loaded and a limit says stop.
    func reachedLimit(_ count: Int) -> Bool {
        if let limit = options.limit { return count >= limit }
        return false
    }

    /// Resolves an image named by a record and checks it exists when asked to.
    func image(_ name: String, in folder: UserPath, file: String, location: DatasetError.Location) throws -> String {
        let path = name.hasPrefix("/") ? UserPath(name, relativeTo: base) : folder.appending(name)
        if options.checkImages && !path.exists {
            throw DatasetError(file: file, location: location, message: "image '\(path.display)' not found",
                               hint: "set the dataset's images folder in the spec, or pass checkImages: false to skip this check")
        }
        return path.absolute
    }
}
