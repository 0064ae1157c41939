import Foundation
import XCTest

final class FacesCommandTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func sample(_ name: String) -> String { Self.root.appendingPathComponent("Media/samples/\(name)").path }

    func testJSONGivesFacesWithBoxLandmarksAndExpressionPerImage() throws {
        let result = try MarqueeProcess.run(["faces", "--json", sample("astronaut.png"), sample("coffee.png")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        XCTAssertEqual(parsed.map { $0["file"] as? String }, [sample("astronaut.png"), sample("coffee.png")])
        let faces = try XCTUnwrap(parsed[0]["faces"] as? [[String: Any]])
        XCTAssertEqual(faces.count, 1)
        XCTAssertEqual((faces[0]["box"] as? [Double])?.count, 4)
        XCTAssertEqual((faces[0]["landmarks"] as? [[Double]])?.map(\.count), [2, 2, 2, 2, 2])
        let expression = try XCTUnwrap(faces[0]["expression"] as? [String: Double])
        XCTAssertEqual(Set(expression.keys), ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"])
        XCTAssertEqual(expression.max { $0.value < $1.value }?.key, "happy", "the astronaut smiles")
        XCTAssertEqual((parsed[1]["faces"] as? [Any])?.count, 0, "no face in the coffee photo")
        XCTAssertNil(parsed[0]["time"], "a photo has no time")
    }

    func testAVideoGivesOneRecordPerSampledFrameWithItsTime() throws {
        let result = try MarqueeProcess.run(["faces", "--json", "--every", "50", sample("test.mp4")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        XCTAssertEqual(parsed.compactMap { $0["time"] as? Double }.map { $0.rounded() }, [0, 50, 100, 150, 200])
        XCTAssertTrue(parsed.allSatisfy { $0["faces"] is [Any] })
    }

    func testAnUnreadableFileIsReportedAndTheOthersStillRun() throws {
        let missing = Self.root.appendingPathComponent("Media/samples/no-such-photo.png").path
        let result = try MarqueeProcess.run(["faces", "--json", missing, sample("coffee.png")])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") && $0.contains(missing) }.count, 1)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        XCTAssertEqual(parsed.count, 1)
    }

    func testANonPositiveIntervalIsAUsageError() throws {
        let result = try MarqueeProcess.run(["faces", "--every", "0", sample("coffee.png")])
        XCTAssertEqual(result.status, 2)
    }
}
