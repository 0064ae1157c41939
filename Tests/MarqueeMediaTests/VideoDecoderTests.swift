import MarqueeMedia
import XCTest

final class VideoDecoderTests: XCTestCase {
    private let tiny = FrameSize(width: 48, height: 27)

    /// The shot detector's input: every frame at 48x27, as `ffmpeg -s 48x27 -pix_fmt rgb24` makes it.
    func testEveryFrameAt48x27IsByteIdenticalToFFmpegAndCountsMatchFFprobe() throws {
        let path = try TestMedia.sample("test.mp4")
        let reference = try runTool(["ffmpeg", "-v", "error", "-i", path, "-s", "48x27", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"])
        let counted = try runTool(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                                   "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path])
        let expectedFrames = Int(String(decoding: counted, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        let frameBytes = 48 * 27 * 3
        XCTAssertEqual(reference.count, (expectedFrames ?? -1) * frameBytes)

        let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: tiny, selection: .everyFrame)])
        var count = 0
        var lastTime = -Double.infinity
        var firstMismatch: Int?
        reference.withUnsafeBytes { ref in
            while let frame = try? decoder.next() {
                XCTAssertEqual(frame.index, count)
                XCTAssertGreaterThan(frame.time, lastTime, "times must increase at frame \(count)")
                lastTime = frame.time
                let image = frame.images[0]!
                let offset = count * frameBytes
                if firstMismatch == nil, offset + frameBytes <= ref.count,
                   !image.pixels.elementsEqual(ref[offset..<(offset + frameBytes)]) {
                    firstMismatch = count
                }
                count += 1
            }
        }
        XCTAssertEqual(count, expectedFrames)
        XCTAssertEqual(count, 5301)
        XCTAssertNil(firstMismatch, "first frame that differs from ffmpeg")
        XCTAssertNil(decoder.damage)
    }

    func testOneDecodeServesTwoSizesWithDifferentSelections() throws {
        let path = try TestMedia.sample("bigbuckbunny.mp4")
        let decoder = try VideoDecoder(path: path, requests: [
            FrameRequest(size: tiny, selection: .everyFrame),
            FrameRequest(size: FrameSize(width: 224, height: 126), selection: .every(seconds: 1)),
        ])
        var small = 0
        var largeTimes: [Double] = []
        while let frame = try decoder.next() {
            XCTAssertEqual(frame.images[0]?.width, 48)
            small += 1
            if let large = frame.images[1] {
                XCTAssertEqual(large.width, 224)
                XCTAssertEqual(large.height, 126)
                largeTimes.append(frame.time)
            }
        }
        XCTAssertEqual(small, decoder.framesDecoded)
        XCTAssertEqual(largeTimes.count, 6)  // 0 … 5 s of a 5.3 s title
        for (second, time) in largeTimes.enumerated() {
            XCTAssertEqual(time, Double(second), accuracy: 0.04 + 1e-9)
        }
    }

    /// Frames picked by time after a seek equal `ffmpeg -ss T -i FILE -frames:v 1`.
    func testFramesAtGivenTimesAreFrameAccurateAfterSeeking() throws {
        let path = try TestMedia.sample("test.mp4")
        let times = [3.0, 57.3, 120.0, 200.04]
        let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: tiny, selection: .at(times: times))])
        var frames: [VideoFrame] = []
        while let frame = try decoder.next() { frames.append(frame) }
        XCTAssertEqual(frames.count, times.count)
        XCTAssertLessThan(decoder.framesDecoded, 5301 / 2, "seeking must skip most of the title")
        for (time, frame) in zip(times, frames) {
            let reference = try runTool(["ffmpeg", "-v", "error", "-ss", String(time), "-i", path, "-frames:v", "1",
                                         "-s", "48x27", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"])
            XCTAssertEqual(frame.images[0]?.pixels, [UInt8](reference), "frame at \(time) s")
            XCTAssertGreaterThanOrEqual(frame.time + 0.0005, time)
        }
    }

    /// test.mp4's keyframes at 17.4 s and 22.92 s: a frame at 21 s is reached by seeking to
    /// the keyframe 3.6 s before it and decoding forward, not by seeking again and again.
    func testATimeFarAfterItsKeyframeIsReachedByDecodingForward() throws {
        let path = try TestMedia.sample("test.mp4")
        let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: tiny, selection: .at(times: [21.0]))])
        let frame = try XCTUnwrap(try decoder.next())
        XCTAssertEqual(frame.time, 21.0, accuracy: 0.04 + 1e-9)
        XCTAssertNil(try decoder.next())
        XCTAssertLessThan(decoder.framesDecoded, 100, "one seek, then about 90 frames forward")
    }

    func testRotatedStreamIsDeliveredInDisplayOrientation() throws {
        let decoder = try VideoDecoder(path: TestMedia.fixture("rotated.mp4"),
                                       requests: [FrameRequest(size: FrameSize(width: 90, height: 160), selection: .everyFrame)])
        let frame = try XCTUnwrap(try decoder.next())
        XCTAssertEqual(frame.images[0]?.width, 90)
        XCTAssertEqual(frame.images[0]?.height, 160)
    }

    func testTenBitAndFullChromaStreamsDecodeToRGB() throws {
        for name in ["tenbit.mkv", "yuv444.mp4"] {
            let truth = try TestMedia.truth(name)
            let decoder = try VideoDecoder(path: TestMedia.fixture(name),
                                           requests: [FrameRequest(size: tiny, selection: .everyFrame)])
            var count = 0
            while try decoder.next() != nil { count += 1 }
            XCTAssertEqual(count, (truth["frames"] as? NSNumber)?.intValue, name)
        }
    }

    func testVariableFrameRateKeepsEachFramesOwnTime() throws {
        let truth = try TestMedia.truth("vfr.mkv")
        let expected = try XCTUnwrap(truth["pts"] as? [Double])
        let decoder = try VideoDecoder(path: TestMedia.fixture("vfr.mkv"),
                                       requests: [FrameRequest(size: tiny, selection: .everyFrame)])
        var times: [Double] = []
        while let frame = try decoder.next() { times.append(frame.time) }
        XCTAssertEqual(times.count, expected.count)
        for (got, want) in zip(times, expected) { XCTAssertEqual(got, want - expected[0], accuracy: 0.0011) }
    }

    func testTruncatedFileDeliversWhatItCanAndSaysSo() throws {
        let truth = try TestMedia.truth("truncated_faststart.mp4")
        let decoder = try VideoDecoder(path: TestMedia.fixture("truncated_faststart.mp4"),
                                       requests: [FrameRequest(size: tiny, selection: .everyFrame)])
        var count = 0
        while try decoder.next() != nil { count += 1 }
        XCTAssertEqual(count, (truth["decodable_frames"] as? NSNumber)?.intValue)
        let damage = try XCTUnwrap(decoder.damage)
        XCTAssertTrue(damage.description.contains("truncated_faststart.mp4"))
    }

    func testAudioOnlyFileHasNoVideoStream() throws {
        let path = try TestMedia.fixture("audio_only.m4a")
        XCTAssertThrowsError(try VideoDecoder(path: path, requests: [FrameRequest(size: tiny, selection: .everyFrame)])) { error in
            XCTAssertEqual(error as? MediaError, MediaError(path: path, reason: .noStream(.video)))
        }
    }
}
