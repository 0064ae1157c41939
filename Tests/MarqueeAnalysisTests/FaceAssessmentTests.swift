import MarqueeAnalysis
import XCTest

/// Face observations built by hand with known geometry, in a 640x360 frame.
final class FaceAssessmentTests: XCTestCase {
    private let width = 640, height = 360

    /// A face `size` pixels square centred on (cx, cy) with symmetric landmarks (frontal, level).
    private func face(cx: Float, cy: Float, size: Float, score: Float = 0.99, expression: [String: Float] = [:]) -> FaceObservation {
        let half = size / 2
        let eyeY = cy - size * 0.15, eyeDX = size * 0.2
        return FaceObservation(
            box: SIMD4(cx - half, cy - half, cx + half, cy + half), score: score,
            landmarks: [SIMD2(cx - eyeDX, eyeY), SIMD2(cx + eyeDX, eyeY), SIMD2(cx, cy + size * 0.05),
                        SIMD2(cx - eyeDX * 0.8, cy + size * 0.25), SIMD2(cx + eyeDX * 0.8, cy + size * 0.25)],
            expression: expression)
    }

    func testAFrameWithoutFacesScoresZero() {
        XCTAssertEqual(FaceAssessment.assess([], width: width, height: height), .none)
    }

    func testOneLargeFrontalFaceOnThePortraitEyeLineScoresOne() {
        // 108 px is 30% of the height (≥ 25%: full size score); centre at (320, 144) = (1/2, 0.4).
        let a = FaceAssessment.assess([face(cx: 320, cy: 144, size: 108)], width: width, height: height)
        XCTAssertEqual(a.count, 1)
        XCTAssertEqual(a.largestFaceShare, 0.3, accuracy: 1e-6)
        XCTAssertEqual(a.sizeScore, 1)
        XCTAssertEqual(a.frontality, 1, accuracy: 1e-6)
        XCTAssertEqual(a.placement, 1, accuracy: 1e-6)
        XCTAssertEqual(a.countScore, 1)
        XCTAssertEqual(a.score, 1, accuracy: 1e-6)
    }

    func testASmallerFaceScoresInProportionToItsHeightUpToAQuarterOfTheFrame() {
        let a = FaceAssessment.assess([face(cx: 320, cy: 144, size: 45)], width: width, height: height)
        XCTAssertEqual(a.sizeScore, (45.0 / 360) / 0.25, accuracy: 1e-6)
    }

    func testANoseInLineWithOneEyeIsAProfile() {
        var f = face(cx: 320, cy: 144, size: 108)
        f.landmarks[2].x = f.landmarks[1].x  // nose half an interocular distance off the midpoint
        XCTAssertEqual(FaceAssessment.frontality(f), 0, accuracy: 1e-6)
        f.landmarks[2].x = (f.landmarks[0].x + f.landmarks[1].x) / 2 + (f.landmarks[1].x - f.landmarks[0].x) / 4
        XCTAssertEqual(FaceAssessment.frontality(f), 0.5, accuracy: 1e-5, "a quarter of the eye distance off: half frontal")
    }

    func testA45DegreeHeadTiltHalvesFrontality() {
        let f = FaceObservation(box: SIMD4(0, 0, 100, 100), score: 1,
                                landmarks: [SIMD2(40, 40), SIMD2(60, 60), SIMD2(40, 60), SIMD2(30, 70), SIMD2(50, 90)])
        // Eye line at 45°; the nose lies on the perpendicular through the eyes' midpoint (no yaw).
        XCTAssertEqual(FaceAssessment.frontality(f), 0.5, accuracy: 1e-5)
    }

    func testOneFaceBeatsACrowdOfFive() {
        let solo = FaceAssessment.assess([face(cx: 320, cy: 144, size: 108)], width: width, height: height)
        let crowd = FaceAssessment.assess([face(cx: 320, cy: 144, size: 108)] + (0..<4).map { i in
            face(cx: 80 + Float(i) * 150, cy: 280, size: 60)
        }, width: width, height: height)
        XCTAssertEqual(crowd.count, 5)
        XCTAssertEqual(crowd.countScore, 0.5, accuracy: 1e-6)
        XCTAssertEqual(crowd.largestFaceShare, solo.largestFaceShare, "the crowd's largest face is the solo face")
        XCTAssertLessThan(crowd.score, solo.score)
    }

    func testTinyAndUncertainFacesDoNotCount() {
        let tiny = face(cx: 100, cy: 100, size: 12)  // 3.3% of the height
        let unsure = face(cx: 320, cy: 144, size: 108, score: 0.6)
        XCTAssertEqual(FaceAssessment.assess([tiny, unsure], width: width, height: height), .none)
    }

    func testAFaceHalfOutsideTheFrameLosesHalfItsPlacement() {
        let inside = face(cx: 640 / 3, cy: 144, size: 100)
        var cut = inside
        cut.box = SIMD4(-50, 94, 50, 194)  // centred on the left edge
        XCTAssertEqual(FaceAssessment.placement(inside, width: width, height: height), 1, accuracy: 1e-5)
        // Half the box is inside; the centre is 1/3 of the width from the nearest point: 1 − (1/3)/0.5.
        XCTAssertEqual(FaceAssessment.placement(cut, width: width, height: height), 0.5 * (1 - (1.0 / 3) / 0.5), accuracy: 1e-5)
    }

    func testExpressionIntensityIsOneMinusNeutralOfTheLargestFace() {
        let happy = face(cx: 320, cy: 144, size: 108, expression: ["happy": 0.7, "neutral": 0.2, "sad": 0.1])
        let calm = face(cx: 500, cy: 144, size: 50, expression: ["neutral": 0.9, "happy": 0.1])
        let a = FaceAssessment.assess([calm, happy], width: width, height: height)
        XCTAssertEqual(a.expressionIntensity, 0.8, accuracy: 1e-6)
        XCTAssertEqual(a.expression, "happy")
        let neutral = FaceAssessment.assess([face(cx: 320, cy: 144, size: 108, expression: ["neutral": 1])], width: width, height: height)
        XCTAssertEqual(neutral.expressionIntensity, 0)
        XCTAssertEqual(neutral.expression, "neutral")
    }
}
