import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels
import XCTest

/// Shots of whole files: the streaming windows against the PyTorch goldens, the synthetic
/// fixture's known cuts and transitions, and videos too short or empty for a window.
final class ShotDetectorTests: XCTestCase {

    nonisolated(unsafe) static var loaded: ShotDetector?
    nonisolated(unsafe) static var fixtureShots: ShotList?

    private func detector() throws -> ShotDetector {
        if let loaded = Self.loaded { return loaded }
        let path = TestFiles.root.appendingPathComponent("Models/converted/transnetv2.safetensors").path
        guard FileManager.default.fileExists(atPath: path) else { throw TestError("\(path) is missing: run `make models` first") }
        let detector = ShotDetector(model: try TransNetV2(weightsPath: path))
        Self.loaded = detector
        return detector
    }

    // MARK: Against the reference

    func testStreamingWindowsMatchPyTorchOnBigBuckBunny() throws {
        let result = try detector().detect(path: try TestFiles.media("Media/samples/bigbuckbunny.mp4"), keepProbabilities: true)
        let single = try TransNetV2Goldens.vector("bigbuckbunny.single.npy"), manyHot = try TransNetV2Goldens.vector("bigbuckbunny.many_hot.npy")
        XCTAssertEqual(result.frames, 132)
        XCTAssertEqual(result.windows, 3)
        let ours = try XCTUnwrap(result.single), oursManyHot = try XCTUnwrap(result.manyHot)
        XCTAssertEqual(ours.count, single.count)
        XCTAssertLessThanOrEqual(zip(ours, single).map { abs($0 - $1) }.max() ?? 1, 1e-3)
        XCTAssertLessThanOrEqual(zip(oursManyHot, manyHot).map { abs($0 - $1) }.max() ?? 1, 1e-3)
        XCTAssertEqual(result.shots.map { [$0.startFrame, $0.endFrame] }, [[0, 131]])
        XCTAssertEqual(result.shots[0].start, 0, accuracy: 1e-9)
        XCTAssertEqual(result.shots[0].end, 132 / result.fps, accuracy: 1e-3)
    }

    // MARK: The synthetic fixture (Media/fixtures/truth.json, "shots.mp4")

