import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels
import XCTest

/// Artwork candidates of Media/fixtures/trap.mp4: real footage with black frames, fades, a
/// dissolve, blurred stretches and a caption card at frames listed in truth.json.
final class ArtworkTrapTests: XCTestCase {

    struct Trap {
        var kind: String
        var start_frame: Int
        var end_frame: Int
    }

    /// One extraction shared by the tests (the same file, models and options every time).
    private static let extraction: Result<ArtworkResult, Error> = Result {
        let models = ModelStore(folder: TestFiles.root.appendingPathComponent("Models/converted").path)
        let extractor = ArtworkExtractor(shotModel: try models.transNetV2(), visualModel: try models.efficientNetLite0())
        return try extractor.extract(path: TestFiles.root.appendingPathComponent("Media/fixtures/trap.mp4").path)
    }

    private func traps() throws -> [Trap] {
        let data = try Data(contentsOf: TestFiles.root.appendingPathComponent("Media/fixtures/truth.json"))
        let truth = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let entry = try XCTUnwrap(truth?["trap.mp4"] as? [String: Any], "truth.json has no trap.mp4: run `make media`")
        let list = try XCTUnwrap(entry["traps"] as? [[String: Any]])
        return try list.map {
            Trap(kind: try XCTUnwrap($0["kind"] as? String), start_frame: try XCTUnwrap($0["start_frame"] as? Int),
                 end_frame: try XCTUnwrap($0["end_frame"] as? Int))
        }
    }

    func testTheTrapVideoYieldsTenCandidates() throws {
        let result = try Self.extraction.get()
        XCTAssertEqual(result.frames, 1192)
        XCTAssertEqual(result.selection.candidates.count, 10)
    }

    func testNoCandidateFallsInATrap() throws {
        let traps = try traps()
        XCTAssertEqual(traps.count, 8)
        for candidate in try Self.extraction.get().selection.candidates {
            for trap in traps {
                XCTAssertFalse((trap.start_frame...trap.end_frame).contains(candidate.frame),
                               "candidate \(candidate.rank) at frame \(candidate.frame) is in the \(trap.kind) trap \(trap.start_frame)-\(trap.end_frame)")
            }
        }
    }

    func testCandidatesComeFromDistinctShots() throws {
        let candidates = try Self.extraction.get().selection.candidates
        XCTAssertEqual(Set(candidates.map(\.shot)).count, candidates.count, "\(candidates.map(\.shot))")
    }

    func testTheBlackCaptionAndBlurredStretchesWereSampledAndRejected() throws {
        let rejected = try Self.extraction.get().selection.rejected
        XCTAssertGreaterThan(rejected[.black] ?? 0, 0, "\(rejected)")
        XCTAssertGreaterThan(rejected[.captionCard] ?? 0, 0, "\(rejected)")
        XCTAssertGreaterThan(rejected[.blurred] ?? 0, 0, "\(rejected)")
    }

    func testCandidatesAreFullResolutionFramesWithEveryScoreComponentInRange() throws {
        for candidate in try Self.extraction.get().selection.candidates {
            XCTAssertEqual(candidate.image.width, 640)
            XCTAssertEqual(candidate.image.height, 360)
            let c = candidate.components
            for value in [c.sharpness, c.exposure, c.contrast, c.colourfulness, c.quality, c.distinctiveness, c.total] {
                XCTAssertTrue((0...1).contains(value), "\(c)")
            }
            XCTAssertEqual(c.total, candidate.score)
            XCTAssertGreaterThanOrEqual(candidate.reasons.count, 6)
        }
    }
}
