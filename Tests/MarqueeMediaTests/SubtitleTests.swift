import MarqueeMedia
import XCTest

final class SubtitleTests: XCTestCase {
    private func assertCues(_ cues: [SubtitleCue], equalTruthOf name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let truth = try XCTUnwrap(try TestMedia.truth(name)["cues"] as? [[String: Any]])
        XCTAssertEqual(cues.count, truth.count, name, file: file, line: line)
        for (cue, expected) in zip(cues, truth) {
            XCTAssertEqual(cue.text, expected["text"] as? String, name, file: file, line: line)
            XCTAssertEqual(cue.start, (expected["start"] as? NSNumber)?.doubleValue ?? -1, accuracy: 0.001, name, file: file, line: line)
            XCTAssertEqual(cue.end, (expected["end"] as? NSNumber)?.doubleValue ?? -1, accuracy: 0.001, name, file: file, line: line)
        }
    }

    func testSubRipInMatroska() throws {
        let tracks = try SubtitleReader.tracks(in: TestMedia.fixture("subs_srt.mkv"))
        XCTAssertEqual(tracks.count, 1)
        XCTAssertEqual(tracks.first?.language, "eng")
        try assertCues(tracks[0].cues, equalTruthOf: "subs_srt.mkv")
    }

    func testASSInMatroska() throws {
        let tracks = try SubtitleReader.tracks(in: TestMedia.fixture("subs_ass.mkv"))
        try assertCues(XCTUnwrap(tracks.first).cues, equalTruthOf: "subs_ass.mkv")
    }

    func testMovTextInMP4() throws {
        let tracks = try SubtitleReader.tracks(in: TestMedia.fixture("subs_movtext.mp4"))
        try assertCues(XCTUnwrap(tracks.first).cues, equalTruthOf: "subs_movtext.mp4")
    }

    func testWebVTTInMatroska() throws {
        let tracks = try SubtitleReader.tracks(in: TestMedia.fixture("subs_webvtt.mkv"))
        try assertCues(XCTUnwrap(tracks.first).cues, equalTruthOf: "subs_webvtt.mkv")
    }

    func testSidecarSRTAndVTTFilesAreFoundNextToTheVideo() throws {
        let video = try TestMedia.fixture("sidecar.mp4")
        let paths = SubtitleReader.sidecarPaths(forVideo: video).map { URL(fileURLWithPath: $0).lastPathComponent }
        XCTAssertEqual(paths, ["sidecar.srt", "sidecar.vtt"])
        let tracks = try SubtitleReader.allTracks(forVideo: video)
        XCTAssertEqual(tracks.count, 2)
        for track in tracks {
            try assertCues(track.cues, equalTruthOf: URL(fileURLWithPath: track.path).lastPathComponent)
        }
    }

    func testAVideoWithoutSubtitlesHasNoTracks() throws {
        XCTAssertEqual(try SubtitleReader.tracks(in: TestMedia.fixture("video_only.mp4")), [])
    }
}
