import Foundation
import XCTest
@testable import MarqueeNN

final class ImageResizeTests: XCTestCase {
    func synthetic(width: Int, height: Int) -> InterleavedImage {
        var p: [UInt8] = []
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            p.append(UInt8((x * x * 31 + y * 17 + c * 101 + x * y * 7) % 256))
        } } }
        return InterleavedImage(width: width, height: height, pixels: p)
    }

    func testAntialiasedBilinearMatchesPillowExactly() {
        let source = synthetic(width: 97, height: 61)
        for (w, h, b64) in PillowResizeGolden.cases {
            let expected = [UInt8](Data(base64Encoded: b64)!)
            let out = ImageResize.resizeBilinearAntialiased(source, width: w, height: h)
            XCTAssertEqual(out.width, w); XCTAssertEqual(out.height, h)
            let mismatch = zip(out.pixels, expected).enumerated().first { $0.element.0 != $0.element.1 }
            XCTAssertNil(mismatch, "\(w)x\(h): byte \(mismatch?.offset ?? -1) is \(mismatch?.element.0 ?? 0), Pillow gives \(mismatch?.element.1 ?? 0)")
        }
    }

    func testShortSideSizeFollowsTorchvisionResize() {
        XCTAssertTrue(ImageResize.sizeForShortSide(width: 640, height: 272, shortSide: 256) == (602, 256))
        XCTAssertTrue(ImageResize.sizeForShortSide(width: 272, height: 640, shortSide: 256) == (256, 602))
        XCTAssertTrue(ImageResize.sizeForShortSide(width: 500, height: 500, shortSide: 256) == (256, 256))
    }

    func testEmptyImageResizesToAnEmptyImageWithoutTrapping() {
        let empty = InterleavedImage(width: 0, height: 0, pixels: [])
        let out = ImageResize.resizeShortSide(empty, to: 256)
        XCTAssertEqual([out.width, out.height, out.pixels.count], [0, 0, 0])
    }

    func testCenterCropRoundsHalfToEvenLikeTorchvision() {
        // 5 - 2 = 3 -> offset round(1.5) = 2; 6 - 2 = 4 -> 2; 4 - 1 = 3 -> round(1.5) = 2.
        let img = InterleavedImage(width: 5, height: 4, channels: 1, pixels: (0..<20).map { UInt8($0) })
        let crop = ImageResize.centerCrop(img, width: 2, height: 1)
        XCTAssertEqual(crop.pixels, [12, 13])
        let bigger = ImageResize.centerCrop(img, width: 7, height: 4)
        XCTAssertEqual(Array(bigger.pixels[0..<7]), [0, 0, 1, 2, 3, 4, 0])
    }

    func testNormalizeWritesMeanStdScaledNHWC() {
        let img = InterleavedImage(width: 1, height: 1, pixels: [0, 255, 51])
        let out = Tensor(shape: [1, 1, 1, 3])
        ImageResize.normalize(img, into: out, mean: [0.5, 0.5, 0.2], std: [0.5, 0.25, 1])
        assertClose(out.toArray(), [-1, 2, 0], "normalize")
    }
}
