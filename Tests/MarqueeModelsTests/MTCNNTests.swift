import Foundation
import MarqueeMedia
import MarqueeModels
import MarqueeNN
import XCTest

/// MTCNN against facenet-pytorch 2.6.0 (goldens from Models/goldens/mtcnn.py).
final class MTCNNTests: XCTestCase {
    static let root = EfficientNetLite0Tests.root
    static let goldens = root.appendingPathComponent("Tests/MarqueeModelsTests/Goldens/mtcnn")
    static let converted = root.appendingPathComponent("Models/converted")

    nonisolated(unsafe) static var loaded: MTCNN?

    static func model() throws -> MTCNN {
        if let loaded { return loaded }
        let store = ModelStore(folder: converted.path)
        guard FileManager.default.fileExists(atPath: store.path("mtcnn_pnet.safetensors")) else {
            throw NPYError("\(store.path("mtcnn_pnet.safetensors")) is missing: run `make models` first")
        }
        let model = try store.mtcnn()
        loaded = model
        return model
    }

    private func golden(_ name: String) throws -> NPYArray {
        try NPYArray(path: Self.goldens.appendingPathComponent(name).path)
    }

    struct GoldenFace {
        var box: [Float]
        var score: Float
        var landmarks: [[Float]]
    }

    static func goldenFaces() throws -> [(name: String, faces: [GoldenFace])] {
        let data = try Data(contentsOf: goldens.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let images = try XCTUnwrap(summary["images"] as? [String: [String: Any]])
        return try images.keys.sorted().map { name in
            let entry = images[name]!
            let boxes = try XCTUnwrap(entry["boxes"] as? [[Double]])
            let scores = try XCTUnwrap(entry["scores"] as? [Double])
            let landmarks = try XCTUnwrap(entry["landmarks"] as? [[[Double]]])
            return (name, boxes.indices.map { i in
                GoldenFace(box: boxes[i].map(Float.init), score: Float(scores[i]),
                           landmarks: landmarks[i].map { $0.map(Float.init) })
            })
        }
    }

    /// The image a golden was computed on: a decoded frame (.rgb.npy) or a sample photo.
    static func image(_ name: String) throws -> RGBImage {
        let frame = goldens.appendingPathComponent("\(name).rgb.npy").path
        if FileManager.default.fileExists(atPath: frame) {
            let array = try NPYArray(path: frame)
            return RGBImage(width: array.shape[1], height: array.shape[0], pixels: array.floats.map { UInt8($0) })
        }
        return try StillImage.read(path: root.appendingPathComponent("Media/samples/\(name).png").path)
    }

    static func iou(_ a: SIMD4<Float>, _ b: [Float]) -> Float {
        let w = max(0, min(a.z, b[2]) - max(a.x, b[0])), h = max(0, min(a.w, b[3]) - max(a.y, b[1]))
        let inter = w * h
        return inter / ((a.z - a.x) * (a.w - a.y) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
    }

    /// [N, C, H, W] → [N, H, W, C].
    private func nhwc(_ array: NPYArray) -> Tensor {
        let (n, c, h, w) = (array.shape[0], array.shape[1], array.shape[2], array.shape[3])
        var out = [Float](repeating: 0, count: array.floats.count)
        for i in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            out[((i * h + y) * w + x) * c + ch] = array.floats[((i * c + ch) * h + y) * w + x]
        } } } }
        return Tensor(shape: [n, h, w, c], values: out)
    }

    func testPyramidLevelMatchesTorchAreaInterpolation() throws {
        let input = try golden("pnet.input.npy")
        let astronaut = try Self.image("astronaut")
        let scale = MTCNN.pyramidScales(shortSide: 512)[3]
        let ours = MTCNN.pyramidLevel(astronaut, scale: scale)
        XCTAssertEqual(ours.shape, [1, input.shape[2], input.shape[3], 3])
        XCTAssertEqual(maxAbsDifference(ours.toArray(), input.nchwToNHWC()), 0, "area resize and normalization are exact")
    }

    func testPNetMatchesPyTorchOnAPyramidLevel() throws {
        let model = try Self.model()
        let input = try golden("pnet.input.npy")
        let (probability, regression) = model.pnetOutputs(Tensor(shape: [1, input.shape[2], input.shape[3], 3], values: input.nchwToNHWC()))
        let reg = try golden("pnet.reg.npy")
        let probDiff = maxAbsDifference(probability, try golden("pnet.prob.npy").floats)
        let regDiff = maxAbsDifference(regression, NPYArray.hwc(fromCHW: reg))
        print("P-Net: max |Δprob| \(probDiff), max |Δreg| \(regDiff)")
        XCTAssertLessThanOrEqual(probDiff, 1e-5)
        XCTAssertLessThanOrEqual(regDiff, 1e-5)
    }

    func testRNetMatchesPyTorchOnTheSecondStageCrops() throws {
        let model = try Self.model()
        let out = model.rnetOutputs(nhwc(try golden("rnet.input.npy")))
        let probDiff = maxAbsDifference(out.probability, try golden("rnet.prob.npy").floats)
        let regDiff = maxAbsDifference(out.regression, try golden("rnet.reg.npy").floats)
        print("R-Net: max |Δprob| \(probDiff), max |Δreg| \(regDiff)")
        XCTAssertLessThanOrEqual(probDiff, 1e-5)
        XCTAssertLessThanOrEqual(regDiff, 1e-5)
    }

    func testONetMatchesPyTorchOnTheThirdStageCrops() throws {
        let model = try Self.model()
        let out = model.onetOutputs(nhwc(try golden("onet.input.npy")))
        let probDiff = maxAbsDifference(out.probability, try golden("onet.prob.npy").floats)
        let regDiff = maxAbsDifference(out.regression, try golden("onet.reg.npy").floats)
        let landmarkDiff = maxAbsDifference(out.landmarks, try golden("onet.landmarks.npy").floats)
        print("O-Net: max |Δprob| \(probDiff), max |Δreg| \(regDiff), max |Δlandmarks| \(landmarkDiff)")
        XCTAssertLessThanOrEqual(probDiff, 1e-5)
        XCTAssertLessThanOrEqual(regDiff, 1e-5)
        XCTAssertLessThanOrEqual(landmarkDiff, 1e-5)
    }

    /// The issue's bar: every face found, boxes with IoU >= 0.95, scores within 1e-3.
    func testDetectionsMatchFacenetPyTorch() throws {
        let model = try Self.model()
        var compared = 0
        for (name, expected) in try Self.goldenFaces() {
            let faces = model.detect(try Self.image(name))
            XCTAssertEqual(faces.count, expected.count, name)
            for (face, golden) in zip(faces, expected) {
                let iou = Self.iou(face.box, golden.box)
                let scoreDiff = abs(face.score - golden.score)
                let landmarkDiff = zip(face.landmarks, golden.landmarks).map { max(abs($0.x - $1[0]), abs($0.y - $1[1])) }.max() ?? 0
                print("\(name): IoU \(iou), |Δscore| \(scoreDiff), max |Δlandmark| \(landmarkDiff) px")
                XCTAssertGreaterThanOrEqual(iou, 0.95, name)
                XCTAssertLessThanOrEqual(scoreDiff, 1e-3, name)
                XCTAssertLessThanOrEqual(landmarkDiff, 0.5, name)
                compared += 1
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 10, "astronaut and nine test.mp4 frames")
    }

    func testAPhotoWithoutFacesHasNone() throws {
        let coffee = try StillImage.read(path: Self.root.appendingPathComponent("Media/samples/coffee.png").path)
        XCTAssertEqual(try Self.model().detect(coffee), [])
    }

    func testAnImageSmallerThanTheSmallestFaceHasNone() throws {
        let tiny = RGBImage(width: 8, height: 8, pixels: (0..<192).map { UInt8(truncatingIfNeeded: $0 * 37) })
        XCTAssertEqual(try Self.model().detect(tiny), [])
        XCTAssertEqual(try Self.model().detect(RGBImage(width: 0, height: 0)), [])
    }

    func testAGrayscaleImageStillShowsTheFace() throws {
        let astronaut = try Self.image("astronaut")
        var gray = astronaut
        for i in stride(from: 0, to: gray.pixels.count, by: 3) {
            let y = (Int(gray.pixels[i]) * 299 + Int(gray.pixels[i + 1]) * 587 + Int(gray.pixels[i + 2]) * 114) / 1000
            gray.pixels[i] = UInt8(y); gray.pixels[i + 1] = UInt8(y); gray.pixels[i + 2] = UInt8(y)
        }
        let faces = try Self.model().detect(gray)
        let golden = try XCTUnwrap(try Self.goldenFaces().first { $0.name == "astronaut" }?.faces.first)
        XCTAssertEqual(faces.count, 1)
        XCTAssertGreaterThanOrEqual(Self.iou(try XCTUnwrap(faces.first).box, golden.box), 0.8)
    }

    func testABlackFrameHasNoFaces() throws {
        XCTAssertEqual(try Self.model().detect(RGBImage(width: 320, height: 180)), [])
    }

    func testEveryLandmarkLiesInsideItsFaceBox() throws {
        let faces = try Self.model().detect(try Self.image("astronaut"))
        let face = try XCTUnwrap(faces.first)
        XCTAssertEqual(face.landmarks.count, 5)
        for point in face.landmarks {
            XCTAssertTrue(point.x > face.box.x && point.x < face.box.z && point.y > face.box.y && point.y < face.box.w, "\(point)")
        }
        // Left eye left of the right eye, both above the nose, the nose above the mouth.
        XCTAssertLessThan(face.landmarks[0].x, face.landmarks[1].x)
        XCTAssertLessThan(max(face.landmarks[0].y, face.landmarks[1].y), face.landmarks[2].y)
        XCTAssertLessThan(face.landmarks[2].y, min(face.landmarks[3].y, face.landmarks[4].y))
    }

    func testABadWeightsFileIsRefusedNamingIt() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-mtcnn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let bad = scratch.appendingPathComponent("mtcnn_rnet.safetensors").path
        XCTAssertTrue(FileManager.default.createFile(atPath: bad, contents: Data((0..<2048).map { UInt8(truncatingIfNeeded: $0 &* 7919) })), bad)
        let store = ModelStore(folder: Self.converted.path)
        XCTAssertThrowsError(try MTCNN(pnetPath: store.path("mtcnn_pnet.safetensors"), rnetPath: bad,
                                       onetPath: store.path("mtcnn_onet.safetensors"))) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(bad + ":"), "\(error)")
        }
        // The right tensors under the wrong file: O-Net's weights where P-Net's belong.
        XCTAssertThrowsError(try MTCNN(pnetPath: store.path("mtcnn_onet.safetensors"), rnetPath: store.path("mtcnn_rnet.safetensors"),
                                       onetPath: store.path("mtcnn_onet.safetensors"))) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(store.path("mtcnn_onet.safetensors") + ":"), "\(error)")
        }
    }
}

extension NPYArray {
    /// [C, H, W] → [H, W, C] (a PyTorch map without its batch axis → NHWC order).
    static func hwc(fromCHW array: NPYArray) -> [Float] {
        let c = array.shape[0], h = array.shape[1], w = array.shape[2]
        var out = [Float](repeating: 0, count: array.floats.count)
        for ch in 0..<c { for y in 0..<h { for x in 0..<w { out[(y * w + x) * c + ch] = array.floats[(ch * h + y) * w + x] } } }
        return out
    }
}
