import Foundation
import MarqueeMedia
import MarqueeModels
import MarqueeNN
import XCTest

/// MusiCNN MTT against the TensorFlow graph of musicnn==0.1.0, fed the same Float32 librosa
/// log-mel (goldens from Models/goldens/musicnn_mtt.py).
final class MusiCNNTests: XCTestCase {
    static let root = LogMelTests.root
    static let goldens = LogMelTests.goldens
    static let weightsPath = root.appendingPathComponent("Models/converted/musicnn_mtt.safetensors").path
    static let labelsPath = root.appendingPathComponent("Models/converted/musicnn_mtt_labels.txt").path

    nonisolated(unsafe) static var loaded: MusiCNN?

    private func model() throws -> MusiCNN {
        if let loaded = Self.loaded { return loaded }
        guard FileManager.default.fileExists(atPath: Self.weightsPath) else {
            throw NPYError("\(Self.weightsPath) is missing: run `make models` first")
        }
        let model = try MusiCNN(weightsPath: Self.weightsPath, labelsPath: Self.labelsPath)
        Self.loaded = model
        return model
    }

    private func golden(_ name: String) throws -> NPYArray {
        try NPYArray(path: Self.goldens.appendingPathComponent(name).path)
    }

    /// The first patch of test.mp4 layer by layer, so a divergence names the layer.
    func testEveryLayerMatchesTensorFlowOnFirstPatch() throws {
        let model = try model()
        let mel = try golden("test.logmel.npy").floats
        let input = Tensor(shape: [1, 187, 96], values: Array(mel.prefix(187 * 96)))
        var failures: [String] = []
        _ = model.forward(input) { name, tensor in
            guard let reference = try? self.golden("test_patch0.\(name).npy") else { return }
            let scale = reference.floats.map(abs).max() ?? 1
            let diff = maxAbsDifference(tensor.toArray(), reference.floats)
            let ok = diff <= 1e-4 * max(scale, 1)
            print("\(ok ? "OK    " : "NOT OK") \(name): max |diff| \(diff) (max |ref| \(scale))")
            if !ok { failures.append(name) }
        }
        XCTAssertEqual(failures, [])
    }

    func testProbabilitiesAndFeaturesMatchTensorFlow() throws {
        let model = try model()
        for (name, patches) in [("test", 8), ("bigbuckbunny", 1)] {
            let mel = try golden("\(name).logmel.npy").floats
            XCTAssertEqual(mel.count, patches * 187 * 96)
            let out = model.forward(Tensor(shape: [patches, 187, 96], values: mel))
            let probabilities = try golden("\(name).probabilities.npy").floats.prefix(patches * 50)
            let diff = maxAbsDifference(out.probabilities.toArray(), Array(probabilities))
            print("\(name): \(patches) patches, probabilities max |diff| \(diff)")
            XCTAssertLessThanOrEqual(diff, 1e-4, name)
            for (key, tensor) in [("penultimate", out.penultimate), ("mean_pool", out.meanPool), ("max_pool", out.maxPool)] {
                let reference = try golden("\(name).\(key).npy").floats
                let scale = reference.map(abs).max() ?? 1
                let d = maxAbsDifference(tensor.toArray(), reference)
                print("\(name): \(key) max |diff| \(d) (max |ref| \(scale))")
                XCTAssertLessThanOrEqual(d, 1e-4 * max(scale, 1), "\(name) \(key)")
            }
        }
    }
}
