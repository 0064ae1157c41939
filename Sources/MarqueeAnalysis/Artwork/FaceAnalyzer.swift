// Faces and their expressions for artwork: MTCNN finds the faces and their landmarks, the
// expression CNN classifies each one.

import MarqueeMedia
import MarqueeModels
import MarqueeNN

public final class FaceAnalyzer: FaceAnalyzing {
    /// Frames whose longer side is larger are searched at this size (antialiased resize), and
    /// the boxes and landmarks scaled back: MTCNN's cost grows with the pixel count, and a face
    /// that matters as artwork is far above MTCNN's 20-pixel minimum at 640 pixels.
    public static let defaultSearchSide = 640

    private let detector: MTCNN
    private let expressions: EmotionCNN
    private let searchSide: Int

    public init(detector: MTCNN, expressions: EmotionCNN, searchSide: Int = FaceAnalyzer.defaultSearchSide) {
        self.detector = detector
        self.expressions = expressions
        self.searchSide = max(searchSide, 1)
    }

    public convenience init(models: ModelStore, pool: ThreadPool = .shared) throws {
        self.init(detector: try models.mtcnn(pool: pool), expressions: try models.emotionCNN(pool: pool))
    }

    public func faces(in image: RGBImage) -> [FaceObservation] {
        guard image.width > 0, image.height > 0 else { return [] }
        var searched = image
        let longSide = max(image.width, image.height)
        if longSide > searchSide {
            let factor = Double(searchSide) / Double(longSide)
            let width = max(1, Int((Double(image.width) * factor).rounded()))
            let height = max(1, Int((Double(image.height) * factor).rounded()))
            let resized = ImageResize.resizeBilinearAntialiased(
                InterleavedImage(width: image.width, height: image.height, channels: 3, pixels: image.pixels),
                width: width, height: height)
            searched = RGBImage(width: width, height: height, pixels: resized.pixels)
        }
        let detected = detector.detect(searched)
        guard !detected.isEmpty else { return [] }
        let probabilities = expressions.classify(searched, faces: detected)
        let scale = SIMD2(Float(image.width) / Float(searched.width), Float(image.height) / Float(searched.height))
        return detected.enumerated().map { i, face in
            let p = i < probabilities.count ? probabilities[i] : []
            let expression = p.count == expressions.labels.count
                ? Dictionary(uniqueKeysWithValues: zip(expressions.labels, p)) : [:]
            return FaceObservation(box: face.box * SIMD4(scale.x, scale.y, scale.x, scale.y), score: face.score,
                                   landmarks: face.landmarks.map { $0 * scale }, expression: expression)
        }
    }
}
