import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels
import XCTest

/// Tags over time, end to end from the media file.
final class AudioTaggerTests: XCTestCase {
    nonisolated(unsafe) static var loaded: AudioTagger?

    func tagger() throws -> AudioTagger {
        if let loaded = Self.loaded { return loaded }
        let store = ModelStore(folder: TestFiles.root.appendingPathComponent("Models/converted").path)
        let tagger = AudioTagger(model: try store.musiCNN())
        Self.loaded = tagger
        return tagger
    }

    func goldenTopTags(_ title: String) throws -> [String] {
        let url = TestFiles.root.appendingPathComponent("Tests/MarqueeModelsTests/Goldens/musicnn_mtt/summary.json")
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let titles = try XCTUnwrap(summary["titles"] as? [String: Any])
        let entry = try XCTUnwrap(titles[title] as? [String: Any])
        return try XCTUnwrap(entry["top10"] as? [[Any]]).map { $0[0] as! String }
    }

    func testTestMP4TopFiveTagsMatchTensorFlow() throws {
        let path = TestFiles.root.appendingPathComponent("Media/samples/test.mp4").path
        let analysis = try tagger().tagsOverTime(.detect(path: path, stream: nil))
        let ours = analysis.tags.prefix(5).map(\.label)
        let theirs = try goldenTopTags("test").prefix(5)
        print("test.mp4 top tags: \(analysis.tags.prefix(6).map { "\($0.label) \($0.score)" })")
        XCTAssertEqual(ours, Array(theirs))
        XCTAssertEqual(analysis.segments.count, 70)
        XCTAssertEqual(analysis.segments[1].start, 187 * 256 / 16000, accuracy: 1e-9)
        XCTAssertEqual(analysis.segments[0].penultimate.count, 200)
        XCTAssertEqual(analysis.segments[0].meanPool.count, 753)
        let techno = try XCTUnwrap(analysis.tags.first { $0.label == "techno" })
        XCTAssertGreaterThan(techno.activeShare, 0.3)
    }

    func testShortClipIsPaddedToOnePatch() throws {
        let path = LoudnessTests.scratch.appendingPathComponent("half-second.wav").path
        try? FileManager.default.createDirectory(at: LoudnessTests.scratch, withIntermediateDirectories: true)
        try LoudnessTests.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                               "sine=frequency=440:duration=0.5:sample_rate=44100", path])
        let analysis = try tagger().analyze(.detect(path: path, stream: nil))
        XCTAssertEqual(analysis.segments.count, 1)
        XCTAssertTrue(analysis.segments[0].padded)
        XCTAssertEqual(analysis.segments[0].end, 0.5, accuracy: 0.01)
        XCTAssertTrue(analysis.segments[0].probabilities.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
    }

    func testSilenceGivesFiniteTagsAndNoLoudness() throws {
        let path = TestFiles.root.appendingPathComponent("Media/fixtures/silence.wav").path
        let analysis = try tagger().analyze(.detect(path: path, stream: nil))
        XCTAssertEqual(analysis.segments.count, 1)
        XCTAssertTrue(analysis.tags.allSatisfy { $0.score.isFinite })
        XCTAssertNil(analysis.loudness.integratedLUFS)
        XCTAssertEqual(analysis.loudness.silentShare, 1)
    }

    func testSurroundAndMonoFilesAreTagged() throws {
        for name in ["surround51.mp4", "surround51.wav", "tone_440.flac", "audio_only.m4a"] {
            let path = TestFiles.root.appendingPathComponent("Media/fixtures/\(name)").path
            let analysis = try tagger().analyze(.detect(path: path, stream: nil))
            XCTAssertFalse(analysis.segments.isEmpty, name)
            XCTAssertNotNil(analysis.loudness.integratedLUFS, name)
        }
    }

    func testFileWithoutAudioIsAnError() throws {
        let path = TestFiles.root.appendingPathComponent("Media/fixtures/video_only.mp4").path
        XCTAssertThrowsError(try tagger().analyze(.detect(path: path, stream: nil))) { error in
            XCTAssertTrue("\(error)".contains("no audio stream"), "\(error)")
        }
    }
}
