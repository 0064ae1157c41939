import Foundation
import XCTest

final class ShotsCommandTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func path(_ relative: String) -> String { Self.root.appendingPathComponent(relative).path }

    private func json(_ result: MarqueeProcess.Result) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stderr)
    }

    func testJSONListsFramesFpsAndShotsWithTheirTransitions() throws {
        let result = try MarqueeProcess.run(["shots", "--json", path("Media/fixtures/shots.mp4")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let output = try json(result)
        XCTAssertEqual(output["frames"] as? Int, 525)
        XCTAssertEqual(output["fps"] as? Double, 25)
        let shots = try XCTUnwrap(output["shots"] as? [[String: Any]])
        XCTAssertEqual(shots.first?["start_frame"] as? Int, 0)
        XCTAssertEqual(shots.last?["end_frame"] as? Int, 524)
        XCTAssertEqual(shots.first?["start"] as? Double, 0)
        XCTAssertNil(shots.first?["transition"], "the first shot opens the title")
        let second = shots[1]
        XCTAssertEqual(second["start_frame"] as? Int, 75)
        XCTAssertEqual(second["start"] as? Double, 3)
        let transition = try XCTUnwrap(second["transition"] as? [String: Any])
        XCTAssertEqual(transition["kind"] as? String, "cut")
        XCTAssertNil(output["single"], "probabilities only with --raw")
    }

    func testRawAddsEveryFramesProbabilitiesOfBothHeads() throws {
        let result = try MarqueeProcess.run(["shots", "--raw", path("Media/samples/bigbuckbunny.mp4")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let output = try json(result)
        XCTAssertEqual((output["single"] as? [Double])?.count, 132)
        XCTAssertEqual((output["many_hot"] as? [Double])?.count, 132)
        XCTAssertEqual((output["shots"] as? [[String: Any]])?.count, 1)
    }

    func testTextOutputHasOneLinePerShot() throws {
        let result = try MarqueeProcess.run(["shots", path("Media/fixtures/shots.mp4")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n")
        XCTAssertTrue(lines.first?.contains("525 frames") ?? false, "\(lines.first ?? "")")
        XCTAssertEqual(lines.count, 9, "a header and eight shots: the flash at 260-262 is not a boundary")
        XCTAssertTrue(lines.contains { $0.contains("after a gradual transition") })
    }

    func testKeepFlashesGivesTheReferencesBoundaryAtTheFlash() throws {
        let result = try MarqueeProcess.run(["shots", "--json", "--keep-flashes", path("Media/fixtures/shots.mp4")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let shots = try XCTUnwrap((try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])?["shots"] as? [[String: Any]])
        XCTAssertEqual(shots.count, 9)
        XCTAssertTrue(shots.contains { $0["end_frame"] as? Int == 262 }, "a shot ends on the flash's last frame")
    }

    func testAFileWithoutVideoFailsWithOneErrorLineNamingIt() throws {
        let file = path("Media/fixtures/audio_only.m4a")
        let result = try MarqueeProcess.run(["shots", file])
        XCTAssertEqual(result.status, 1)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        XCTAssertEqual(errors.count, 1, result.stderr)
        XCTAssertTrue(errors.first?.contains(file) ?? false, result.stderr)
        XCTAssertTrue(result.stdout.isEmpty)
    }

    func testAMissingFileFailsWithOneErrorLine() throws {
        let file = path("Media/fixtures/no-such-video.mp4")
        let result = try MarqueeProcess.run(["shots", "--json", file])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("error: ") && result.stderr.contains(file), result.stderr)
    }

    func testAThresholdOutsideZeroToOneIsAUsageError() throws {
        let result = try MarqueeProcess.run(["shots", "--threshold", "1.5", path("Media/fixtures/shots.mp4")])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("--threshold"), result.stderr)
    }

    func testAHigherThresholdKeepsTheCutsAndDropsTheBorderlineFlash() throws {
        let result = try MarqueeProcess.run(["shots", "--json", "--threshold", "0.6", path("Media/fixtures/shots.mp4")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let starts = try XCTUnwrap(try json(result)["shots"] as? [[String: Any]]).compactMap { $0["start_frame"] as? Int }
        for cut in [75, 150, 225, 300, 350] { XCTAssertTrue(starts.contains(cut), "\(cut) in \(starts)") }
        XCTAssertFalse(starts.contains(263), "\(starts)")
    }
}
