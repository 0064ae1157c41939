import Foundation
@testable import MarqueeAnalysis
import MarqueeMedia
import XCTest

final class FrameQualityTests: XCTestCase {

    private func image(width: Int, height: Int, _ color: (Int, Int) -> (UInt8, UInt8, UInt8)) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let (r, g, b) = color(x, y)
                pixels[(y * width + x) * 3] = r
                pixels[(y * width + x) * 3 + 1] = g
                pixels[(y * width + x) * 3 + 2] = b
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private func astronaut() throws -> RGBImage {
        try PNGFile.read(path: TestFiles.root.appendingPathComponent("Media/samples/astronaut.png").path)
    }

    func testUniformGrayFrameHasNoSharpnessContrastOrColourAndIsFlaggedUniform() {
        let q = FrameQuality.measure(image(width: 67, height: 45) { _, _ in (128, 128, 128) })
        XCTAssertEqual(q.meanLuma, 128 / 255, accuracy: 1e-5)
        XCTAssertEqual(q.sharpness, 0, accuracy: 1e-3)
        XCTAssertEqual(q.contrast, 0, accuracy: 1e-4)
        XCTAssertEqual(q.colourfulness, 0, accuracy: 1e-3)
        XCTAssertEqual(q.shadowShare, 0)
        XCTAssertEqual(q.highlightShare, 0)
        XCTAssertTrue(q.isNearUniform)
        XCTAssertFalse(q.isBlack)
        XCTAssertFalse(q.isCaptionCard, "a plain frame has no text")
    }

    func testBlackFrameIsBlackWithEveryShadowClipped() {
        let q = FrameQuality.measure(image(width: 64, height: 36) { _, _ in (0, 0, 0) })
        XCTAssertTrue(q.isBlack)
        XCTAssertEqual(q.meanLuma, 0)
        XCTAssertEqual(q.shadowShare, 1)
        XCTAssertEqual(q.blackShare, 1)
    }

    func testAFrameWithA3PercentBrightPatchIsNotBlack() {
        // blackdetect's picture threshold: 98% of the pixels must be dark.
        let q = FrameQuality.measure(image(width: 100, height: 100) { x, y in x < 10 && y < 30 ? (200, 200, 200) : (0, 0, 0) })
        XCTAssertEqual(q.blackShare, 0.97, accuracy: 1e-6)
        XCTAssertFalse(q.isBlack)
    }

    func testOnePixelCheckerboardHasTheLaplacianVarianceOfAlternatingPlusMinusFourTimes255() {
        // Every interior Laplacian is 4·255 − 0 or 0 − 4·255: mean 0, variance (4·255)².
        let q = FrameQuality.measure(image(width: 64, height: 48) { x, y in (x + y) % 2 == 0 ? (255, 255, 255) : (0, 0, 0) })
        XCTAssertEqual(q.workingWidth, 64)
        XCTAssertEqual(q.workingHeight, 48, "frames up to 180 rows are measured at their own size")
        XCTAssertEqual(q.sharpness, 1_040_400, accuracy: 1_040_400 * 1e-4)
        XCTAssertEqual(q.contrast, 0.5, accuracy: 1e-4)
        XCTAssertEqual(q.meanLuma, 0.5, accuracy: 1e-4)
        XCTAssertEqual(q.highlightShare, 0.5)
        XCTAssertEqual(q.shadowShare, 0.5)
        XCTAssertEqual(q.colourfulness, 0, accuracy: 1e-3)
        XCTAssertFalse(q.isNearUniform)
    }

    func testTallFramesAreAreaAveragedTo180RowsBeforeTheLaplacian() {
        // Stripes two rows tall at 360 rows are stripes one row tall at 180: interior
        // Laplacians are ±2·255 (left and right neighbours equal the centre).
        let q = FrameQuality.measure(image(width: 320, height: 360) { _, y in (y / 2) % 2 == 0 ? (255, 255, 255) : (0, 0, 0) })
        XCTAssertEqual(q.workingWidth, 160)
        XCTAssertEqual(q.workingHeight, 180)
        XCTAssertEqual(q.sharpness, 260_100, accuracy: 260_100 * 1e-4)
    }

