import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels
import XCTest

final class TitleAnalyzerTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func analyzer() throws -> TitleAnalyzer {
        try TitleAnalyzer(models: ModelStore(folder: Self.root.appendingPathComponent("Models/converted").path))
    }

    func testTitleIdsAreSafeFolderNames() {
        XCTAssertEqual(TitleAnalyzer.titleId(forPath: "/x/My Film (2021).mp4"), "my-film-2021")
        XCTAssertEqual(TitleAnalyzer.titleId(forPath: "bigbuckbunny.mp4"), "bigbuckbunny")
        XCTAssertEqual(TitleAnalyzer.titleId(forPath: "/x/***.mkv"), "title")
    }

    func testBigBuckBunnyGetsVisualTagsAndANormalizedEmbedding() throws {
        let path = Self.root.appendingPathComponent("Media/samples/bigbuckbunny.mp4").path
        let analysis = try analyzer().analyze(path: path)
        XCTAssertEqual(analysis.titleId, "bigbuckbunny")
        XCTAssertEqual(analysis.tags.visualFrames, 3)  // 0, 2 and 4 s of a 5.3 s title
        let embedding = try XCTUnwrap(analysis.embeddings.visual)
        XCTAssertEqual(embedding.count, 1280)
        XCTAssertEqual(embedding.reduce(0) { $0 + Double($1) * Double($1) }, 1, accuracy: 1e-5)
        let first = try XCTUnwrap(analysis.tags.visual.first)
        XCTAssertEqual(first.label, "albatross")  // the bird of the 4 s frame, the most confident class
        for tag in analysis.tags.visual {
            XCTAssertTrue((0...1).contains(tag.share))
            for range in tag.ranges { XCTAssertLessThan(range.start, range.end) }
        }
        XCTAssertEqual(analysis.source.sha256.count, 64)
        XCTAssertEqual(analysis.models.first?.sha256?.count, 64)
    }

    func testAnalysisIsWrittenAtomicallyUnderTheTitleId() throws {
        let path = Self.root.appendingPathComponent("Media/samples/bigbuckbunny.mp4").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-analysis-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let analysis = try analyzer().analyze(path: path)
        let written = try TitleAnalyzer.write(analysis, to: out.path)
        XCTAssertEqual(written, out.appendingPathComponent("bigbuckbunny/analysis.json").path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("bigbuckbunny").path),
                       ["analysis.json"], "no temporary file is left behind")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: written))) as? [String: Any])
        XCTAssertEqual(json["schema_version"] as? Int, TitleAnalysis.schemaVersion)
        XCTAssertNotNil(json["media"] as? [String: Any])
    }

    func testATitleWithoutVideoIsAClearError() throws {
        let path = Self.root.appendingPathComponent("Media/fixtures/audio_only.m4a").path
        XCTAssertThrowsError(try analyzer().analyze(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path): the file has no video stream.")
        }
    }
}
