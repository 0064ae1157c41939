import Foundation
import XCTest

final class TextCommandTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    private func fixture(_ name: String) -> String {
        Self.root.appendingPathComponent("Tests/MarqueeAnalysisTests/Fixtures/\(name)").path
    }

    func testEmbedTextPrintsOneUnitVectorPerTextWithTokenIDs() throws {
        let result = try MarqueeProcess.run(["embed-text", "--json", "--tokens", "Hello, world!", ""])
        XCTAssertEqual(result.status, 0, result.stderr)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        XCTAssertEqual(parsed.count, 2)
        XCTAssertEqual(parsed[0]["text"] as? String, "Hello, world!")
        XCTAssertEqual(parsed[0]["tokens"] as? [Int], [101, 7592, 1010, 2088, 999, 102])
        XCTAssertEqual(parsed[1]["tokens"] as? [Int], [101, 102])
        let embedding = try XCTUnwrap(parsed[0]["embedding"] as? [Double])
        XCTAssertEqual(embedding.count, 384)
        XCTAssertEqual(embedding.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
    }

    func testEmbedTextReadsOneTextPerLineOfAFile() throws {
        let path = NSTemporaryDirectory() + "embed-text-\(getpid()).txt"
        try "first line\nsecond line\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try MarqueeProcess.run(["embed-text", "--json", "--file", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        XCTAssertEqual(parsed.map { $0["text"] as? String }, ["first line", "second line"])
        XCTAssertNil(parsed[0]["tokens"])
    }

    func testEmbedTextWithAMissingFileFailsWithOneErrorLineNamingIt() throws {
        let result = try MarqueeProcess.run(["embed-text", "--file", "/no/such/texts.txt"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") && $0.contains("/no/such/texts.txt") }.count, 1)
    }

    func testEmbedTextWithoutInputIsAUsageError() throws {
        XCTAssertEqual(try MarqueeProcess.run(["embed-text"]).status, 2)
        XCTAssertEqual(try MarqueeProcess.run(["embed-text", "--file", "x.txt", "text"]).status, 2)
    }

    func testTagTextNamesTheSubjectOfTheDialogue() throws {
        let result = try MarqueeProcess.run(["tag-text", "--json", fixture("mars_mission.srt")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let themes = try XCTUnwrap(parsed["themes"] as? [[String: Any]]).compactMap { $0["label"] as? String }
        XCTAssertEqual(themes.first, "space exploration")
        let phrases = try XCTUnwrap(parsed["keyphrases"] as? [[String: Any]]).compactMap { $0["phrase"] as? String }
        XCTAssert(phrases.first?.contains("mars") == true, "\(phrases)")
        XCTAssertNil(parsed["vector"], "the vector only with --vector")
    }

    func testTagTextOnAnEmptySourceSucceedsWithANote() throws {
        let result = try MarqueeProcess.run(["tag-text", "--json", fixture("empty.srt")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual((parsed["keyphrases"] as? [Any])?.count, 0)
        XCTAssertEqual((parsed["themes"] as? [Any])?.count, 0)
        XCTAssert((parsed["notes"] as? [String])?.contains("No text to analyse.") == true)
    }

    func testTagTextOnAMissingFileFailsWithOneErrorLineNamingIt() throws {
        let result = try MarqueeProcess.run(["tag-text", "/no/such/title.mkv"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") && $0.contains("/no/such/title.mkv") }.count, 1)
    }
}
