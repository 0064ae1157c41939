import Foundation
import MarqueeMedia
import MarqueeModels
import MarqueeNN
import XCTest

/// EfficientNet-Lite0 against the PyTorch reference (goldens from Models/goldens/efficientnet_lite0.py).
final class EfficientNetLite0Tests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let goldens = root.appendingPathComponent("Tests/MarqueeModelsTests/Goldens/efficientnet_lite0")
    static let weightsPath = root.appendingPathComponent("Models/converted/efficientnet_lite0.safetensors").path
    static let labelsPath = root.appendingPathComponent("Models/converted/imagenet_labels.txt").path
    static let images = ["chelsea", "coffee", "astronaut", "rocket", "bigbuckbunny_1s", "bigbuckbunny_4s"]

    nonisolated(unsafe) static var loaded: EfficientNetLite0?

    private func model() throws -> EfficientNetLite0 {
        if let loaded = Self.loaded { return loaded }
        guard FileManager.default.fileExists(atPath: Self.weightsPath) else {
            throw NPYError("\(Self.weightsPath) is missing: run `make models` first")
        }
        let model = try EfficientNetLite0(weightsPath: Self.weightsPath, labelsPath: Self.labelsPath)
        Self.loaded = model
        return model
    }

    private func golden(_ name: String) throws -> NPYArray {
        try NPYArray(path: Self.goldens.appendingPathComponent(name).path)
    }

    private func imagePath(_ name: String) -> String {
        switch name {
        case "rocket": return Self.root.appendingPathComponent("Media/samples/rocket.jpg").path
        case let n where n.hasPrefix("bigbuckbunny"): return Self.goldens.appendingPathComponent("\(n).png").path
        default: return Self.root.appendingPathComponent("Media/samples/\(name).png").path
        }
    }

    private func goldenTop5(_ name: String) throws -> [(index: Int, probability: Float)] {
        let data = try Data(contentsOf: Self.goldens.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let images = try XCTUnwrap(summary["images"] as? [String: Any])
        let entry = try XCTUnwrap(images[name] as? [String: Any])
        let top5 = try XCTUnwrap(entry["top5"] as? [[String: Any]])
        return top5.map { (($0["index"] as! NSNumber).intValue, ($0["probability"] as! NSNumber).floatValue) }
    }

    /// Each stage of the network on chelsea, so that a divergence names the layer.
    func testEveryLayerMatchesPyTorchOnChelsea() throws {
        let model = try model()
        let input = try golden("chelsea.input.npy")
        var report: [String] = []
        var failures: [String] = []
        _ = model.forward(Tensor(shape: [1, 224, 224, 3], values: input.nchwToNHWC())) { name, tensor in
            guard let reference = try? self.golden("chelsea_layers/\(name).npy") else { return }
            let ours = tensor.toArray()
            let theirs = reference.nchwToNHWC()
            let scale = theirs.map(abs).max() ?? 1
            let diff = maxAbsDifference(ours, theirs)
            let ok = diff <= 1e-4 * max(1, scale)
            report.append("\(name): max |Δ| \(diff) (largest value \(scale)) \(ok ? "OK" : "NOT OK")")
            if !ok { failures.append(name) }
        }
        print(report.joined(separator: "\n"))
        XCTAssertEqual(report.count, 18, "stem, 16 blocks and head")
        XCTAssertEqual(failures, [], "layers that diverge from PyTorch")
    }

    /// The issue's fidelity bar: logits within 1e-3 and features with cosine ≥ 0.99999.
    func testLogitsAndFeaturesMatchPyTorchOnTheGoldenInputs() throws {
        let model = try model()
        for name in Self.images {
            let input = try golden("\(name).input.npy")
            let output = model.forward(Tensor(shape: [1, 224, 224, 3], values: input.nchwToNHWC()))
            let logitDiff = maxAbsDifference(output.logits.toArray(), try golden("\(name).logits.npy").floats)
            let cosine = cosineSimilarity(output.features.toArray(), try golden("\(name).features.npy").floats)
            print("\(name): max |Δlogit| \(logitDiff), features cosine \(cosine)")
            XCTAssertLessThanOrEqual(logitDiff, 1e-3, name)
            XCTAssertGreaterThanOrEqual(cosine, 0.99999, name)
        }
    }

    /// A batch gives each image the same answer as running it alone.
    func testBatchOfSixEqualsSixSingleRuns() throws {
        let model = try model()
        let batch = Tensor(shape: [Self.images.count, 224, 224, 3])
        var singles: [[Float]] = []
        for (i, name) in Self.images.enumerated() {
            let values = try golden("\(name).input.npy").nchwToNHWC()
            values.withUnsafeBufferPointer { (batch.data + i * values.count).update(from: $0.baseAddress!, count: values.count) }
            singles.append(model.forward(Tensor(shape: [1, 224, 224, 3], values: values)).logits.toArray())
        }
        let logits = model.forward(batch).logits.toArray()
        for (i, single) in singles.enumerated() {
            XCTAssertLessThanOrEqual(maxAbsDifference(Array(logits[(i * 1000)..<((i + 1) * 1000)]), single), 1e-4, Self.images[i])
        }
    }

    /// Resize(256) + CenterCrop(224) equals torchvision's within one level at ≥ 99% of values.
    func testPreprocessingMatchesTorchvision() throws {
        for name in Self.images {
            let image = try StillImage.read(path: imagePath(name))
            let crop = EfficientNetLite0.resizedCrop(image)
            let reference = try golden("\(name).resized.npy").floats
            XCTAssertEqual(crop.pixels.count, reference.count, name)
            let close = zip(crop.pixels, reference).filter { abs(Float($0.0) - $0.1) <= 1 }.count
            let share = Double(close) / Double(reference.count)
            print("\(name): \(share * 100)% of values within one level")
            XCTAssertGreaterThanOrEqual(share, 0.99, name)
        }
    }

    /// From the image files end to end: the reference's top-5 in the same order, within 0.01.
    func testTopFiveFromImageFilesMatchesPyTorch() throws {
        let model = try model()
        for name in Self.images {
            let crop = EfficientNetLite0.resizedCrop(try StillImage.read(path: imagePath(name)))
            let input = Tensor(shape: [1, 224, 224, 3])
            EfficientNetLite0.normalize(crop, into: input, index: 0)
            let probabilities = EfficientNetLite0.probabilities(model.forward(input).logits.toArray())
            let top = model.top(5, probabilities: probabilities)
            let expected = try goldenTop5(name)
            XCTAssertEqual(top.map(\.classIndex), expected.map(\.index), name)
            for (ours, theirs) in zip(top, expected) {
                XCTAssertEqual(ours.score, theirs.probability, accuracy: 0.01, "\(name) \(ours.label)")
            }
        }
    }

    func testKnownPhotosGetTheirObviousClasses() throws {
        let model = try model()
        func best(_ name: String) throws -> String {
            let crop = EfficientNetLite0.resizedCrop(try StillImage.read(path: imagePath(name)))
            let input = Tensor(shape: [1, 224, 224, 3])
            EfficientNetLite0.normalize(crop, into: input, index: 0)
            return model.top(1, probabilities: EfficientNetLite0.probabilities(model.forward(input).logits.toArray()))[0].label
        }
        XCTAssertEqual(try best("coffee"), "espresso")
        XCTAssertEqual(try best("rocket"), "missile")
        XCTAssertTrue(["tiger cat", "Egyptian cat", "tabby"].contains(try best("chelsea")))
    }
}
