// What the faces in a frame are worth as artwork: published findings on streaming artwork
// agree that a face helps, a large, frontal, well-placed face helps more, fewer people beat
// crowds, and strong expressions beat neutral ones.
//
// Face detection and expression recognition come in through `FaceAnalyzing`, so that the
// assessment depends only on observations (boxes, landmarks, expression probabilities).

import Foundation
import MarqueeMedia

/// One detected face with its facial-expression probabilities.
public struct FaceObservation: Sendable, Equatable, Codable {
    /// x1, y1, x2, y2 in pixels of the image the face was found in.
    public var box: SIMD4<Float>
    /// Detector confidence, 0...1.
    public var score: Float
    /// Left eye, right eye, nose, left mouth corner, right mouth corner (pixels); may be empty.
    public var landmarks: [SIMD2<Float>]
    /// Expression label → probability (angry, disgust, fear, happy, sad, surprise, neutral);
    /// empty when no expression model ran.
    public var expression: [String: Float]

    public init(box: SIMD4<Float>, score: Float, landmarks: [SIMD2<Float>], expression: [String: Float] = [:]) {
        self.box = box
        self.score = score
        self.landmarks = landmarks
        self.expression = expression
    }

    public var width: Float { box[2] - box[0] }
    public var height: Float { box[3] - box[1] }
    public var center: SIMD2<Float> { SIMD2((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) }
}

/// Finds faces and their expressions in an image.
public protocol FaceAnalyzing: AnyObject {
    func faces(in image: RGBImage) -> [FaceObservation]
}

/// The face part of an artwork score, every component in 0...1.
public struct FaceAssessment: Sendable, Equatable, Codable {
    /// Faces that count: detector score ≥ 0.9 and at least 4% of the frame height tall.
    public var count: Int
    /// 1 for one face, 0.85 for two, 0.7 for three, then 0.1 less per face down to 0.3; 0 without faces.
    public var countScore: Float
    /// Height of the largest face as a share of the frame height.
    public var largestFaceShare: Float
    /// min(1, share / 0.25), falling to 0 as an extreme close-up goes from 70% to 100% of the height.
    public var sizeScore: Float
    /// How squarely the largest face looks at the camera, from its landmarks (see `frontality`).
    public var frontality: Float
    /// How well the largest face sits in the frame (see `placement`).
    public var placement: Float
    /// 1 − p(neutral) of the largest face; 0 when its expression is unknown.
    public var expressionIntensity: Float
    /// The most probable expression of the largest face.
    public var expression: String?
    /// 0.3 size + 0.25 frontality + 0.2 placement + 0.25 count; 0 without faces.
    public var score: Float

    public static let minimumScore: Float = 0.9
    public static let minimumHeightShare: Float = 0.04

    public static let none = FaceAssessment(count: 0, countScore: 0, largestFaceShare: 0, sizeScore: 0, frontality: 0,
                                            placement: 0, expressionIntensity: 0, expression: nil, score: 0)

    public init(count: Int, countScore: Float, largestFaceShare: Float, sizeScore: Float, frontality: Float,
                placement: Float, expressionIntensity: Float, expression: String?, score: Float) {
        self.count = count
        self.countScore = countScore
        self.largestFaceShare = largestFaceShare
        self.sizeScore = sizeScore
        self.frontality = frontality
        self.placement = placement
        self.expressionIntensity = expressionIntensity
        self.expression = expression
        self.score = score
    }

    /// Assesses the faces found in a `width` x `height` frame.
    public static func assess(_ faces: [FaceObservation], width: Int, height: Int) -> FaceAssessment {
        let frameHeight = Float(max(height, 1))
        let counted = faces.filter { $0.score >= minimumScore && $0.height / frameHeight >= minimumHeightShare }
        guard let largest = counted.max(by: { $0.width * $0.height < $1.width * $1.height }) else { return .none }
        let share = largest.height / frameHeight
        let size = min(1, share / 0.25) * (share > 0.7 ? max(0, 1 - (share - 0.7) / 0.3) : 1)
        let counts = countScore(counted.count)
        let front = frontality(largest)
        let place = placement(largest, width: width, height: height)
        let neutral = largest.expression["neutral"]
        let intensity = largest.expression.isEmpty ? 0 : max(0, min(1, 1 - (neutral ?? 0)))
        let dominant = largest.expression.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key
        let score = 0.3 * size + 0.25 * front + 0.2 * place + 0.25 * counts
        return FaceAssessment(count: counted.count, countScore: counts, largestFaceShare: share, sizeScore: size,
                              frontality: front, placement: place, expressionIntensity: intensity, expression: dominant,
                              score: score)
    }

    static func countScore(_ count: Int) -> Float {
        switch count {
        case 0: return 0
        case 1: return 1
        case 2: return 0.85
        case 3: return 0.7
        default: return max(0.3, 0.7 - 0.1 * Float(count - 3))
        }
    }

    /// From the eyes and nose: the nose's offset from the eyes' midpoint along the eye line, in
    /// half interocular distances, is 0 for a frontal face and about 1 or more for a profile
    /// (yaw); the eye line's angle to the horizontal is the roll. frontality =
    /// (1 − min(1, yaw offset)) × (1 − 0.5 min(1, |roll| / 45°)). 0.5 without landmarks.
    public static func frontality(_ face: FaceObservation) -> Float {
        guard face.landmarks.count >= 3 else { return 0.5 }
        let leftEye = face.landmarks[0], rightEye = face.landmarks[1], nose = face.landmarks[2]
        let eyeLine = rightEye - leftEye
        let distance = (eyeLine * eyeLine).sum().squareRoot()
        guard distance > 0 else { return 0 }
        let axis = eyeLine / distance
        let offset = ((nose - (leftEye + rightEye) / 2) * axis).sum()
        let yaw = min(1, abs(offset) / (distance / 2))
        let roll = abs(atan2(eyeLine.y, abs(eyeLine.x)))
        return (1 - yaw) * (1 - 0.5 * min(1, roll / (.pi / 4)))
    }

    /// The share of the face box inside the frame, times closeness of the face's centre to the
    /// nearest of three points on the line 40% down the frame at 1/3, 1/2 and 2/3 of its width
    /// (the eye line of classic portrait framing): 1 on a point, 0 half a frame away.
    public static func placement(_ face: FaceObservation, width: Int, height: Int) -> Float {
        let w = Float(max(width, 1)), h = Float(max(height, 1))
        let area = face.width * face.height
        guard area > 0 else { return 0 }
        let insideWidth = max(0, min(face.box[2], w) - max(face.box[0], 0))
        let insideHeight = max(0, min(face.box[3], h) - max(face.box[1], 0))
        let inside = insideWidth * insideHeight / area
        let c = face.center / SIMD2(w, h)
        let nearest = [Float(1) / 3, 0.5, Float(2) / 3].map { x -> Float in
            let d = c - SIMD2(x, 0.4)
            return (d * d).sum().squareRoot()
        }.min() ?? 0
        return inside * max(0, 1 - nearest / 0.5)
    }
}
