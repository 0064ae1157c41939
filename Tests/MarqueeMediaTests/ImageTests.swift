import Foundation
import MarqueeMedia
import XCTest

final class ImageTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-image-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testPNGRoundTripIsLossless() throws {
        let photo = try PNGFile.read(path: TestMedia.sample("astronaut.png"))
        XCTAssertEqual(photo.width, 512)
        let path = scratch.appendingPathComponent("copy.png").path
        try PNGFile.write(photo, to: path)
        XCTAssertEqual(try PNGFile.read(path: path), photo)
    }

    func testRGBAPNGRoundTripKeepsAlpha() throws {
        let pixels = (0..<(17 * 5 * 4)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let path = scratch.appendingPathComponent("alpha.png").path
        try PNGFile.writeRGBA(pixels: pixels, width: 17, height: 5, to: path)
        let read = try PNGFile.readRGBA(path: path)
        XCTAssertEqual(read.width, 17)
        XCTAssertEqual(read.pixels, pixels)
    }

    func testStillImageThroughFFmpegEqualsLibpngForPNG() throws {
        let path = try TestMedia.sample("chelsea.png")
        XCTAssertEqual(try StillImage.read(path: path), try PNGFile.read(path: path))
    }

    func testJPEGDecodesThroughFFmpeg() throws {
        let image = try StillImage.read(path: TestMedia.sample("rocket.jpg"))
        XCTAssertEqual(image.width, 640)
        XCTAssertEqual(image.height, 427)
    }

    func testCorruptPNGIsAnErrorNamingTheFile() throws {
        let path = scratch.appendingPathComponent("broken.png").path
        let good = try Data(contentsOf: URL(fileURLWithPath: TestMedia.sample("coffee.png")))
        try good.prefix(good.count / 3).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PNGFile.read(path: path)) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(path + ": "), "\(error)")
        }
    }

    func testRotationByQuarterTurns() {
        // 2x1: red, green.
        let image = RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 255, 0])
        let turned = image.rotated(clockwiseDegrees: 90)
        XCTAssertEqual(turned.width, 1)
        XCTAssertEqual(turned.pixels, [255, 0, 0, 0, 255, 0])  // red on top
        XCTAssertEqual(image.rotated(clockwiseDegrees: 270).pixels, [0, 255, 0, 255, 0, 0])
        XCTAssertEqual(image.rotated(clockwiseDegrees: 180).pixels, [0, 255, 0, 255, 0, 0])
        XCTAssertEqual(image.rotated(clockwiseDegrees: 360), image)
    }
}
