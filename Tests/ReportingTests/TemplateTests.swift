import Foundation
import Testing
import TestSupport
@testable import Reporting

@Suite struct TemplateTests {
    @Test(arguments: TemplateSet.names)
    func builtInDefaultsEqualTheTemplatesFolder(name: String) throws {
        let file = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("Templates").appendingPathComponent(name), encoding: .utf8)
        #expect(DefaultTemplates.all[name] == file, "Templates/\(name) and DefaultTemplates.swift differ: copy the file's text into DefaultTemplates.swift")
    }

    @Test func placeholdersAndSections() throws {
        let template = Template(text: "a{{x}}b\n{{#y}}\nY={{y}}\n{{/y}}\n{{^y}}\nno y\n{{/y}}\n\\caption{{{x}}}", origin: "t")
        #expect(try template.render(["x": "1", "y": ""]) == "a1b\nno y\n\\caption{1}")
        #expect(try template.render(["x": "1", "y": "2"]) == "a1b\nY=2\n\\caption{1}")
    }

    @Test func templateErrorsNameTheTemplateAndPlace() {
        #expect(throws: ReportingError.template(path: "t.tex", problem: "unknown placeholder 'nope' at 2:3; available: x")) {
            try Template(text: "ok\n  {{nope}}", origin: "t.tex").render(["x": ""])
        }
        #expect(throws: ReportingError.self) { try Template(text: "{{#x}}never closed", origin: "t").render(["x": "1"]) }
        #expect(throws: ReportingError.self) { try Template(text: "{{/x}}", origin: "t").render(["x": "1"]) }
    }

    @Test func userTemplatesOverrideDefaults() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lcb-templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("CUSTOM {{name}}\n{{table}}\n".utf8).write(to: folder.appendingPathComponent("table.md"))
        let set = try TemplateSet.load(folder: folder)
        #expect(set.template("table.md").text.hasPrefix("CUSTOM"))
        #expect(set.template("table.tex").text == DefaultTemplates.all["table.tex"])
        let spec = try TestData.spec()
        let table = try ResultTableBuilder().build(try #require(spec.tables["main"]), spec: spec, results: TestData.run("run-a"))
        let text = try MarkdownTableRenderer(templates: set).render(table, source: "x")
        #expect(text.hasPrefix("CUSTOM main\n| compression |"))
    }
}
