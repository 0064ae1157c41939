import Foundation
import XCTest

final class ArtworkCommandTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func path(_ relative: String) -> String { Self.root.appendingPathComponent(relative).path }

    private func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("marquee-artwork-\(UUID().uuidString)")
    }

    /// Width and height from a PNG's IHDR chunk.
    private func pngSize(_ file: String) throws -> (Int, Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(file) is not a PNG")
        func be32(_ at: Int) -> Int { data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    func testJSONListsEachCandidateWithItsPNGScoreComponentsAndReasons() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try MarqueeProcess.run(["artwork", "--count", "4", "--json", "--out", out.path, path("Media/fixtures/trap.mp4")],
                                            timeout: 600)
        XCTAssertEqual(result.status, 0, result.stderr)
        let output = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stderr)
        XCTAssertEqual(output["frames"] as? Int, 1192)
        let candidates = try XCTUnwrap(output["candidates"] as? [[String: Any]])
        XCTAssertEqual(candidates.map { $0["rank"] as? Int }, [1, 2, 3, 4])
        for (i, candidate) in candidates.enumerated() {
            let file = try XCTUnwrap(candidate["file"] as? String)
            XCTAssertEqual(file, out.appendingPathComponent(String(format: "%02d.png", i + 1)).path)
            let (width, height) = try pngSize(file)
            XCTAssertEqual(width, 640)
            XCTAssertEqual(height, 360)
            for key in ["time", "frame", "shot", "score"] { XCTAssertNotNil(candidate[key], key) }
            let components = try XCTUnwrap(candidate["components"] as? [String: Any])
            for key in ["sharpness", "exposure", "contrast", "colourfulness", "quality", "face", "expression", "distinctiveness", "total"] {
                XCTAssertNotNil(components[key] as? Double, key)
            }
            let quality = try XCTUnwrap(candidate["quality"] as? [String: Any])
            for key in ["sharpness", "mean_luma", "contrast", "colourfulness", "shadow_share", "highlight_share"] {
                XCTAssertNotNil(quality[key] as? Double, key)
            }
            XCTAssertNotNil(candidate["faces"] as? [[String: Any]], "faces are listed, possibly none")
            XCTAssertFalse((candidate["reasons"] as? [String] ?? []).isEmpty)
        }
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("artwork.json"))) as? [String: Any]
        XCTAssertEqual((written?["candidates"] as? [[String: Any]])?.count, 4, "artwork.json holds what was printed")
    }

    func testACountOfZeroIsAUsageError() throws {
        let result = try MarqueeProcess.run(["artwork", "--count", "0", "--out", temporaryFolder().path, path("Media/fixtures/trap.mp4")])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("--count"), result.stderr)
    }

    func testAFileWithoutVideoFailsWithOneErrorLineNamingIt() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let file = path("Media/fixtures/audio_only.m4a")
        let result = try MarqueeProcess.run(["artwork", "--out", out.path, file])
        XCTAssertEqual(result.status, 1)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        XCTAssertEqual(errors.count, 1, result.stderr)
        XCTAssertTrue(errors.first?.contains(file) ?? false, result.stderr)
        XCTAssertTrue(result.stdout.isEmpty)
    }
}
