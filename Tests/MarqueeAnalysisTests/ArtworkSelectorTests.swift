import Foundation
@testable import MarqueeAnalysis
import MarqueeMedia
import XCTest

/// The selector's filters, per-shot rule and memory bound on frames cut from a real photo.
final class ArtworkSelectorTests: XCTestCase {
    private static let fps = 25.0

    private static let photo: RGBImage = {
        (try? PNGFile.read(path: TestFiles.root.appendingPathComponent("Media/samples/astronaut.png").path)) ?? RGBImage(width: 1, height: 1)
    }()

    /// A 96x54 window of the astronaut photo; `variant` moves the window.
    private func still(_ variant: Int) -> RGBImage {
        let photo = Self.photo
        XCTAssertGreaterThan(photo.width, 200, "Media/samples/astronaut.png is missing: run `make media`")
        let w = 96, h = 54
        let x0 = (variant * 37) % (photo.width - w), y0 = (variant * 53) % (photo.height - h)
        var out = RGBImage(width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 { out.pixels[(y * w + x) * 3 + c] = photo.pixels[((y0 + y) * photo.width + x0 + x) * 3 + c] }
            }
        }
        return out
    }

    /// A vector pointing mostly along axis `k % 64`: frames of different axes are dissimilar.
    private func features(_ k: Int) -> [Float] {
        (0..<64).map { $0 == k % 64 ? 1 : 0.05 }
    }

    /// Shots of `length` frames, each after a one-frame cut.
    private func shots(count: Int, length: Int) -> [Shot] {
        (0..<count).map { i in
            let start = i * length
            return Shot(startFrame: start, endFrame: start + length - 1, start: Double(start) / Self.fps,
                        end: Double(start + length) / Self.fps,
                        transition: i == 0 ? nil : Transition(kind: .cut, startFrame: start - 1, endFrame: start - 1))
        }
    }

    private func frame(_ index: Int, image: RGBImage? = nil, features: [Float]? = nil) -> ArtworkFrame {
        ArtworkFrame(index: index, time: Double(index) / Self.fps, image: image ?? still(index), features: features ?? self.features(index / 10))
    }

    func testEachShotGivesAtMostOneCandidate() {
        let selector = ArtworkSelector(fps: Self.fps)
        for index in stride(from: 0, to: 400, by: 10) { selector.consider(frame(index)) }
        let candidates = selector.finish(shots: shots(count: 4, length: 100)).candidates
        XCTAssertEqual(candidates.count, 4)
        XCTAssertEqual(Set(candidates.map(\.shot)), [0, 1, 2, 3])
        XCTAssertEqual(candidates.map(\.rank), [1, 2, 3, 4])
        XCTAssertEqual(candidates.map(\.score), candidates.map(\.score).sorted(by: >), "ranked by score when all are dissimilar")
    }

    func testFramesWithinAQuarterSecondOfACutAreNotCandidates() {
        let selector = ArtworkSelector(fps: Self.fps)
        // The cut is frame 99; 0.25 s is 6.25 frames.
        for index in [93, 94, 99, 100, 104, 105] { selector.consider(frame(index)) }
        let selection = selector.finish(shots: shots(count: 2, length: 100))
        XCTAssertEqual(selection.candidates.map(\.frame), [])
        XCTAssertEqual(selection.rejected[.transition], 6)
    }

    func testBlackAndFlatFramesAreNeverCandidates() {
        let selector = ArtworkSelector(fps: Self.fps)
        let black = RGBImage(width: 96, height: 54)
        let gray = RGBImage(width: 96, height: 54, pixels: [UInt8](repeating: 90, count: 96 * 54 * 3))
        selector.consider(frame(20, image: black))
        selector.consider(frame(40, image: gray))
        selector.consider(frame(60))
        let selection = selector.finish(shots: shots(count: 1, length: 100))
        XCTAssertEqual(selection.candidates.map(\.frame), [60])
        XCTAssertEqual(selection.rejected[.black], 1)
        XCTAssertEqual(selection.rejected[.nearUniform], 1)
        XCTAssertEqual(selection.candidates.first?.reasons.contains("not black"), true)
    }

    func testMaximalMarginalRelevancePrefersADifferentFrameToANearDuplicateOfAPickedOne() {
        // Shots 0 and 1 hold the same picture with the same features (A); shot 2 the same
        // picture three times with features B, which then dominate the title's mean feature:
        // by score alone both A frames win (more distinctive); with diversity, a B frame
        // replaces the duplicate.
        func pick(relevance: Float) -> [Int] {
            var options = ArtworkSelector.Options()
            options.count = 2
            options.relevance = relevance
            let selector = ArtworkSelector(options: options, fps: Self.fps)
            selector.consider(frame(50, image: still(1), features: features(0)))
            selector.consider(frame(150, image: still(1), features: features(0)))
            for index in [230, 250, 270] { selector.consider(frame(index, image: still(1), features: features(5))) }
            return selector.finish(shots: shots(count: 3, length: 100)).candidates.map(\.frame)
        }
        XCTAssertEqual(Set(pick(relevance: 1)), [50, 150])
        let diverse = pick(relevance: 0.3)
        XCTAssertEqual(diverse.count, 2)
        XCTAssertTrue([50, 150].contains(diverse[0]), "\(diverse)")
        XCTAssertTrue([230, 250, 270].contains(diverse[1]), "\(diverse)")
    }

    func testFramesHeldStayBoundedWhenShotsAreReportedWhileDecoding() {
        var options = ArtworkSelector.Options()
        options.streamingShots = true
        let selector = ArtworkSelector(options: options, fps: Self.fps)
        let title = shots(count: 200, length: 120)  // 24,000 frames, 16 minutes
        var nextToClose = 0
        var peak = 0
        for index in stride(from: 0, to: 24_000, by: 12) {
            // The shot detector reports a shot about 125 frames after its last frame.
            while nextToClose < title.count && title[nextToClose].endFrame + 125 <= index {
                selector.closeShot(title[nextToClose])
                nextToClose += 1
            }
            selector.consider(frame(index, image: still(index / 12 % 50), features: features(index / 120)))
            peak = max(peak, selector.framesHeld)
        }
        let selection = selector.finish(shots: title)
        XCTAssertEqual(selection.considered, 2000)
        XCTAssertLessThanOrEqual(peak, 70, "30 in the pool, the rest not yet assigned to a shot")
        XCTAssertEqual(selection.candidates.count, 10)
        XCTAssertEqual(Set(selection.candidates.map(\.shot)).count, 10)
    }

    func testFramesOfALongShotInProgressStayBounded() {
        var options = ArtworkSelector.Options()
        options.streamingShots = true
        let selector = ArtworkSelector(options: options, fps: Self.fps)
        var peak = 0
        for index in stride(from: 0, to: 6000, by: 12) {  // one four-minute shot
            selector.consider(frame(index, image: still(index / 12 % 50)))
            peak = max(peak, selector.framesHeld)
        }
        // At most the 17 frames of the last 200 frames, the 3 best before them and 9 more
        // waiting for the next narrowing.
        XCTAssertLessThanOrEqual(peak, 30)
        let candidates = selector.finish(shots: shots(count: 1, length: 6000)).candidates
        XCTAssertEqual(candidates.count, 1)
    }
}
