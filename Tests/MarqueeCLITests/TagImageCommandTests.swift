import Foundation
import XCTest

final class TagImageCommandTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func sample(_ name: String) -> String { Self.root.appendingPathComponent("Media/samples/\(name)").path }

    func testJSONListsTopClassesPerImage() throws {
        let result = try MarqueeProcess.run(["tag-image", "--json", "--top", "3", sample("coffee.png"), sample("rocket.jpg")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        XCTAssertEqual(parsed.count, 2)
        let coffeeTop = try XCTUnwrap(parsed[0]["top"] as? [[String: Any]])
        XCTAssertEqual(coffeeTop.count, 3)
        XCTAssertEqual(coffeeTop[0]["label"] as? String, "espresso")
        XCTAssertEqual(coffeeTop[0]["class"] as? Int, 967)
        XCTAssertNil(parsed[0]["logits"], "logits only with --raw")
    }

    func testRawAddsLogitsAndFeatures() throws {
        let result = try MarqueeProcess.run(["tag-image", "--json", "--raw", sample("chelsea.png")])
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        XCTAssertEqual((parsed[0]["logits"] as? [Double])?.count, 1000)
        XCTAssertEqual((parsed[0]["features"] as? [Double])?.count, 1280)
    }

    func testAnUnreadableImageIsReportedAndTheOthersStillRun() throws {
        let missing = Self.root.appendingPathComponent("Media/samples/no-such-photo.png").path
        let result = try MarqueeProcess.run(["tag-image", "--json", missing, sample("coffee.png")])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") && $0.contains(missing) }.count, 1)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        XCTAssertEqual(parsed.count, 1)
    }
}
