import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels
import XCTest

/// The flash filter on real decoded frames, fed as the shot detector feeds it: each frame's
/// probabilities arrive 30 frames after the frame itself was decoded.
final class FlashFilterTests: XCTestCase {
    private func shot(_ scene: Scene) -> Shot {
        Shot(startFrame: scene.startFrame, endFrame: scene.endFrame, start: 0, end: 0, transition: scene.transition)
    }

    private func filteredScenes(_ path: String, single: [Float], manyHot: [Float]) throws -> [Shot] {
        let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: ShotDetector.frameSize, selection: .everyFrame)])
        var filter = FlashFilter(frameBytes: TransNetV2.frameBytes)
        var segmenter = SceneSegmenter()
        var scenes: [Shot] = []
        var predicted = 0
        func predict(_ frame: Int) {
            let startBefore = segmenter.currentStart
            if let scene = segmenter.add(single: single[frame], manyHot: manyHot[frame]), let final = filter.add(shot(scene)) {
                scenes.append(final)
            }
            if segmenter.currentStart != startBefore, let final = filter.nextSceneStarts(at: segmenter.currentStart) {
                scenes.append(final)
            }
        }
        var decoded = 0
        while let frame = try decoder.next() {
            guard let image = frame.images[0] else { continue }
            image.pixels.withUnsafeBufferPointer { filter.record($0) }
            decoded += 1
            while predicted < decoded - 30 { predict(predicted); predicted += 1 }
        }
        XCTAssertEqual(decoded, single.count, "frames decoded vs probabilities")
        while predicted < decoded { predict(predicted); predicted += 1 }
        scenes += filter.finish(segmenter.finish().map(shot))
        return scenes
    }

    private func bounds(_ scenes: [Scene]) -> [[Int]] { scenes.map { [$0.startFrame, $0.endFrame] } }
    private func bounds(_ shots: [Shot]) -> [[Int]] { shots.map { [$0.startFrame, $0.endFrame] } }

    /// Media/fixtures/shots.mp4 flashes on frames 260...262 and TransNetV2 puts a boundary at
    /// 262: the filter joins the two scenes around it and keeps every other boundary.
    func testTheFixturesFlashBoundaryIsDroppedAndNothingElse() throws {
        let path = try TestFiles.media("Media/fixtures/shots.mp4")
        let result = try ShotDetector(model: try ModelStore(folder: TestFiles.root.appendingPathComponent("Models/converted").path).transNetV2())
            .detect(path: path, keepProbabilities: true, dropFlashes: false)
        let single = try XCTUnwrap(result.single), manyHot = try XCTUnwrap(result.manyHot)
        let unfiltered = SceneSegmenter.scenes(single, manyHot: manyHot)
        let flashIndex = try XCTUnwrap(unfiltered.firstIndex { $0.endFrame == 262 }, "the reference's boundary at the flash")

        let filtered = try filteredScenes(path, single: single, manyHot: manyHot)
        var expected = bounds(unfiltered)
        expected[flashIndex] = [unfiltered[flashIndex].startFrame, unfiltered[flashIndex + 1].endFrame]
        expected.remove(at: flashIndex + 1)
        XCTAssertEqual(bounds(filtered), expected)
        XCTAssertEqual(filtered[flashIndex].transition, unfiltered[flashIndex].transition, "the joined scene keeps its opening")
    }

    /// test.mp4's 108 reference scenes are all real cuts and transitions: none is dropped.
    func testEveryBoundaryOfTheMusicVideoIsKept() throws {
        let single = try TransNetV2Goldens.vector("test.single.npy"), manyHot = try TransNetV2Goldens.vector("test.many_hot.npy")
        let filtered = try filteredScenes(try TestFiles.media("Media/samples/test.mp4"), single: single, manyHot: manyHot)
        XCTAssertEqual(filtered.count, 108)
        XCTAssertEqual(bounds(filtered), bounds(SceneSegmenter.scenes(single, manyHot: manyHot)))
    }
}
