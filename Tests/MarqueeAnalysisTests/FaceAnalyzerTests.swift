import Foundation
import MarqueeAnalysis
import MarqueeMedia
import MarqueeModels
import XCTest

/// MTCNN and the expression CNN behind FaceAnalyzing, on the astronaut photo (one face).
final class FaceAnalyzerTests: XCTestCase {

    private func analyzer() throws -> FaceAnalyzer {
        try FaceAnalyzer(models: ModelStore(folder: TestFiles.root.appendingPathComponent("Models/converted").path))
    }

    private func astronaut() throws -> RGBImage {
        try PNGFile.read(path: TestFiles.root.appendingPathComponent("Media/samples/astronaut.png").path)
    }

    func testTheAstronautHasOneFaceWithFiveLandmarksAndSevenExpressionProbabilities() throws {
        let faces = try analyzer().faces(in: try astronaut())
        XCTAssertEqual(faces.count, 1)
        let face = try XCTUnwrap(faces.first)
        XCTAssertGreaterThan(face.score, 0.99)
        XCTAssertEqual(face.landmarks.count, 5)
        XCTAssertEqual(Set(face.expression.keys), ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"])
        XCTAssertEqual(face.expression.values.reduce(0, +), 1, accuracy: 1e-4)
    }

    func testAFrameLargerThanTheSearchSizeGetsBoxesInItsOwnPixels() throws {
        let photo = try astronaut()
        var doubled = RGBImage(width: photo.width * 2, height: photo.height * 2)
        for y in 0..<doubled.height {
            for x in 0..<doubled.width {
                for c in 0..<3 { doubled.pixels[(y * doubled.width + x) * 3 + c] = photo.pixels[((y / 2) * photo.width + x / 2) * 3 + c] }
            }
        }
        let analyzer = try analyzer()
        let small = try XCTUnwrap(analyzer.faces(in: photo).first), large = try XCTUnwrap(analyzer.faces(in: doubled).first)
        // 1024 pixels are searched at 640: the box comes back scaled by 1024 / 640 onto the
        // doubled frame, where the face is twice as large as in the original.
        for i in 0..<4 { XCTAssertEqual(large.box[i], 2 * small.box[i], accuracy: 0.05 * (small.box[2] - small.box[0]) * 2) }
        XCTAssertEqual(large.landmarks[2].x, 2 * small.landmarks[2].x, accuracy: 4)
    }
}
