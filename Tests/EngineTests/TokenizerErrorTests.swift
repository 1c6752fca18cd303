import Foundation
import Testing
@testable import Engine

/// Loading errors name the file and the problem; stages reject what they do not implement.
@Suite("Tokenizer loading errors")
struct TokenizerErrorTests {
    /// A fresh folder holding `tokenizer.json` with `contents`.
    static func folder(tokenizerJSON contents: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("lcb-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: folder.appendingPathComponent("tokenizer.json"))
        return folder
    }

    static func minimal(model: String = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#,
                        normalizer: String = "null", decoder: String = "null") -> String {
        #"{"added_tokens": [], "normalizer": \#(normalizer), "pre_tokenizer": null, "post_processor": null, "#
            + #""decoder": \#(decoder), "model": \#(model)}"#
    }

    func loadError(_ contents: String) throws -> (TokenizerError, URL) {
        let folder = try Self.folder(tokenizerJSON: contents)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("tokenizer.json")
        do {
            _ = try Tokenizer(directory: folder)
        } catch let error as TokenizerError {
            return (error, file)
        }
        Issue.record("loading succeeded")
        return (.missingFile(path: ""), file)
    }

    @Test func minimalTokenizerLoads() throws {
        let folder = try Self.folder(tokenizerJSON: Self.minimal())
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try Tokenizer(directory: folder)
        #expect(tokenizer.encode("abab") == [2, 2])
        #expect(tokenizer.decode([2, 0]) == "ab a")  // no decoder: tokens joined by spaces
        #expect(tokenizer.specialTokens == SpecialTokens())
    }

    @Test func missingFolderNamesTheFile() {
        let folder = URL(fileURLWithPath: "/nonexistent/model-\(UUID().uuidString)")
        #expect(throws: TokenizerError.missingFile(path: folder.appendingPathComponent("tokenizer.json").path)) {
            try Tokenizer(directory: folder)
        }
        do {
            _ = try Tokenizer(directory: folder)
            Issue.record("loading succeeded")
        } catch {
            #expect("\(error)".hasPrefix(folder.appendingPathComponent("tokenizer.json").path + ": file not found"))
        }
    }

