import Foundation
import XCTest

/// analyze → catalog → similar / export, through the executable.
final class CatalogCommandTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func sample(_ name: String) -> String { Self.root.appendingPathComponent("Media/samples/\(name)").path }

    private func scratch() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-catalog-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testABadTitleIsReportedWhileTheOthersAreAnalysedAndCatalogued() throws {
        let out = try scratch()
        let broken = Self.root.appendingPathComponent("Media/fixtures/random.mp4").path
        let result = try MarqueeProcess.run(["analyze", "--out", out, sample("bigbuckbunny.mp4"), broken, sample("carphone_pristine.mp4")])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }.count, 1, result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/bigbuckbunny/analysis.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/carphone-pristine/analysis.json"))

        let similar = try MarqueeProcess.run(["similar", "--catalog", out + "/catalog.sqlite", "--json", "bigbuckbunny"])
        XCTAssertEqual(similar.status, 0, similar.stderr)
        let ranked = try XCTUnwrap(try JSONSerialization.jsonObject(with: similar.stdout) as? [[String: Any]])
        XCTAssertEqual(ranked.map { $0["title_id"] as? String }, ["carphone-pristine"], "the query title is left out")
    }

    func testARerunSkipsTitlesThatAreUpToDate() throws {
        let out = try scratch()
        _ = try MarqueeProcess.run(["analyze", "--out", out, sample("bigbuckbunny.mp4")])
        let again = try MarqueeProcess.run(["analyze", "--out", out, sample("bigbuckbunny.mp4")])
        XCTAssertEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("bigbuckbunny: up to date, skipped"), again.stderr)
        let forced = try MarqueeProcess.run(["analyze", "--force", "--out", out, sample("bigbuckbunny.mp4")])
        XCTAssertFalse(forced.stderr.contains("skipped"), forced.stderr)
    }

    func testExportWritesOneLinePerTitle() throws {
        let out = try scratch()
        _ = try MarqueeProcess.run(["analyze", "--out", out, sample("bigbuckbunny.mp4"), sample("carphone_pristine.mp4")])
        let result = try MarqueeProcess.run(["export", "--catalog", out + "/catalog.sqlite", "--format", "jsonl", "--out", out + "/v.jsonl"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try String(contentsOfFile: out + "/v.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
    }

    func testSimilarWithoutACatalogIsAClearError() throws {
        let missing = try scratch() + "/none.sqlite"
        let result = try MarqueeProcess.run(["similar", "--catalog", missing, "bigbuckbunny"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("error: \(missing):"), result.stderr)
    }
}
