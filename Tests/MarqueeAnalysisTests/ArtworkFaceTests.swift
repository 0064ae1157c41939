import Foundation
import MarqueeAnalysis
import MarqueeModels
import XCTest

/// Artwork candidates of test.mp4 (a music video, many close-ups) with MTCNN and the
/// expression CNN in the score.
final class ArtworkFaceTests: XCTestCase {

    func testAtLeastHalfOfTheCandidatesOfTestMp4ShowAFace() throws {
        let models = ModelStore(folder: TestFiles.root.appendingPathComponent("Models/converted").path)
        let extractor = ArtworkExtractor(shotModel: try models.transNetV2(), visualModel: try models.efficientNetLite0(),
                                         faces: try FaceAnalyzer(models: models))
        let result = try extractor.extract(path: TestFiles.root.appendingPathComponent("Media/samples/test.mp4").path)
        let candidates = result.selection.candidates
        XCTAssertEqual(candidates.count, 10)
        let withFace = candidates.filter { ($0.face?.count ?? 0) > 0 }
        XCTAssertGreaterThanOrEqual(2 * withFace.count, candidates.count,
                                    "faces on \(withFace.count) of \(candidates.count): frames \(candidates.map(\.frame))")
        for candidate in withFace {
            XCTAssertNotNil(candidate.face?.expression, "the expression CNN ran on frame \(candidate.frame)")
        }
    }
}
