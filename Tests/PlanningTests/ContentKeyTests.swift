import Planning
import Testing

@Suite struct ContentKeyTests {
    @Test func keyIsSHA256OfTheCanonicalText() throws {
        // SHA-256("abc"), FIPS 180-2 test vector; the canonical text of a string is its JSON form.
        #expect(ContentKey(digestOf: Array("abc".utf8)).hex
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(CanonicalValue.string("abc").canonicalText == "\"abc\"")
    }

    @Test func objectsAreSortedByKeyBytes() throws {
        let value = CanonicalValue.object(["b": .integer(1), "a": .array([.bool(true), .null]), "B": .string("x")])
        #expect(value.canonicalText == "{\"B\":\"x\",\"a\":[true,null],\"b\":1}")
    }

    @Test(arguments: [
        (CanonicalValue.number(4.0), "4"), (.number(-0.0), "0"), (.number(0.01), "0.01"), (.number(1e-05), "1e-05"),
        (.number(2.5), "2.5"), (.integer(-3), "-3"), (.number(.infinity), "\"inf\""),
    ])
    func numbersAreNormalised(value: CanonicalValue, text: String) {
        #expect(value.canonicalText == text)
    }

    @Test func integralNumbersKeyLikeIntegers() throws {
        #expect(ContentKey(.object(["bits": .number(4)])) == ContentKey(.object(["bits": .integer(4)])))
        #expect(ContentKey(.object(["bits": .number(4.5)])) != ContentKey(.object(["bits": .integer(4)])))
    }

    @Test func stringsAreEscaped() throws {
        #expect(CanonicalValue.string("a\"b\\c\n\u{01}é").canonicalText == "\"a\\\"b\\\\c\\n\\u0001é\"")
    }

    @Test func nestedKeysEncodeAsHex() throws {
        let inner = ContentKey(digestOf: Array("abc".utf8))
        #expect(CanonicalValue.key(inner).canonicalText == "\"\(inner.hex)\"")
        #expect(ContentKey(.key(inner)) == ContentKey(.string(inner.hex)))
    }

    @Test func hexRoundTrips() throws {
        let key = ContentKey(.string("round trip"))
        #expect(ContentKey(hex: key.hex) == key)
        #expect(ContentKey(hex: key.hex.uppercased()) == key)
        #expect(ContentKey(hex: "xyz") == nil)
        #expect(key.short == String(key.hex.prefix(12)))
    }
}

@testable import Planning

@Suite struct SortedObjectKeyTests {
    @Test func sortedFastPathEqualsTheGenericObjectKey() throws {
        let inner = ContentKey(.string("x"))
        let fast = ContentKey(sortedObject: ["answer": .key(inner), "kind": .string("scoring"), "metrics": .array([.string("f1")]),
                                             "metrics_version": .integer(1), "references": .array([])])
        let generic = ContentKey(.object(["references": .array([]), "metrics_version": .integer(1), "kind": .string("scoring"),
                                          "metrics": .array([.string("f1")]), "answer": .key(inner)]))
        #expect(fast == generic)
    }
}

@Suite struct HandWrittenRecipeTests {
    let keys = JobKeys(numerics: 3, metrics: 2)
    let a = ContentKey(.string("a")), b = ContentKey(.string("b"))

    @Test(arguments: [nil, "What is \"this\"?\n"] as [String?])
    func decodeMatchesTheGenericEncoding(question: String?) throws {
        let generic = ContentKey(.object([
            "settings": .key(b), "question": .optional(question, CanonicalValue.string), "kind": .string("decode"), "from": .key(a),
        ]))
        #expect(keys.decode(prefill: a, question: question, settings: b) == generic)
    }

    @Test(arguments: [[], ["yes"], ["a \\ b", "c"]] as [[String]])
    func scoringMatchesTheGenericEncoding(references: [String]) throws {
        let generic = ContentKey(.object([
            "references": .array(references.map(CanonicalValue.string)), "metrics_version": .integer(2),
            "metrics": .array([.string("accuracy"), .string("f1")]), "kind": .string("scoring"), "answer": .key(a),
        ]))
        #expect(keys.scoring(answer: a, references: references, metrics: [.f1, .accuracy]) == generic)
    }
}