    func testSharpnessOfARealPhotoDoesNotDependOnItsResolution() throws {
        let photo = try astronaut()
        var doubled = RGBImage(width: photo.width * 2, height: photo.height * 2)
        for y in 0..<doubled.height {
            for x in 0..<doubled.width {
                for c in 0..<3 { doubled.pixels[(y * doubled.width + x) * 3 + c] = photo.pixels[((y / 2) * photo.width + x / 2) * 3 + c] }
            }
        }
        let original = FrameQuality.measure(photo), large = FrameQuality.measure(doubled)
        XCTAssertGreaterThan(original.sharpness, 50)
        XCTAssertEqual(large.sharpness, original.sharpness, accuracy: original.sharpness * 1e-3)
        XCTAssertEqual(large.contrast, original.contrast, accuracy: 1e-5)
        XCTAssertEqual(large.colourfulness, original.colourfulness, accuracy: 1e-2)
    }

    func testBlurringARealPhotoCutsItsSharpnessBelowAFifth() throws {
        let photo = try astronaut()
        let blurred = boxBlurred(boxBlurred(photo, radius: 6), radius: 6)
        let sharp = FrameQuality.measure(photo).sharpness, soft = FrameQuality.measure(blurred).sharpness
        XCTAssertLessThan(soft, 0.2 * sharp, "sharp \(sharp), blurred \(soft)")
        XCTAssertGreaterThan(soft, 0)
    }

    func testColourfulnessOfGrayIsZeroAndOfSaturatedColoursFollowsHaslerSusstrunk() {
        let gray = FrameQuality.measure(image(width: 16, height: 16) { x, _ in (UInt8(x * 16), UInt8(x * 16), UInt8(x * 16)) })
        XCTAssertEqual(gray.colourfulness, 0, accuracy: 1e-3)
        // Pure red: rg = 255, yb = 127.5 everywhere, no spread.
        let red = FrameQuality.measure(image(width: 16, height: 16) { _, _ in (255, 0, 0) })
        XCTAssertEqual(red.colourfulness, 0.3 * (255 * 255 + 127.5 * 127.5).squareRoot(), accuracy: 1e-2)
        // Half red, half blue: rg is 255 or 0 (mean 127.5, σ 127.5); yb is 127.5 or −255
        // (mean −63.75, σ 191.25).
        let split = FrameQuality.measure(image(width: 16, height: 16) { x, _ in x < 8 ? (255, 0, 0) : (0, 0, 255) })
        let expected = (127.5 * 127.5 + 191.25 * 191.25).squareRoot() + 0.3 * (127.5 * 127.5 + 63.75 * 63.75).squareRoot()
        XCTAssertEqual(split.colourfulness, Float(expected), accuracy: 1e-2)
        XCTAssertGreaterThan(split.colourfulness, red.colourfulness)
    }

    func testTheTrapVideosCaptionCardIsACaptionCardAndItsFootageIsNot() throws {
        let path = TestFiles.root.appendingPathComponent("Media/fixtures/trap.mp4").path
        // Times (s): caption card 18.0; footage: test.mp4 with pillarbox bars 2.0, Big Buck
        // Bunny 9.0, letterboxed bikes 14.5, test.mp4 before the dissolve 20.5.
        let decoder = try VideoDecoder(path: path, requests: [
            FrameRequest(size: FrameSize(width: 640, height: 360), selection: .every(seconds: 0.5)),
        ])
        var flags: [Double: Bool] = [:]
        while let frame = try decoder.next() {
            let time = (frame.time * 10).rounded() / 10
            guard let image = frame.images[0], [2.0, 9.0, 14.5, 18.0, 20.5].contains(time) else { continue }
            flags[time] = FrameQuality.measure(image).isCaptionCard
        }
        XCTAssertEqual(flags, [2.0: false, 9.0: false, 14.5: false, 18.0: true, 20.5: false])
    }

    /// A box blur of the given radius, clamped at the borders.
    private func boxBlurred(_ image: RGBImage, radius: Int) -> RGBImage {
        var out = image
        let w = image.width, h = image.height
        var horizontal = image
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    var sum = 0
                    for dx in -radius...radius { sum += Int(image.pixels[(y * w + min(max(x + dx, 0), w - 1)) * 3 + c]) }
                    horizontal.pixels[(y * w + x) * 3 + c] = UInt8(sum / (2 * radius + 1))
                }
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    var sum = 0
                    for dy in -radius...radius { sum += Int(horizontal.pixels[(min(max(y + dy, 0), h - 1) * w + x) * 3 + c]) }
                    out.pixels[(y * w + x) * 3 + c] = UInt8(sum / (2 * radius + 1))
                }
            }
        }
        return out
    }
}
