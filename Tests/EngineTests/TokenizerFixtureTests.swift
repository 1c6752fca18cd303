import Foundation
import Testing
import TestSupport
@testable import Engine

/// What `tokenizers` 0.23.3 produced for the corpus (written by Tools/fixtures/tokenizer_fixtures.py).
struct TokenizerExpectations: Decodable, Sendable {
    struct Encode: Decodable, Sendable {
        let ids_no_special: [Int]
        let decoded: String
        /// nil where it equals the input text.
        let decoded_skip_special: String?
    }

    struct Decode: Decodable, Sendable {
        let ids: [Int]
        let decoded: String
        let decoded_skip_special: String
    }

    struct LongInput: Decodable, Sendable {
        let characters: Int
        let count: Int
        let fingerprint: String
        let head: [Int]
        let tail: [Int]
    }

    let tokenizers_version: String
    /// What the post-processor puts around every sequence (`ids` = prefix + ids_no_special + suffix).
    let special_prefix: [Int]
    let special_suffix: [Int]
    let encode: [Encode]
    let decode: [Decode]
    let long_input: LongInput
}

/// Loads the committed tokenizer fixtures.
enum TokenizerFixtures {
    static let names = ["llama", "llama-nonlegacy", "gemma", "metaspace", "bytelevel", "llama3", "assorted"]

    static let corpus: [String] = {
        let data = (try? Data(contentsOf: Fixtures.url("tokenizer/corpus.json"))) ?? Data()
        return (try? JSONDecoder().decode([String].self, from: data)) ?? []
    }()

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(directory: Fixtures.url("tokenizer/\(name)"))
    }

    static func expectations(_ name: String) throws -> TokenizerExpectations {
        try Fixtures.decodeJSON(TokenizerExpectations.self, "tokenizer/\(name)/expected.json")
    }

    /// The performance input, built exactly as the fixture script builds it.
    static func longInput(characters: Int) -> String {
        let text = "The quick brown fox jumps over the lazy dog; Café naïve 日本語 😀 "
            + "Is there a dog in the image?\n\tAnswer yes or no.  "
        let scalars = Array(text.unicodeScalars)
        var view = String.UnicodeScalarView()
        for index in 0..<characters { view.append(scalars[index % scalars.count]) }
        return String(view)
    }

    /// FNV-1a 64 over each id as 4 little-endian bytes (as the fixture script computes it).
    static func fingerprint(_ ids: [Int]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for id in ids {
            var value = UInt32(truncatingIfNeeded: id)
            for _ in 0..<4 {
                hash ^= UInt64(value & 0xFF)
                hash = hash &* 0x100_0000_01B3
                value >>= 8
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Byte-exact string equality: Swift `==` treats NFC and NFD spellings as equal, the tests must not.
func sameBytes(_ a: String, _ b: String) -> Bool { Array(a.utf8) == Array(b.utf8) }

@Suite("Tokenizer matches HF tokenizers on the corpus")
struct TokenizerFixtureTests {
    @Test func corpusIsLargeAndVaried() {
        let corpus = TokenizerFixtures.corpus
        #expect(corpus.count >= 200)
        #expect(corpus.contains(""))
        #expect(corpus.contains { $0.unicodeScalars.count >= 500 })  // plus the 50 KB input below
        #expect(corpus.contains { $0.contains("<image>") })
    }

    @Test(arguments: TokenizerFixtures.names)
    func encodesCorpusExactly(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let expected = try TokenizerFixtures.expectations(name)
        let corpus = TokenizerFixtures.corpus
        #expect(expected.tokenizers_version == "0.23.3")
        try #require(expected.encode.count == corpus.count)
        for (index, text) in corpus.enumerated() {
            let want = expected.encode[index]
            let ids = expected.special_prefix + want.ids_no_special + expected.special_suffix
            #expect(tokenizer.encode(text, addSpecialTokens: true) == ids,
                    "\(name) #\(index) \(text.debugDescription) with special tokens")
            #expect(tokenizer.encode(text, addSpecialTokens: false) == want.ids_no_special,
                    "\(name) #\(index) \(text.debugDescription) without special tokens")
        }
    }

    @Test(arguments: TokenizerFixtures.names)
    func decodesCorpusExactly(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let expected = try TokenizerFixtures.expectations(name)
        let corpus = TokenizerFixtures.corpus
        try #require(expected.encode.count == corpus.count)
        for (index, want) in expected.encode.enumerated() {
            let ids = expected.special_prefix + want.ids_no_special + expected.special_suffix
            let decoded = tokenizer.decode(ids, skipSpecialTokens: false)
            let skipped = tokenizer.decode(ids, skipSpecialTokens: true)
            let wantSkipped = want.decoded_skip_special ?? corpus[index]
            #expect(sameBytes(decoded, want.decoded),
                    "\(name) #\(index): \(decoded.debugDescription) vs \(want.decoded.debugDescription)")
            #expect(sameBytes(skipped, wantSkipped),
                    "\(name) #\(index) skipping specials: \(skipped.debugDescription) vs \(wantSkipped.debugDescription)")
        }
    }

    @Test(arguments: TokenizerFixtures.names)
    func decodesArbitraryIDSequences(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let expected = try TokenizerFixtures.expectations(name)
        #expect(expected.decode.count >= 24)
        for want in expected.decode {
            let decoded = tokenizer.decode(want.ids, skipSpecialTokens: false)
            let skipped = tokenizer.decode(want.ids, skipSpecialTokens: true)
            #expect(sameBytes(decoded, want.decoded),
                    "\(name) \(want.ids): \(decoded.debugDescription) vs \(want.decoded.debugDescription)")
            #expect(sameBytes(skipped, want.decoded_skip_special),
                    "\(name) \(want.ids) skipping specials: \(skipped.debugDescription) vs \(want.decoded_skip_special.debugDescription)")
        }
    }

    @Test(arguments: TokenizerFixtures.names)
    func encodesLongInputExactly(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let want = try TokenizerFixtures.expectations(name).long_input
        let text = TokenizerFixtures.longInput(characters: want.characters)
        let ids = tokenizer.encode(text)
        #expect(ids.count == want.count)
        #expect(Array(ids.prefix(32)) == want.head)
        #expect(Array(ids.suffix(32)) == want.tail)
        #expect(TokenizerFixtures.fingerprint(ids) == want.fingerprint)
    }
}
