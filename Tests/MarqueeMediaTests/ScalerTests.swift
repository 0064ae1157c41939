import CFFmpeg
@testable import MarqueeMedia
import XCTest

/// SwscaleBicubic must give libswscale's bytes: the shot detector's reference input is
/// `ffmpeg -s 48x27 -pix_fmt rgb24`.
final class ScalerTests: XCTestCase {
    /// Synthetic yuv420p frames (a gradient plus noise, so every filter tap matters) at the
    /// sizes of real titles and at odd ones, limited and full range, BT.601 and BT.709, to the
    /// sizes Marquee asks for.
    func testPortedScalingIsByteIdenticalToLibswscale() throws {
        try XCTSkipUnless(SwscaleBicubic.isAvailable, "built without AVX2: every frame goes through libswscale")
        // Source size → output size: the shot detector's 48x27 and the model inputs' 224 rows;
        // 96x54 keeps its 27 chroma rows (libswscale's unscaled filter, one tap).
        let sizes = [(1920, 1080, 48, 27), (1280, 720, 48, 27), (720, 576, 48, 27), (641, 359, 48, 27),
                     (160, 90, 48, 27), (100, 60, 48, 27), (96, 54, 48, 27), (1920, 1080, 398, 224), (1280, 720, 398, 224)]
        for (width, height, outWidth, outHeight) in sizes {
            for (range, space) in [(AVCOL_RANGE_MPEG, AVCOL_SPC_BT709), (AVCOL_RANGE_JPEG, AVCOL_SPC_BT470BG),
                                   (AVCOL_RANGE_UNSPECIFIED, AVCOL_SPC_UNSPECIFIED)] {
                let frame = try SyntheticFrame(width: width, height: height, range: range, space: space)
                defer { frame.free() }
                let ported = Scaler(width: outWidth, height: outHeight)
                let image = try ported.convert(frame.pointer, path: "synthetic")
                XCTAssertNotNil(ported.port, "\(width)x\(height) → \(outWidth)x\(outHeight) should take the ported path")
                let reference = try Scaler(width: outWidth, height: outHeight, allowsPort: false).convert(frame.pointer, path: "synthetic")
                let differing = zip(image.pixels, reference.pixels).filter { $0 != $1 }.count
                XCTAssertEqual(differing, 0, "bytes that differ at \(width)x\(height) → \(outWidth)x\(outHeight), "
                               + "range \(range.rawValue), space \(space.rawValue)")
            }
        }
    }

    /// Same-size conversions (another path in libswscale, the full-resolution artwork copies),
    /// mild shrinks and enlargements (where libswscale is faster), and what libswscale does
    /// another way (full chroma interpolation for an odd width, a cascade of two scalers for
    /// very long filters) go through libswscale itself.
    func testSizesOutsideThePortGoThroughLibswscale() throws {
        for (width, height, outWidth, outHeight) in [(1920, 1080, 1920, 1080), (1920, 1080, 1280, 720), (64, 36, 48, 27),
                                                     (1280, 720, 1920, 1080), (1920, 1080, 27, 48), (3840, 2160, 48, 27)] {
            let frame = try SyntheticFrame(width: width, height: height, range: AVCOL_RANGE_MPEG, space: AVCOL_SPC_BT709)
            defer { frame.free() }
            let scaler = Scaler(width: outWidth, height: outHeight)
            _ = try scaler.convert(frame.pointer, path: "synthetic")
            XCTAssertNil(scaler.port, "\(width)x\(height) → \(outWidth)x\(outHeight)")
        }
    }

