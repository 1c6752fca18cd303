import Testing
@testable import SpecLanguage

@Suite struct DiagnosticRendererTests {
    let file = SourceFile(displayPath: "x.yaml", text: "kv:\n  bitz: 4\n\tname: a\n")

    func at(_ line: Int, _ column: Int, to endColumn: Int? = nil) -> SourceRange {
        SourceRange(start: SourceLocation(file: "x.yaml", line: line, column: column),
                    end: SourceLocation(file: "x.yaml", line: line, column: endColumn ?? column))
    }

    @Test func rendersLocationSourceLineCaretAndTildes() {
        let diagnostic = Diagnostic.error("unknown key 'bitz'", at: at(2, 3, to: 7),
                                          notes: [.init("defined here", at: at(1, 1, to: 3)), .init("plain note")])
        let text = DiagnosticRenderer(files: [file]).render(diagnostic)
        #expect(text == """
            x.yaml:2:3: error: unknown key 'bitz'
             2 |   bitz: 4
               |   ^~~~
            x.yaml:1:1: note: defined here
             1 | kv:
               | ^~
            note: plain note

            """)
    }

    @Test func caretLineKeepsTabs() {
        let text = DiagnosticRenderer(files: [file]).render(.warning("w", at: at(3, 2)))
        #expect(text.hasSuffix(" 3 | \tname: a\n   | \t^\n"))
    }

    @Test func colourOnlyWhenAsked() {
        let plain = DiagnosticRenderer(files: [file]).render(.error("e", at: at(1, 1)))
        let coloured = DiagnosticRenderer(files: [file], useColor: true).render(.error("e", at: at(1, 1)))
        #expect(!plain.contains("\u{1B}["))
        #expect(coloured.contains("\u{1B}[1;31merror: "))
    }

    @Test func sortsByFileOrderThenPositionAndSummarises() {
        let diagnostics: [Diagnostic] = [
            .warning("c", at: at(3, 1)),
            .error("b", at: SourceRange(at: SourceLocation(file: "inc.yaml", line: 1, column: 1))),
            .error("a", at: at(1, 5)),
            .error("a2", at: at(1, 2)),
        ]
        let sorted = diagnostics.sortedByPosition(fileOrder: ["x.yaml", "inc.yaml"])
        #expect(sorted.map(\.message) == ["a2", "a", "c", "b"])
        #expect(diagnostics.summary == "3 errors, 1 warning")
        #expect([Diagnostic]().summary == "no problems")
        #expect([Diagnostic.warning("w", at: at(1, 1))].summary == "1 warning")
    }

    @Test func suggestionsFindCloseNamesOnly() {
        #expect(Suggestions.closest(to: "bitz", in: ["bits", "method"]) == "bits")
        #expect(Suggestions.closest(to: "grop_size", in: ["group_size", "residual"]) == "group_size")
        #expect(Suggestions.closest(to: "regmie", in: ["regime"]) == "regime")
        #expect(Suggestions.closest(to: "zzzz", in: ["bits", "method"]) == nil)
        #expect(Suggestions.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(Suggestions.editDistance(Array("ab"), Array("ba")) == 1)
    }
}
