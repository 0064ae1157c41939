import Foundation
import MarqueeAnalysis
import MarqueeCatalog
import MarqueeMedia
import XCTest

final class CatalogTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// A title whose visual embedding is `vector` normalised.
    private func analysis(_ id: String, _ vector: [Float], sha: String = "aa", tags: [String] = ["espresso"]) -> TitleAnalysis {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return TitleAnalysis(
            titleId: id,
            source: .init(path: "/titles/\(id).mp4", sizeBytes: 10, sha256: sha),
            media: MediaInfo(path: "/titles/\(id).mp4", format: "mp4", formatLongName: "MP4", duration: 60, bitRate: nil, tags: [:], streams: []),
            models: [.init(name: "efficientnet_lite0", file: "efficientnet_lite0.safetensors", sha256: "c9")],
            tags: .init(visual: tags.enumerated().map { Tag(label: $1, classIndex: $0, score: 0.5, share: 0.5, ranges: []) }, visualFrames: 3),
            embeddings: .init(visual: vector.map { $0 / norm }),
            timings: [:], notes: [])
    }

    func testStoredTitlesComeBackWithTheirVectors() throws {
        let catalog = try Catalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        try catalog.store(analysis("b", [0, 3, 4]))
        try catalog.store(analysis("a", [1, 0, 0]))
        XCTAssertEqual(try catalog.titleIds, ["a", "b"])
        XCTAssertEqual(try catalog.embedding(of: "b", .visual), [0, 0.6, 0.8])
    }

    func testStoringATitleAgainReplacesItWithoutDuplicates() throws {
        let catalog = try Catalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        try catalog.store(analysis("a", [1, 0, 0], sha: "old"))
        try catalog.store(analysis("a", [0, 1, 0], sha: "new"))
        XCTAssertEqual(try catalog.embeddings(.visual).count, 1)
        XCTAssertEqual(try catalog.embedding(of: "a", .visual), [0, 1, 0])
    }

    func testATitleIsCurrentOnlyForTheSameSourceAndModels() throws {
        let catalog = try Catalog(path: folder.appendingPathComponent("catalog.sqlite").path)
        let stored = analysis("a", [1, 0, 0], sha: "s1")
        try catalog.store(stored)
        let key = Catalog.modelsKey(stored)
        XCTAssertTrue(try catalog.isCurrent(titleId: "a", sha256: "s1", modelsKey: key))
        XCTAssertFalse(try catalog.isCurrent(titleId: "a", sha256: "s2", modelsKey: key))
        XCTAssertFalse(try catalog.isCurrent(titleId: "a", sha256: "s1", modelsKey: "efficientnet_lite0=other"))
        XCTAssertFalse(try catalog.isCurrent(titleId: "z", sha256: "s1", modelsKey: key))
    }

    func testTheCatalogSurvivesReopening() throws {
        let path = folder.appendingPathComponent("catalog.sqlite").path
        try Catalog(path: path).store(analysis("a", [1, 2, 3]))
        XCTAssertEqual(try Catalog(path: path).titleIds, ["a"])
    }

    func testAnUnusableCatalogPathIsAnErrorNamingIt() {
        let path = folder.appendingPathComponent("missing-folder/catalog.sqlite").path
        XCTAssertThrowsError(try Catalog(path: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
        }
    }
}

final class SimilarityTests: XCTestCase {
    /// The SIMD dot product against a plain loop, across the vector tails.
    func testDotProductMatchesAPlainLoopAcrossTails() {
        for n in [0, 1, 15, 16, 17, 33, 384, 1280, 1281] {
            let a = (0..<n).map { Float(($0 * 37) % 11) - 5 }, b = (0..<n).map { Float(($0 * 13) % 7) - 3 }
            let expected = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
            let got = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { Similarity.dot(pa, $0) } }
            XCTAssertEqual(got, expected, accuracy: 1e-3, "n = \(n)")
        }
    }

    func testNearestRanksByCosineAndLeavesOutTheQueryTitle() {
        let candidates: [(titleId: String, vector: [Float])] = [
            ("self", [1, 0]), ("close", [0.8, 0.6]), ("far", [0, 1]), ("opposite", [-1, 0]),
        ]
        let result = Similarity.nearest(to: [1, 0], in: candidates, k: 3, excluding: "self")
        XCTAssertEqual(result.map(\.titleId), ["close", "far", "opposite"])
        XCTAssertEqual(result[0].score, 0.8, accuracy: 1e-6)
    }
}

final class ExportTests: XCTestCase {
    func testJSONLinesAndNumpyExportsHoldEveryVectorWithItsId() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let rows: [(titleId: String, vector: [Float])] = [("a", [1, 0, 0]), ("b", [0, 0.6, 0.8])]

        let jsonl = folder.appendingPathComponent("v.jsonl").path
        try EmbeddingExport.write(rows, modality: .visual, format: .jsonl, to: jsonl)
        let lines = try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        XCTAssertEqual(first["id"] as? String, "b")
        XCTAssertEqual((first["embedding"] as? [Double])?.map { Float($0) }, [0, 0.6, 0.8])

        let npy = folder.appendingPathComponent("v.npy").path
        XCTAssertEqual(try EmbeddingExport.write(rows, modality: .visual, format: .npy, to: npy), [npy, npy + ".ids.txt"])
        let data = try Data(contentsOf: URL(fileURLWithPath: npy))
        let header = String(decoding: data[10..<(10 + Int(data[8]))], as: UTF8.self)
        XCTAssertTrue(header.contains("'shape': (2, 3)"), header)
        let values = data.suffix(24).withUnsafeBytes { raw in (0..<6).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        XCTAssertEqual(values, [1, 0, 0, 0, 0.6, 0.8])
        XCTAssertEqual(try String(contentsOfFile: npy + ".ids.txt", encoding: .utf8), "a\nb\n")
    }
}