    @Test func malformedJSONNamesFileAndOffset() throws {
        let (error, file) = try loadError(#"{"model": {"type": "BPE", "vocab": {"a": 0,}}"#)
        guard case .malformedJSON(let path, let offset, _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(path == file.path)
        #expect(offset == 43)  // the "}" after the trailing comma
        #expect(error.description.hasPrefix("\(file.path): malformed JSON at byte 43: expected a string key"))
    }

    @Test func truncatedJSON() throws {
        let (error, file) = try loadError(#"{"model": {"type": "BPE", "vocab": {"#)
        #expect(error.description.contains(file.path))
        #expect(error.description.contains("malformed JSON"))
    }

    @Test func unsupportedModelTypeNamesFileAndType() throws {
        let (error, file) = try loadError(Self.minimal(model: #"{"type": "Unigram", "vocab": [["a", 0.0]]}"#))
        #expect(error == .unsupportedType(path: file.path, section: "model", type: "Unigram", supported: ["BPE"]))
        #expect(error.description == "\(file.path): model type 'Unigram' is not supported; supported: BPE")
    }

    @Test func unsupportedNormalizerNamesSectionAndType() throws {
        let (error, file) = try loadError(Self.minimal(
            normalizer: #"{"type": "Sequence", "normalizers": [{"type": "Precompiled", "precompiled_charsmap": ""}]}"#))
        guard case .unsupportedType(let path, let section, let type, let supported) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(path == file.path)
        #expect(section == "normalizer")
        #expect(type == "Precompiled")
        #expect(supported.contains("Replace"))
    }

    @Test func invalidRegexNamesThePattern() throws {
        let (error, file) = try loadError(Self.minimal(
            normalizer: #"{"type": "Replace", "pattern": {"Regex": "(a"}, "content": " "}"#))
        #expect(error == .invalidValue(path: file.path, where: "normalizer.pattern.Regex",
                                       expected: "a regular expression ICU can compile ('(a' is not)"))
    }

    @Test func unknownDecoderIsRejected() throws {
        let (error, _) = try loadError(Self.minimal(decoder: ###"{"type": "WordPiece", "prefix": "##"}"###))
        #expect(error.description.contains("decoder type 'WordPiece' is not supported"))
    }

    @Test func mergeOfUnknownTokenNamesTheMerge() throws {
        let (error, file) = try loadError(Self.minimal(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "z"]]}"#))
        guard case .invalidValue(let path, let location, let expected) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(path == file.path)
        #expect(location == "model.merges[0]")
        #expect(expected == "a merge of two vocabulary tokens ('a' + 'z' is not in the vocabulary)")
    }

    @Test func wrongFieldTypeNamesThePath() throws {
        let (error, file) = try loadError(Self.minimal(model: #"{"type": "BPE", "vocab": {"a": "zero"}, "merges": []}"#))
        #expect(error == .invalidValue(path: file.path, where: #"model.vocab["a"]"#, expected: "an integer token id, found a string"))
    }

    @Test func missingModelIsReported() throws {
        let (error, file) = try loadError(#"{"added_tokens": []}"#)
        #expect(error == .invalidValue(path: file.path, where: "model", expected: "a value (field is missing)"))
    }

    @Test func unknownTokenMustBeInTheVocabulary() throws {
        let (error, _) = try loadError(Self.minimal(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}"#))
        #expect(error.description.contains("model.unk_token"))
    }
}

/// Behaviours that the corpus fixtures cannot show on their own.
@Suite("Tokenizer details")
struct TokenizerDetailTests {
    @Test func canonicallyEquivalentTokensStayDistinct() throws {
        // "é" precomposed and "e" + combining acute are different tokens in a vocabulary.
        let json = #"{"model": {"type": "BPE", "vocab": {"<unk>": 0, "\u00e9": 1, "e": 2, "\u0301": 3, "e\u0301": 4}, "#
            + #""merges": [["e", "\u0301"]], "unk_token": "<unk>"}}"#
        let tokenizer = try Tokenizer(tokenizerJSON: Data(json.utf8))
        #expect(tokenizer.encode("\u{E9}") == [1])
        #expect(tokenizer.encode("e\u{301}") == [4])
        #expect(sameBytes(tokenizer.decode([4]), "e\u{301}"))
        #expect(tokenizer.tokenID(for: "e\u{301}") == 4)
        #expect(tokenizer.tokenID(for: "\u{E9}") == 1)
    }

    @Test func jsonEscapesAndSurrogatePairs() throws {
        let json = #"{"model": {"type": "BPE", "vocab": {"\ud83d\ude00": 0, "\n": 1, "\"q\"": 2, "\\": 3, "\u00e9": 4}, "merges": []}}"#
        let tokenizer = try Tokenizer(tokenizerJSON: Data(json.utf8))
        #expect(tokenizer.token(for: 0) == "😀")
        #expect(tokenizer.encode("😀\n\\") == [0, 1, 3])
        #expect(tokenizer.token(for: 2) == "\"q\"")
        #expect(tokenizer.vocabularySize == 5)
    }

    @Test func bpeMergesByRankNotPosition() throws {
        // Rank decides: "b c" (rank 0) wins over "a b" (rank 1) in "abc".
        let json = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5}, "#
            + #""merges": ["b c", "a b", "a bc"]}}"#
        let tokenizer = try Tokenizer(tokenizerJSON: Data(json.utf8))
        #expect(tokenizer.encode("abc") == [5])
        #expect(tokenizer.encode("abab") == [3, 3])
        #expect(tokenizer.encode("bcab") == [4, 3])
    }

    @Test func specialTokensFromConfigFiles() throws {
        let llama = try TokenizerFixtures.tokenizer("llama")
        #expect(llama.specialTokens.bos == 1)
        #expect(llama.specialTokens.eos == 2)
        #expect(llama.specialTokens.unk == 0)
        #expect(llama.specialTokens.bosToken == "<s>")
        #expect(llama.specialTokens.pad == llama.tokenID(for: "<pad>"))
        #expect(llama.addedTokens.contains { $0.content == "<image>" && $0.special })
        #expect(llama.encode("").isEmpty == false)
        #expect(llama.encode("", addSpecialTokens: true) == [1])
        #expect(llama.encode("", addSpecialTokens: false) == [])
    }
}