    /// Real HD media (1280x720 H.264): every frame at 48x27 as the ffmpeg CLI scales it.
    func testEveryBigBuckBunnyFrameAt48x27IsByteIdenticalToFFmpeg() throws {
        let path = try TestMedia.sample("bigbuckbunny.mp4")
        let reference = try runTool(["ffmpeg", "-v", "error", "-i", path, "-s", "48x27", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"])
        let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: FrameSize(width: 48, height: 27), selection: .everyFrame)])
        var frames: [UInt8] = []
        while let frame = try decoder.next() { frames += frame.images[0]!.pixels }
        XCTAssertEqual(frames.count, 132 * 48 * 27 * 3)
        XCTAssertTrue(frames == [UInt8](reference), "48x27 frames differ from ffmpeg's")
        XCTAssertEqual(decoder.framesScaledFromBands, SwscaleBicubic.isAvailable ? 132 : 0,
                       "frames scaled across on the decoding threads")
    }

    /// trap.mp4 is coded 640x368 and shown 640x360: the bands below the picture must not count.
    func testEveryTrapFrameAt48x27FromBandsIsByteIdenticalToFFmpeg() throws {
        try XCTSkipUnless(SwscaleBicubic.isAvailable, "built without AVX2: every frame goes through libswscale")
        let (frames, reference, fromBands) = try everyFrameAt48x27(try TestMedia.fixture("trap.mp4"))
        XCTAssertEqual(frames.count, 1192 * 48 * 27 * 3)
        XCTAssertTrue(frames == reference, "48x27 frames differ from ffmpeg's")
        XCTAssertEqual(fromBands, 1192, "frames scaled across on the decoding threads")
    }

    /// A damaged slice stops drawing bands where it broke off, and error concealment fills in
    /// the rest: such frames must be scaled whole, as ffmpeg scales the concealed picture.
    func testDamagedFramesAreScaledWholeAndMatchFFmpeg() throws {
        try XCTSkipUnless(SwscaleBicubic.isAvailable, "built without AVX2: every frame goes through libswscale")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: try TestMedia.fixture("trap.mp4")))
        var state: UInt32 = 7
        for fraction in [0.3, 0.5, 0.7] {
            let start = Int(Double(bytes.count) * fraction)
            for i in start..<(start + 2000) {
                state = state &* 1_664_525 &+ 1_013_904_223
                bytes[i] = UInt8(truncatingIfNeeded: state >> 24)
            }
        }
        let damaged = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-damaged-\(UUID().uuidString).mp4")
        try bytes.write(to: damaged)
        defer { try? FileManager.default.removeItem(at: damaged) }
        let (frames, reference, fromBands) = try everyFrameAt48x27(damaged.path)
        let count = frames.count / (48 * 27 * 3)
        XCTAssertTrue(frames == reference, "48x27 frames of the damaged file differ from ffmpeg's")
        XCTAssertGreaterThan(fromBands, count / 2)
        XCTAssertLessThan(fromBands, count, "damaged frames should have been scaled whole")
    }

    /// Small frames are scaled whole after decoding: bands would cost more than they save.
    func testSmallFramesAreNotScaledInBands() throws {
        let decoder = try VideoDecoder(path: try TestMedia.sample("test.mp4"),
                                       requests: [FrameRequest(size: FrameSize(width: 48, height: 27), selection: .everyFrame)])
        for _ in 0..<100 { _ = try decoder.next() }
        XCTAssertEqual(decoder.framesScaledFromBands, 0)
    }

    /// Every frame of `path` at 48x27 from VideoDecoder and from the ffmpeg CLI (one output
    /// frame per decoded frame), and how many VideoDecoder converted from bands. ffmpeg decodes
    /// with VideoDecoder's thread count: how a damaged stream is concealed depends on it.
    private func everyFrameAt48x27(_ path: String) throws -> (frames: [UInt8], reference: [UInt8], fromBands: Int) {
        let threads = String(ProcessInfo.processInfo.activeProcessorCount)
        let reference = try runTool(["ffmpeg", "-v", "quiet", "-threads", threads, "-i", path, "-s", "48x27", "-pix_fmt", "rgb24",
                                     "-fps_mode", "passthrough", "-f", "rawvideo", "-"])
        let decoder = try VideoDecoder(path: path, requests: [FrameRequest(size: FrameSize(width: 48, height: 27), selection: .everyFrame)])
        var frames: [UInt8] = []
        while let frame = try decoder.next() { frames += frame.images[0]!.pixels }
        return (frames, [UInt8](reference), decoder.framesScaledFromBands)
    }
}

/// A yuv420p AVFrame filled with a gradient plus pseudo-random noise.
private struct SyntheticFrame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init(width: Int, height: Int, range: AVColorRange, space: AVColorSpace) throws {
        guard let frame = av_frame_alloc() else { throw XCTSkip("out of memory") }
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        frame.pointee.color_range = range
        frame.pointee.colorspace = space
        XCTAssertGreaterThanOrEqual(av_frame_get_buffer(frame, 0), 0)
        var state = UInt64(width * 7919 + height)
        let planes = withUnsafePointer(to: frame.pointee.data) {
            $0.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 3) { [$0[0]!, $0[1]!, $0[2]!] }
        }
        let strides = withUnsafePointer(to: frame.pointee.linesize) {
            $0.withMemoryRebound(to: Int32.self, capacity: 3) { [Int($0[0]), Int($0[1]), Int($0[2])] }
        }
        for plane in 0..<3 {
            let (planeWidth, planeHeight) = plane == 0 ? (width, height) : ((width + 1) / 2, (height + 1) / 2)
            for y in 0..<planeHeight {
                for x in 0..<planeWidth {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    planes[plane][y * strides[plane] + x] = UInt8(truncatingIfNeeded: (x * 3 + y * 5) / 4 + plane * 40)
                        &+ UInt8(truncatingIfNeeded: state >> 58)
                }
            }
        }
        pointer = frame
    }

    func free() {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }
}
