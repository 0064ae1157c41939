import Foundation
import MarqueeModels
import MarqueeNN
import XCTest

/// A damaged weights file is refused with one sentence naming the file (and the tensor).
final class WeightFileErrorTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func realWeights() throws -> Data {
        let path = EfficientNetLite0Tests.weightsPath
        guard FileManager.default.fileExists(atPath: path) else { throw NPYError("\(path) is missing: run `make models` first") }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    private func load(_ data: Data) -> (path: String, error: Error?) {
        let path = scratch.appendingPathComponent("weights.safetensors").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: data), path)
        do {
            _ = try EfficientNetLite0(weightsPath: path, labelsPath: EfficientNetLite0Tests.labelsPath)
            return (path, nil)
        } catch {
            return (path, error)
        }
    }

    func testTruncatedFileIsRefusedNamingTheFile() throws {
        let data = try realWeights()
        let (path, error) = load(data.prefix(data.count / 2))
        let message = String(describing: try XCTUnwrap(error))
        XCTAssertTrue(message.hasPrefix(path + ":"), message)
    }

    func testGarbageFileIsRefusedNamingTheFile() throws {
        let (path, error) = load(Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }))
        let message = String(describing: try XCTUnwrap(error))
        XCTAssertTrue(message.hasPrefix(path + ":"), message)
    }

    func testWrongShapeIsRefusedNamingTheTensor() throws {
        // Rewrite the file with the stem's weight as [32, 3, 5, 5] instead of [32, 3, 3, 3].
        let original = try WeightFile.open(EfficientNetLite0Tests.weightsPath)
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for name in original.names {
            let shape = original.entries[name]!.shape
            tensors[name] = (shape, try original.floats(name, shape: shape))
        }
        tensors["_conv_stem.weight"] = ([32, 3, 5, 5], [Float](repeating: 0, count: 32 * 3 * 25))
        let path = scratch.appendingPathComponent("reshaped.safetensors").path
        try WeightFile.write(tensors, to: path)
        XCTAssertThrowsError(try EfficientNetLite0(weightsPath: path, labelsPath: EfficientNetLite0Tests.labelsPath)) { error in
            XCTAssertEqual(String(describing: error),
                           "\(path): tensor '_conv_stem.weight' has shape [32, 3, 5, 5], expected [32, 3, 3, 3].")
        }
    }

    func testMissingFileIsRefusedNamingTheFile() {
        let path = scratch.appendingPathComponent("absent.safetensors").path
        XCTAssertThrowsError(try EfficientNetLite0(weightsPath: path, labelsPath: EfficientNetLite0Tests.labelsPath)) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(path + ":"), "\(error)")
        }
    }
}