    private func fixture() throws -> (ShotList, [String: Any]) {
        let path = try TestFiles.media("Media/fixtures/shots.mp4")
        let data = try Data(contentsOf: URL(fileURLWithPath: try TestFiles.media("Media/fixtures/truth.json")))
        let truth = try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["shots.mp4"] as? [String: Any])
        if let shots = Self.fixtureShots { return (shots, truth) }
        let shots = try detector().detect(path: path, keepProbabilities: true)
        Self.fixtureShots = shots
        return (shots, truth)
    }

    private func spans(_ truth: [String: Any], _ key: String) throws -> [ClosedRange<Int>] {
        try XCTUnwrap(truth[key] as? [[String: Any]]).map { ($0["start"] as! Int)...($0["end"] as! Int) }
    }

    func testEveryHardCutIsFoundWithinOneFrame() throws {
        let (result, truth) = try fixture()
        XCTAssertEqual(result.frames, truth["frames"] as? Int)
        for cut in try XCTUnwrap(truth["cuts"] as? [Int]) {
            let shot = result.shots.first { abs($0.startFrame - cut) <= 1 }
            XCTAssertNotNil(shot, "no shot starts within one frame of the cut at \(cut)")
            XCTAssertEqual(shot?.transition?.kind, .cut, "cut at \(cut)")
            XCTAssertEqual(shot?.start ?? -1, Double(cut) / 25, accuracy: 0.041, "cut at \(cut)")
        }
    }

    func testNoCutInsideTheStaticSegmentOrTheFade() throws {
        let (result, truth) = try fixture()
        let cuts = try XCTUnwrap(truth["cuts"] as? [Int])
        let still = try spans(truth, "static")
        let fade = (try spans(truth, "fades").map(\.lowerBound).min()!)...(try spans(truth, "fades").map(\.upperBound).max()!)
        for shot in result.shots.dropFirst() where !cuts.contains(where: { abs($0 - shot.startFrame) <= 1 }) {
            guard let transition = shot.transition else { continue }
            for span in still + [fade] where span.overlaps(transition.startFrame...transition.endFrame) {
                XCTAssertNotEqual(transition.kind, .cut, "a cut at \(transition.startFrame) inside \(span)")
            }
        }
    }

    /// The fade (out through black and in) and the dissolve are gradual transitions whose
    /// frames cover the true span within 5 frames at either end.
    func testTheFadeAndTheDissolveAreGradualTransitionsOverTheirSpan() throws {
        let (result, truth) = try fixture()
        let fades = try spans(truth, "fades")
        let fade = fades.map(\.lowerBound).min()!...fades.map(\.upperBound).max()!
        for span in [fade] + (try spans(truth, "dissolves")) {
            let transitions = result.shots.compactMap(\.transition).filter { $0.startFrame...$0.endFrame ~= (span.lowerBound + span.upperBound) / 2 }
            XCTAssertEqual(transitions.count, 1, "one transition over \(span): \(result.shots.compactMap(\.transition))")
            guard let transition = transitions.first else { continue }
            XCTAssertEqual(transition.kind, .gradual, "\(span)")
            XCTAssertLessThanOrEqual(abs(transition.startFrame - span.lowerBound), 5, "start of \(span): \(transition)")
            XCTAssertLessThanOrEqual(abs(transition.endFrame - span.upperBound), 5, "end of \(span): \(transition)")
        }
    }

    /// The three flash frames 260...262: the reference (and so Marquee, equal to it within
    /// 1e-5) gives frame 262 a single-frame probability of 0.537, just over 0.5, so its scene
    /// list has a boundary there. The flash filter drops it, leaving no boundary outside the
    /// true transitions; kept, it is the only such boundary, and one that a threshold of 0.6
    /// also removes.
    func testTheFlashIsDroppedAndIsTheReferencesOnlyFalseBoundary() throws {
        let (result, truth) = try fixture()
        let cuts = try XCTUnwrap(truth["cuts"] as? [Int])
        let gradual = try spans(truth, "fades") + spans(truth, "dissolves")
        let flash = try spans(truth, "flashes")[0]
        func unexplained(_ shots: [Shot]) -> [Int] {
            shots.dropFirst().filter { shot in
                !cuts.contains { abs($0 - shot.startFrame) <= 1 } && !gradual.contains { ($0.lowerBound - 5)...($0.upperBound + 5) ~= shot.startFrame }
            }.map { $0.startFrame - 1 }
        }
        XCTAssertEqual(unexplained(result.shots), [], "boundaries matching no true transition")
        XCTAssertTrue(result.shots.contains { $0.startFrame < flash.lowerBound && $0.endFrame > flash.upperBound }, "one shot spans the flash")

        let path = try TestFiles.media("Media/fixtures/shots.mp4")
        let asReference = try detector().detect(path: path, keepProbabilities: true, dropFlashes: false)
        XCTAssertEqual(unexplained(asReference.shots), [flash.upperBound])
        XCTAssertEqual(Double(try XCTUnwrap(asReference.single)[flash.upperBound]), 0.537, accuracy: 0.01)

        let stricter = try detector().detect(path: path, threshold: 0.6, dropFlashes: false)
        XCTAssertEqual(stricter.shots.dropFirst().filter { s in !cuts.contains { abs($0 - s.startFrame) <= 1 } }.count, 2,
                       "at 0.6 only the fade and the dissolve remain besides the cuts")
    }

    // MARK: Short and degenerate videos

    private func makeClip(_ name: String, _ arguments: [String]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-shots-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let out = folder.appendingPathComponent(name).path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"] + arguments + ["-pix_fmt", "yuv420p", out]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestError("ffmpeg could not make \(name)") }
        return out
    }

    func testAThirtyFrameClipWithACutGetsTwoShots() throws {
        // 15 frames of testsrc2, then 15 of a solid colour: a cut before frame 15.
        let clip = try makeClip("thirty.mp4", ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=0.6",
                                               "-f", "lavfi", "-i", "color=c=0x3366cc:size=160x90:rate=25:duration=0.6",
                                               "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]"])
        let result = try detector().detect(path: clip)
        XCTAssertEqual(result.frames, 30)
        XCTAssertEqual(result.windows, 1)
        XCTAssertEqual(result.shots.count, 2, "\(result.shots)")
        XCTAssertEqual(result.shots.last.map { abs($0.startFrame - 15) <= 1 }, true, "\(result.shots)")
        XCTAssertEqual(result.shots.last?.endFrame, 29)
    }

    func testASingleFrameIsOneShotOfOneFrame() throws {
        let clip = try makeClip("one.mp4", ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25", "-frames:v", "1"])
        let result = try detector().detect(path: clip, keepProbabilities: true)
        XCTAssertEqual(result.frames, 1)
        XCTAssertEqual(result.single?.count, 1)
        XCTAssertEqual(result.shots.map { [$0.startFrame, $0.endFrame] }, [[0, 0]])
        XCTAssertEqual(result.shots[0].end, 1 / result.fps, accuracy: 1e-6)
    }

    func testBlackFramesBetweenTwoScenesAreAShotOfTheirOwn() throws {
        // black.mp4: 125 frames, black from 50 to 74.
        let result = try detector().detect(path: try TestFiles.media("Media/fixtures/black.mp4"))
        XCTAssertEqual(result.frames, 125)
        XCTAssertEqual(result.shots.map { [$0.startFrame, $0.endFrame] }, [[0, 49], [50, 74], [75, 124]])
        XCTAssertEqual(result.shots.dropFirst().map { $0.transition?.kind }, [.cut, .cut])
    }

    func testAFileWithoutAVideoStreamIsAnErrorNamingIt() throws {
        let path = try TestFiles.media("Media/fixtures/audio_only.m4a")
        XCTAssertThrowsError(try detector().detect(path: path)) { error in
            XCTAssertEqual((error as? MediaError)?.reason, .noStream(.video), "\(error)")
            XCTAssertTrue("\(error)".contains(path))
        }
    }

    func testAnEmptyFileIsAnErrorNamingIt() throws {
        let path = try TestFiles.media("Media/fixtures/empty.mp4")
        XCTAssertThrowsError(try detector().detect(path: path)) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }

    func testAThresholdOutsideZeroToOneIsRefused() throws {
        XCTAssertThrowsError(try detector().detect(path: "x.mp4", threshold: 1)) { error in
            XCTAssertEqual((error as? ShotDetectionError)?.reason, .badThreshold(1))
        }
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
