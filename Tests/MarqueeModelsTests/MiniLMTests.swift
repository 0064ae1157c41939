import Foundation
import MarqueeModels
import MarqueeNN
import XCTest

/// MiniLM against sentence-transformers (goldens from Models/goldens/minilm.py).
final class MiniLMTests: XCTestCase {
    static let weightsPath = BertTokenizerTests.root.appendingPathComponent("Models/converted/all_minilm_l6_v2.safetensors").path

    nonisolated(unsafe) static var loaded: MiniLM?

    static func model() throws -> MiniLM {
        if let loaded { return loaded }
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw NPYError("\(weightsPath) is missing: run `make models` first")
        }
        let model = try MiniLM(weightsPath: weightsPath)
        loaded = model
        return model
    }

    /// The embeddings output and each layer's, so that a divergence names the layer.
    func testEveryLayerMatchesPyTorch() throws {
        let model = try Self.model()
        struct Layers: Decodable { var ids: [Int32]; var layers: [String] }
        let info = try JSONDecoder().decode(Layers.self, from: Data(contentsOf: BertTokenizerTests.goldens.appendingPathComponent("layers.json")))
        let golden = try NPYArray(path: BertTokenizerTests.goldens.appendingPathComponent("layers.npy").path)
        let tokens = info.ids.count
        XCTAssertEqual(golden.shape, [7, tokens, 384])
        var report: [String] = [], failures: [String] = []
        _ = model.embed([info.ids]) { name, tensor in
            guard let index = info.layers.firstIndex(of: name) else { return }
            let theirs = Array(golden.floats[(index * tokens * 384)..<((index + 1) * tokens * 384)])
            let diff = maxAbsDifference(tensor.toArray(), theirs)
            let ok = diff <= 1e-4 * max(1, theirs.map(abs).max() ?? 1)
            report.append("\(name): max |Δ| \(diff) \(ok ? "OK" : "NOT OK")")
            if !ok { failures.append(name) }
        }
        print(report.joined(separator: "\n"))
        XCTAssertEqual(report.count, 7)
        XCTAssertEqual(failures, [])
    }

    /// The issue's bar on every golden text: cosine ≥ 0.99999 and max |Δ| ≤ 1e-4, with the
    /// texts run in batches of 32 as the reference ran them.
    func testEmbeddingsMatchSentenceTransformersOnEveryGoldenText() throws {
        let model = try Self.model()
        let texts = try BertTokenizerTests.goldenTexts()
        let golden = try NPYArray(path: BertTokenizerTests.goldens.appendingPathComponent("embeddings.npy").path)
        XCTAssertEqual(golden.shape, [texts.count, 384])
        var worstCosine = 1.0, worstDiff: Float = 0
        for start in stride(from: 0, to: texts.count, by: 32) {
            let batch = Array(texts[start..<min(start + 32, texts.count)])
            let vectors = model.embed(batch.map(\.ids)).toArray()
            for i in batch.indices {
                let row = start + i - batch.startIndex
                let ours = Array(vectors[((row - start) * 384)..<((row - start + 1) * 384)])
                let theirs = Array(golden.floats[(row * 384)..<((row + 1) * 384)])
                let cosine = cosineSimilarity(ours, theirs), diff = maxAbsDifference(ours, theirs)
                worstCosine = min(worstCosine, cosine)
                worstDiff = max(worstDiff, diff)
                if cosine < 0.99999 || diff > 1e-4 {
                    XCTFail("text \(row) \(texts[row].text.debugDescription.prefix(60)): cosine \(cosine), max |Δ| \(diff)")
                }
            }
        }
        print("MiniLM on \(texts.count) golden texts: worst cosine \(worstCosine), worst max |Δ| \(worstDiff)")
    }

    /// Packing never mixes sequences: a text embedded alone or among others gives one vector.
    func testABatchGivesEachTextWhatItGetsAlone() throws {
        let model = try Self.model()
        let texts = Array(try BertTokenizerTests.goldenTexts().prefix(40)).map(\.ids)
        let batch = model.embed(texts).toArray()
        for (i, ids) in texts.enumerated() {
            let alone = model.embed([ids]).toArray()
            XCTAssertLessThanOrEqual(maxAbsDifference(Array(batch[(i * 384)..<((i + 1) * 384)]), alone), 1e-5, "text \(i)")
        }
    }

    func testNoSequencesGiveNoVectors() throws {
        XCTAssertEqual(try Self.model().embed([]).shape, [0, 384])
    }

    func testAFileWithAMissingTensorIsRefusedByName() throws {
        let path = NSTemporaryDirectory() + "minilm-missing-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try WeightFile.write(["embeddings.LayerNorm.weight": (shape: [384], values: [Float](repeating: 1, count: 384))], to: path)
        XCTAssertThrowsError(try MiniLM(weightsPath: path)) { error in
            XCTAssert("\(error)".contains("embeddings.word_embeddings.weight"), "\(error)")
        }
    }
}
