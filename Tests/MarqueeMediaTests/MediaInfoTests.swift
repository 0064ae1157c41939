import MarqueeMedia
import XCTest

final class MediaInfoTests: XCTestCase {
    func testBigBuckBunnyIs720pH264WithSixChannelAAC() throws {
        let info = try MediaInfo(path: TestMedia.sample("bigbuckbunny.mp4"))
        let video = try XCTUnwrap(info.videoStreams.first)
        XCTAssertEqual(video.codec, "h264")
        XCTAssertEqual(video.width, 1280)
        XCTAssertEqual(video.height, 720)
        XCTAssertEqual(try XCTUnwrap(video.frameRate), 25, accuracy: 1e-9)
        let audio = try XCTUnwrap(info.audioStreams.first)
        XCTAssertEqual(audio.codec, "aac")
        XCTAssertEqual(audio.channels, 6)
        XCTAssertEqual(audio.sampleRate, 48000)
        XCTAssertEqual(try XCTUnwrap(info.duration), 5.3, accuracy: 0.05)
    }

    func testTransNetSampleIs160x90With5301Frames() throws {
        let info = try MediaInfo(path: TestMedia.sample("test.mp4"))
        let video = try XCTUnwrap(info.videoStreams.first)
        XCTAssertEqual(video.width, 160)
        XCTAssertEqual(video.height, 90)
        XCTAssertEqual(video.frameCount, 5301)
    }

    func testContainerMetadataAndStreamLanguageAreReported() throws {
        let path = try TestMedia.fixture("metadata.mp4")
        let truth = try XCTUnwrap(try TestMedia.truth("metadata.mp4")["tags"] as? [String: String])
        let info = try MediaInfo(path: path)
        for (key, value) in truth {
            XCTAssertEqual(info.tags[key], value, "container tag \(key)")
        }
        XCTAssertEqual(info.audioStreams.first?.language, "fre")
        XCTAssertEqual(info.audioStreams.first?.channels, 2)
    }

    func testRotationComesFromTheDisplayMatrix() throws {
        let truth = try TestMedia.truth("rotated.mp4")
        let info = try MediaInfo(path: TestMedia.fixture("rotated.mp4"))
        let video = try XCTUnwrap(info.videoStreams.first)
        XCTAssertEqual(video.rotation, (truth["rotation"] as? NSNumber)?.doubleValue)
        XCTAssertEqual(video.width, 320)
        XCTAssertEqual(video.height, 180)
    }

    func testSubtitleStreamsAreTextWithLanguage() throws {
        let info = try MediaInfo(path: TestMedia.fixture("subs_srt.mkv"))
        let subtitle = try XCTUnwrap(info.subtitleStreams.first)
        XCTAssertEqual(subtitle.codec, "subrip")
        XCTAssertEqual(subtitle.subtitleFormat, "text")
        XCTAssertEqual(subtitle.language, "eng")
    }

    func testHighBitDepthAndFullChromaPixelFormatsAreNamed() throws {
        XCTAssertEqual(try MediaInfo(path: TestMedia.fixture("tenbit.mkv")).videoStreams.first?.pixelFormat, "yuv420p10le")
        XCTAssertEqual(try MediaInfo(path: TestMedia.fixture("yuv444.mp4")).videoStreams.first?.pixelFormat, "yuv444p")
    }
}

final class LocalFilesOnlyTests: XCTestCase {
    private func write(_ text: String, named name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-\(UUID().uuidString)-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// Playlists and concat lists would make FFmpeg open the files (or URLs) they name.
    func testPlaylistsAndConcatListsAreRefusedByName() throws {
        let video = try TestMedia.sample("bigbuckbunny.mp4")
        let playlist = try write("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:5.0,\n\(video)\n#EXT-X-ENDLIST\n", named: "list.m3u8")
        let concat = try write("ffconcat version 1.0\nfile \(video)\n", named: "list.ffconcat")
        for (path, format) in [(playlist, "hls"), (concat, "concat")] {
            XCTAssertThrowsError(try MediaInfo(path: path)) { error in
                XCTAssertEqual(error as? MediaError, MediaError(path: path, reason: .refusedFormat(format)))
            }
        }
    }

    func testNetworkURLsAreNotOpened() {
        XCTAssertThrowsError(try MediaInfo(path: "http://127.0.0.1:9/title.mp4")) { error in
            XCTAssertEqual(error as? MediaError, MediaError(path: "http://127.0.0.1:9/title.mp4", reason: .notFound))
        }
    }
}
