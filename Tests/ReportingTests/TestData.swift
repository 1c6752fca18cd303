import Foundation
import Reporting
import SpecLanguage
import TestSupport

/// Fixture access shared by the reporting tests.
enum TestData {
    static let folder = Fixtures.url("reporting")

    static func run(_ name: String) throws -> ResultSet {
        try ReportFolderReader(files: FolderFileAccess(folder: folder.appendingPathComponent(name), displayName: "Reports/demo")).read()
    }

    static func spec() throws -> Spec {
        let loaded = SpecLoader().load(path: folder.appendingPathComponent("demo.yaml").path)
        guard let spec = loaded.spec else {
            throw ReportingError.malformed(location: "demo.yaml", problem: loaded.rendered(useColor: false))
        }
        return spec
    }

    static func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent("expected.json"))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// Compares `text` with the golden file `reporting/golden/<name>`; `LCB_UPDATE_GOLDENS=1` rewrites it.
    static func matchesGolden(_ text: String, _ name: String) throws -> Bool {
        let url = folder.appendingPathComponent("golden").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["LCB_UPDATE_GOLDENS"] == "1" {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            return true
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        return golden == text
    }

    static func cell(_ compression: String, _ dataset: String, samples: [String: SampleComponents] = [:],
                     metrics: [MetricResult] = []) -> ResultCell {
        ResultCell(coordinates: CellCoordinates(experiment: "main", model: "m", compression: compression, dataset: dataset),
                   metrics: metrics, samples: samples)
    }
}
