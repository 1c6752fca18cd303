import Foundation
import Testing
@testable import Execution

@Suite struct InferenceSeamTests {
    @Test func visionFeaturesRoundTripThroughTheCachePayload() throws {
        let features = VisionFeatures(tokens: 3, width: 2, values: [1, -2.5, .pi, 0, -0.0, 1e-30])
        let decoded = try #require(VisionFeatures(payload: features.payload))
        #expect(decoded.tokens == 3 && decoded.width == 2)
        #expect(decoded.values.map(\.bitPattern) == features.values.map(\.bitPattern))
        #expect(features.payload.count == 8 + 6 * 4)
    }

    @Test func aPayloadOfTheWrongLengthIsRejected() {
        var payload = VisionFeatures(tokens: 2, width: 2, values: [1, 2, 3, 4]).payload
        payload.removeLast()
        #expect(VisionFeatures(payload: payload) == nil)
        #expect(VisionFeatures(payload: [1, 2, 3]) == nil)
    }

    @Test func theHomeFollowsLCBHomeAndStoreOverrides() {
        let plain = LCBHome.resolve(environment: [:], workingDirectory: "/w")
        #expect(plain.root.path == "/w/.lcb")
        #expect(plain.store.path == "/w/.lcb/store.sqlite")
        #expect(plain.cache.root.path == "/w/.lcb/cache")
        let moved = LCBHome.resolve(storePath: "runs/s.sqlite", environment: ["LCB_HOME": "/h"], workingDirectory: "/w")
        #expect(moved.root.path == "/h")
        #expect(moved.store.path == "/w/runs/s.sqlite")
    }

    @Test(arguments: [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (5 * 1024 * 1024, "5.0 MiB")])
    func byteSizes(bytes: Int, text: String) {
        #expect(formatBytes(bytes) == text)
    }
}
