import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels
import XCTest

final class TitleAnalyzerTests: XCTestCase {

    private func analyzer() throws -> TitleAnalyzer {
        try TitleAnalyzer(models: ModelStore(folder: TestFiles.root.appendingPathComponent("Models/converted").path))
    }

    func testTitleIdsAreSafeFolderNames() {
        XCTAssertEqual(TitleAnalyzer.titleId(forPath: "/x/My Film (2021).mp4"), "my-film-2021")
        XCTAssertEqual(TitleAnalyzer.titleId(forPath: "bigbuckbunny.mp4"), "bigbuckbunny")
        XCTAssertEqual(TitleAnalyzer.titleId(forPath: "/x/***.mkv"), "title")
    }

    func testBigBuckBunnyGetsVisualTagsFromFramesSampledPerShot() throws {
        let path = TestFiles.root.appendingPathComponent("Media/samples/bigbuckbunny.mp4").path
        let analysis = try analyzer().analyze(path: path)
        XCTAssertEqual(analysis.titleId, "bigbuckbunny")
        let shots = try XCTUnwrap(analysis.shots)
        XCTAssertFalse(shots.list.isEmpty)
        XCTAssertEqual(analysis.tags.visualFrames, analysis.visualSamples.count)
        // Each sample stands for a part of its shot; together they cover the shots' time.
        let covered = analysis.visualSamples.reduce(0) { $0 + $1.end - $1.start }
        let shotTime = shots.list.reduce(0) { $0 + $1.end - $1.start }
        XCTAssertEqual(covered, shotTime, accuracy: 0.01)
        for sample in analysis.visualSamples {
            let shot = shots.list[sample.shot]
            XCTAssertTrue(sample.frame >= shot.startFrame && sample.frame <= shot.endFrame, "a sample lies in its shot")
        }
        let embedding = try XCTUnwrap(analysis.embeddings.visual)
        XCTAssertEqual(embedding.count, 1280)
        XCTAssertEqual(embedding.reduce(0) { $0 + Double($1) * Double($1) }, 1, accuracy: 1e-5)
        for tag in analysis.tags.visual {
            XCTAssertTrue((0...1).contains(tag.share))
            for range in tag.ranges { XCTAssertLessThan(range.start, range.end) }
        }
        XCTAssertEqual(analysis.source.sha256.count, 64)
        XCTAssertEqual(analysis.models.first?.sha256?.count, 64)
    }

    func testASilentTitleWithoutTextIsFusedFromItsPicturesAlone() throws {
        let path = TestFiles.root.appendingPathComponent("Media/samples/bikes.mp4").path
        let analysis = try analyzer().analyze(path: path)
        XCTAssertNil(analysis.embeddings.audio)
        XCTAssertNil(analysis.loudness)
        let fusion = try XCTUnwrap(analysis.fusion)
        XCTAssertTrue(fusion.missing.contains("audio"))
        XCTAssertTrue(fusion.present.contains("visual"))
        let fused = try XCTUnwrap(analysis.embeddings.fused)
        XCTAssertTrue(fused[1280..<(1280 + 1506)].allSatisfy { $0 == 0 })
        XCTAssertEqual(fused.reduce(0) { $0 + Double($1) * Double($1) }, 1, accuracy: 1e-5)
        XCTAssertTrue(analysis.notes.contains { $0.contains("no audio stream") })
    }

    func testAnalysisIsWrittenAtomicallyUnderTheTitleId() throws {
        let path = TestFiles.root.appendingPathComponent("Media/samples/bigbuckbunny.mp4").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-analysis-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let analyzer = try analyzer()
        let analysis = try analyzer.analyze(path: path)
        let written = try analyzer.write(analysis, to: out.path)
        XCTAssertEqual(written, out.appendingPathComponent("bigbuckbunny/analysis.json").path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("bigbuckbunny").path).sorted(),
                       ["analysis.json", "artwork", "keyframes"], "no temporary file is left behind")
        let stills = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("bigbuckbunny/keyframes").path).sorted()
        XCTAssertEqual(stills, analysis.keyframes.map { ($0.file as NSString).lastPathComponent })
        let artwork = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("bigbuckbunny/artwork").path).sorted()
        XCTAssertTrue(analysis.artwork.computed)
        XCTAssertFalse(artwork.isEmpty)
        XCTAssertEqual(artwork, analysis.artwork.candidates.map { ($0.file as NSString).lastPathComponent })
        XCTAssertNotNil(TitleAnalyzer.read(from: written), "the analysis reads back")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: written))) as? [String: Any])
        XCTAssertEqual(json["schema_version"] as? Int, TitleAnalysis.schemaVersion)
        XCTAssertNotNil(json["media"] as? [String: Any])
    }

    func testATitleWithoutVideoIsAClearError() throws {
        let path = TestFiles.root.appendingPathComponent("Media/fixtures/audio_only.m4a").path
        XCTAssertThrowsError(try analyzer().analyze(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path): the file has no video stream.")
        }
    }
}
