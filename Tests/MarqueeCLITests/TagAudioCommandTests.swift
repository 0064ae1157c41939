import Foundation
import XCTest

final class TagAudioCommandTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    private static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-tag-audio-\(getpid())")

    private func sample(_ name: String) -> String { Self.root.appendingPathComponent("Media/samples/\(name)").path }
    private func fixture(_ name: String) -> String { Self.root.appendingPathComponent("Media/fixtures/\(name)").path }

    override class func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    private func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try MarqueeProcess.run(["tag-audio", "--json"] + arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(String(decoding: result.stdout, as: UTF8.self).lowercased().contains("nan,"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
    }

    /// A file made by the ffmpeg CLI from a lavfi source.
    private func generated(_ name: String, _ source: String, _ extra: [String] = []) throws -> String {
        try FileManager.default.createDirectory(at: Self.scratch, withIntermediateDirectories: true)
        let path = Self.scratch.appendingPathComponent(name).path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source] + extra + [path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return path
    }

    func testJSONHasTagsSegmentsAndLoudness() throws {
        let parsed = try json([sample("bigbuckbunny.mp4")])
        let tags = try XCTUnwrap(parsed["tags"] as? [[String: Any]])
        XCTAssertEqual(tags.count, 5)
        XCTAssertEqual(tags[0]["label"] as? String, "quiet")
        XCTAssertNotNil(tags[0]["score"] as? Double)
        let segments = try XCTUnwrap(parsed["segments"] as? [[String: Any]])
        XCTAssertEqual(segments.count, 1)
        XCTAssertEqual(segments[0]["start"] as? Double, 0)
        XCTAssertEqual((segments[0]["top"] as? [[String: Any]])?.count, 5)
        XCTAssertNil(segments[0]["probabilities"], "probabilities only with --raw")
        let loudness = try XCTUnwrap(parsed["loudness"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(loudness["integrated_lufs"] as? Double), -34.0, accuracy: 0.1)
        XCTAssertNotNil(loudness["range_lu"] as? Double)
        XCTAssertNotNil(loudness["true_peak_dbtp"] as? Double)
    }

    func testRawAddsProbabilitiesAndFeatures() throws {
        let parsed = try json(["--raw", sample("bigbuckbunny.mp4")])
        let segment = try XCTUnwrap((parsed["segments"] as? [[String: Any]])?.first)
        XCTAssertEqual((segment["probabilities"] as? [Double])?.count, 50)
        let features = try XCTUnwrap(segment["features"] as? [String: Any])
        XCTAssertEqual((features["penultimate"] as? [Double])?.count, 200)
        XCTAssertEqual((features["mean_pool"] as? [Double])?.count, 753)
        XCTAssertEqual((features["max_pool"] as? [Double])?.count, 753)
        XCTAssertEqual((parsed["labels"] as? [String])?.count, 50)
    }

    func testSilenceGivesNullLoudnessNotNaN() throws {
        let parsed = try json([fixture("silence.wav")])
        let loudness = try XCTUnwrap(parsed["loudness"] as? [String: Any])
        XCTAssertTrue(loudness["integrated_lufs"] is NSNull)
        XCTAssertTrue(loudness["true_peak_dbtp"] is NSNull)
        XCTAssertEqual(loudness["silent_share"] as? Double, 1)
    }

    func testHalfSecondFileGivesOneSegment() throws {
        let path = try generated("half.wav", "sine=frequency=1000:duration=0.5:sample_rate=48000")
        let parsed = try json([path])
        let segments = try XCTUnwrap(parsed["segments"] as? [[String: Any]])
        XCTAssertEqual(segments.count, 1)
        XCTAssertEqual(try XCTUnwrap(segments[0]["end"] as? Double), 0.5, accuracy: 0.01)
        XCTAssertTrue((parsed["loudness"] as? [String: Any])?["range_lu"] is NSNull)
    }

    func testNonFiniteSamplesGiveFiniteJSON() throws {
        let path = try generated("non-finite.wav", "aevalsrc=if(lt(t\\,1)\\,0/0\\,0.1*sin(2*PI*440*t)):s=16000:d=4",
                                 ["-c:a", "pcm_f32le"])
        let parsed = try json([path])
        XCTAssertFalse((parsed["segments"] as? [[String: Any]] ?? []).isEmpty)
    }

    func testMonoAndSurroundFiles() throws {
        for path in [fixture("tone_440.flac"), fixture("surround51.mp4"), fixture("audio_only.m4a")] {
            let parsed = try json([path])
            XCTAssertFalse((parsed["segments"] as? [[String: Any]] ?? []).isEmpty, path)
            XCTAssertNotNil((parsed["loudness"] as? [String: Any])?["integrated_lufs"] as? Double, path)
        }
    }

    func testChosenStreamIsRead() throws {
        let path = try generated("two-streams.mkv", "sine=frequency=440:duration=4",
                                 ["-f", "lavfi", "-i", "anullsrc=duration=4", "-map", "0:a", "-map", "1:a", "-c:a", "flac"])
        let first = try json([path])
        let second = try json(["--stream", "1", path])
        XCTAssertNotNil((first["loudness"] as? [String: Any])?["integrated_lufs"] as? Double)
        XCTAssertTrue((second["loudness"] as? [String: Any])?["integrated_lufs"] is NSNull)
    }

    func testFileWithoutAudioIsOneErrorLine() throws {
        let result = try MarqueeProcess.run(["tag-audio", "--json", fixture("video_only.mp4")])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout.count, 0)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix("error: ") && lines[0].contains("video_only.mp4") && lines[0].contains("no audio stream"))
    }

    func testBadFilesAreErrorsNotCrashes() throws {
        for path in [fixture("empty.mp4"), fixture("random.mp4"), fixture("text.mkv"), "/no/such/file.wav"] {
            let result = try MarqueeProcess.run(["tag-audio", path])
            XCTAssertEqual(result.status, 1, path)
            XCTAssertTrue(result.stderr.hasPrefix("error: ") && result.stderr.contains(path), result.stderr)
        }
    }

    func testRawWithoutJSONIsAUsageError() throws {
        let result = try MarqueeProcess.run(["tag-audio", "--raw", fixture("silence.wav")])
        XCTAssertEqual(result.status, 2)
    }
}
