import Foundation
import MarqueeMedia
import MarqueeModels
import MarqueeNN
import XCTest

/// fer's expression CNN against Keras (goldens from Models/goldens/emotion.py).
final class EmotionCNNTests: XCTestCase {
    static let goldens = EfficientNetLite0Tests.root.appendingPathComponent("Tests/MarqueeModelsTests/Goldens/emotion")

    nonisolated(unsafe) static var loaded: EmotionCNN?

    static func model() throws -> EmotionCNN {
        if let loaded { return loaded }
        let store = ModelStore(folder: MTCNNTests.converted.path)
        guard FileManager.default.fileExists(atPath: store.path("emotion_mini_xception.safetensors")) else {
            throw NPYError("\(store.path("emotion_mini_xception.safetensors")) is missing: run `make models` first")
        }
        let model = try store.emotionCNN()
        loaded = model
        return model
    }

    private func golden(_ name: String) throws -> NPYArray {
        try NPYArray(path: Self.goldens.appendingPathComponent(name).path)
    }

    /// (image name, face index) of each golden crop, in order.
    private func goldenFaces() throws -> [(image: String, face: Int)] {
        let data = try Data(contentsOf: Self.goldens.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let faces = try XCTUnwrap(summary["faces"] as? [[String: Any]])
        return try faces.map { (try XCTUnwrap($0["image"] as? String), try XCTUnwrap($0["face"] as? Int)) }
    }

    func testLabelsAreFersClassesInOrder() throws {
        XCTAssertEqual(try Self.model().labels, ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"])
    }

    /// Each residual module on the first crop, so that a divergence names the layer.
    func testEveryModuleMatchesKerasOnTheFirstCrop() throws {
        let inputs = try golden("inputs.npy")
        let first = Tensor(shape: [1, 64, 64, 1], values: Array(inputs.floats[0..<(64 * 64)]))
        var report: [String] = []
        var failures: [String] = []
        _ = try Self.model().forward(first) { name, tensor in
            guard let reference = try? self.golden("layers/\(name).npy") else { return }
            let scale = reference.floats.map(abs).max() ?? 1
            let diff = maxAbsDifference(tensor.toArray(), reference.floats)
            let ok = diff <= 1e-4 * max(1, scale)
            report.append("\(name): max |Δ| \(diff) (largest value \(scale)) \(ok ? "OK" : "NOT OK")")
            if !ok { failures.append(name) }
        }
        print(report.joined(separator: "\n"))
        XCTAssertEqual(report.count, 5, "add_1 … add_4 and conv2d_7 (activation_2 has no golden)")
        XCTAssertEqual(failures, [])
    }

    /// The issue's bar: probabilities within 1e-4 of Keras on the same crops.
    func testProbabilitiesMatchKerasOnTheSameCrops() throws {
        let inputs = try golden("inputs.npy")
        let expected = try golden("probabilities.npy")
        let n = inputs.shape[0]
        let out = try Self.model().forward(Tensor(shape: [n, 64, 64, 1], values: inputs.floats)).toArray()
        let diff = maxAbsDifference(out, expected.floats)
        print("expression probabilities on \(n) crops: max |Δ| \(diff)")
        XCTAssertGreaterThanOrEqual(n, 10)
        XCTAssertLessThanOrEqual(diff, 1e-4)
    }

    /// fer's crop (gray conversion, padding, square, offsets, cv2 bilinear resize) and
    /// normalization, end to end from facenet-pytorch's boxes: the same network input to the bit.
    func testCropsMatchFerFromTheSameBoxes() throws {
        let inputs = try golden("inputs.npy")
        let boxes = Dictionary(uniqueKeysWithValues: try MTCNNTests.goldenFaces().map { ($0.name, $0.faces) })
        for (index, entry) in try goldenFaces().enumerated() {
            let golden = try XCTUnwrap(boxes[entry.image]?[entry.face])
            let face = DetectedFace(box: SIMD4(golden.box[0], golden.box[1], golden.box[2], golden.box[3]),
                                    score: golden.score, landmarks: [])
            let crop = try XCTUnwrap(EmotionCNN.crops(try MTCNNTests.image(entry.image), faces: [face])[0], entry.image)
            let input = Tensor(shape: [1, 64, 64, 1])
            EmotionCNN.normalize(crop, into: input, index: 0)
            let expected = Array(inputs.floats[(index * 4096)..<((index + 1) * 4096)])
            XCTAssertEqual(maxAbsDifference(input.toArray(), expected), 0, entry.image)
        }
    }

    func testClassifyFromAnImageMatchesKeras() throws {
        let expected = try golden("probabilities.npy")
        let boxes = Dictionary(uniqueKeysWithValues: try MTCNNTests.goldenFaces().map { ($0.name, $0.faces) })
        let model = try Self.model()
        for (index, entry) in try goldenFaces().enumerated() {
            let golden = try XCTUnwrap(boxes[entry.image]?[entry.face])
            let face = DetectedFace(box: SIMD4(golden.box[0], golden.box[1], golden.box[2], golden.box[3]),
                                    score: golden.score, landmarks: [])
            let probabilities = model.classify(try MTCNNTests.image(entry.image), face: face)
            XCTAssertLessThanOrEqual(maxAbsDifference(probabilities, Array(expected.floats[(index * 7)..<((index + 1) * 7)])), 1e-4,
                                     entry.image)
        }
    }

    func testBilinearResizeReproducesOpenCVOnAKnownCase() {
        // A 2x2 ramp upscaled to 4x4: OpenCV's INTER_LINEAR (half-pixel centres, edges clamped)
        // gives these values (cv2.resize(np.array([[0, 100], [200, 255]], np.uint8), (4, 4))).
        let out = EmotionCNN.resizeLinear([0, 100, 200, 255], width: 2, height: 2, to: 4, 4)
        XCTAssertEqual(out, [0, 25, 75, 100, 50, 72, 117, 139, 150, 167, 200, 216, 200, 214, 241, 255])
    }

    func testAFaceOutsideTheImageGetsNoProbabilities() throws {
        let image = RGBImage(width: 40, height: 30)
        let far = DetectedFace(box: SIMD4(500, 500, 540, 540), score: 1, landmarks: [])
        XCTAssertEqual(try Self.model().classify(image, face: far), [])
    }

    func testAFaceOnATinyGrayImageStillGetsSevenProbabilities() throws {
        let image = RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: 128, count: 192))
        let probabilities = try Self.model().classify(image, face: DetectedFace(box: SIMD4(1, 1, 7, 7), score: 1, landmarks: []))
        XCTAssertEqual(probabilities.count, 7)
        XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-5)
    }

    func testABadWeightsFileIsRefusedNamingIt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-emotion-\(UUID().uuidString).safetensors").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("not a safetensors file".utf8)), path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let labels = ModelStore(folder: MTCNNTests.converted.path).path("emotion_labels.txt")
        XCTAssertThrowsError(try EmotionCNN(weightsPath: path, labelsPath: labels)) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(path + ":"), "\(error)")
        }
    }
}
