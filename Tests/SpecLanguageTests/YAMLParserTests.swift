import Testing
@testable import SpecLanguage

@Suite struct YAMLParserTests {
    func parse(_ text: String) -> YAMLParser.Result { YAMLParser().parse(text, path: "t.yaml") }

    @Test func nodesKeepLineAndColumn() throws {
        let result = parse("models:\n  tiny:\n    path: Models/x\n    bits: [2, 4]\n")
        #expect(result.diagnostics.isEmpty)
        let root = try #require(result.root?.mapping)
        #expect(root[0].key.range.start == SourceLocation(file: "t.yaml", line: 1, column: 1))
        let tiny = try #require(root[0].value.mapping?[key: "tiny"]?.mapping)
        let path = try #require(tiny[key: "path"])
        #expect(path.scalar?.text == "Models/x")
        #expect(path.range.start.line == 3 && path.range.start.column == 11)
        #expect(path.range.end.column == 19)
        let bits = try #require(tiny[key: "bits"]?.sequence)
        #expect(bits.map { $0.scalar?.integer } == [2, 4])
        #expect(bits[1].range.start.column == 15)
    }

    @Test func quotedScalarsAreNeverNumbers() throws {
        let pairs = try #require(parse("a: \"2\"\nb: 2\nc: ~\nd: true\ne: '0.5'\nf: 1e-3\n").root?.mapping)
        #expect(pairs[key: "a"]?.scalar?.integer == nil)
        #expect(pairs[key: "b"]?.scalar?.integer == 2)
        #expect(pairs[key: "c"]?.isNull == true)
        #expect(pairs[key: "d"]?.scalar?.bool == true)
        #expect(pairs[key: "e"]?.scalar?.number == nil)
        #expect(pairs[key: "f"]?.scalar?.number == 0.001)
    }

    @Test func duplicateKeysAreErrorsWithANoteAtTheFirst() {
        let result = parse("a: 1\nb: 2\na: 3\n")
        #expect(result.diagnostics.count == 1)
        let diagnostic = result.diagnostics[0]
        #expect(diagnostic.message == "duplicate key 'a'")
        #expect(diagnostic.range.start.line == 3)
        #expect(diagnostic.notes.first?.range?.start.line == 1)
        // The first value wins.
        #expect(result.root?.mapping?[key: "a"]?.scalar?.text == "1")
        #expect(result.root?.mapping?.count == 2)
    }

    @Test func syntaxErrorsAreReportedAtLibyamlsPosition() {
        let result = parse("a: [1, 2\nb: 3\n")
        #expect(result.root == nil)
        #expect(result.diagnostics.count == 1)
        #expect(result.diagnostics[0].message.hasPrefix("YAML syntax error: "))
        #expect(result.diagnostics[0].range.start.line == 2)
        #expect(result.diagnostics[0].notes.first?.range?.start == SourceLocation(file: "t.yaml", line: 1, column: 4))
    }

    @Test func aliasesExpandToTheAnchoredNode() throws {
        let result = parse("base: &g {max_new_tokens: 8}\nother: *g\n")
        #expect(result.diagnostics.isEmpty)
        let other = try #require(result.root?.mapping?[key: "other"]?.mapping)
        #expect(other[key: "max_new_tokens"]?.scalar?.integer == 8)
    }

    @Test func aliasBombIsRefused() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...12 {
            let previous = "*a\(level - 1)"
            text += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        // 10¹³ nodes if expanded: refused by the expanded-node budget, not by a timer.
        let result = parse(text)
        #expect(result.root == nil)
        #expect(result.diagnostics.first?.message.contains("alias bomb") == true)
    }

    @Test func undefinedAliasIsAnError() {
        let result = parse("a: *nope\n")
        #expect(result.root == nil)
        #expect(result.diagnostics.first?.message == "alias '*nope' refers to no anchor defined before it")
    }

    @Test func deepNestingIsBounded() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let result = parse(text)
        #expect(result.root == nil)
        #expect(result.diagnostics.first?.message.contains("deeper than 64") == true)
    }

    @Test func oneDocumentPerFile() {
        let result = parse("a: 1\n---\nb: 2\n")
        #expect(result.root == nil)
        #expect(result.diagnostics.first?.range.start.line == 2)
    }

    @Test func tagsAndComplexKeysAreRejected() {
        #expect(parse("a: !!binary abc\n").diagnostics.first?.message.contains("tags") == true)
        #expect(parse("? [a, b]\n: 1\n").diagnostics.first?.message.contains("keys must be plain text") == true)
        // `!!str` is allowed and makes the scalar text.
        #expect(parse("a: !!str 3\n").root?.mapping?[key: "a"]?.scalar?.integer == nil)
    }

    @Test func invalidUTF8IsReportedWhereItStarts() {
        var bytes = Array("a: 1\nb: x".utf8) + [0xFF, 0xFE] + Array("\n".utf8)
        let result = YAMLParser().parse(bytes: &bytes, path: "t.yaml")
        #expect(result.root == nil)
        #expect(result.diagnostics.first?.message.hasPrefix("the file is not valid UTF-8 text") == true)
        #expect(result.diagnostics.first?.range.start == SourceLocation(file: "t.yaml", line: 2, column: 5))
    }

    @Test func emptyDocumentHasNoRoot() {
        #expect(parse("").root == nil)
        #expect(parse("# only a comment\n").root == nil)
        #expect(parse("").diagnostics.isEmpty)
    }
}
