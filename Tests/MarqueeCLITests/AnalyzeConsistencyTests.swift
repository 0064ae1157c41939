import Foundation
import XCTest

/// Every section of `marquee analyze`'s analysis.json agrees with the single-purpose command
/// that computes it on its own (`shots`, `tag-audio`, `tag-text`) on the same file.
final class AnalyzeConsistencyTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    private static func media(_ name: String) -> String { root.appendingPathComponent("Media/\(name)").path }

    /// One analysis per file for the whole class: the analyses are the slow part.
    nonisolated(unsafe) private static var analyses: [String: [String: Any]] = [:]
    nonisolated(unsafe) private static var folders: [String] = []
    /// The title folder of each analysis, by file.
    nonisolated(unsafe) private static var titleFolders: [String: String] = [:]

    override class func tearDown() {
        for folder in folders { try? FileManager.default.removeItem(atPath: folder) }
        super.tearDown()
    }

    private func analysis(_ file: String) throws -> [String: Any] {
        if let cached = Self.analyses[file] { return cached }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-consistency-\(UUID().uuidString)").path
        Self.folders.append(out)
        let result = try MarqueeProcess.run(["analyze", "--out", out, Self.media(file)], timeout: 900)
        XCTAssertEqual(result.status, 0, result.stderr)
        let id = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent.lowercased().replacingOccurrences(of: "_", with: "-")
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(id)/analysis.json"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        Self.analyses[file] = json
        Self.titleFolders[file] = "\(out)/\(id)"
        return json
    }

    private func command(_ arguments: [String]) throws -> [String: Any] {
        let result = try MarqueeProcess.run(arguments, timeout: 900)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
    }

    private func shotsMatch(_ file: String) throws {
        let analysis = try analysis(file)
        let alone = try command(["shots", "--json", Self.media(file)])
        let shots = try XCTUnwrap(analysis["shots"] as? [String: Any])
        XCTAssertEqual(shots["frames"] as? Int, alone["frames"] as? Int)
        let mine = try XCTUnwrap(shots["list"] as? [[String: Any]])
        let theirs = try XCTUnwrap(alone["shots"] as? [[String: Any]])
        XCTAssertEqual(mine.count, theirs.count)
        for (a, b) in zip(mine, theirs) {
            XCTAssertEqual(a["start_frame"] as? Int, b["start_frame"] as? Int)
            XCTAssertEqual(a["end_frame"] as? Int, b["end_frame"] as? Int)
            XCTAssertEqual(a["start"] as? Double, b["start"] as? Double)
            XCTAssertEqual(a["end"] as? Double, b["end"] as? Double)
            let ta = a["transition"] as? [String: Any], tb = b["transition"] as? [String: Any]
            XCTAssertEqual(ta?["kind"] as? String, tb?["kind"] as? String)
            XCTAssertEqual(ta?["frames"] as? Int, tb?["frames"] as? Int)
        }
    }

    private func audioTagsMatch(_ file: String) throws {
        let analysis = try analysis(file)
        let alone = try command(["tag-audio", "--json", "--top", "50", Self.media(file)])
        let mine = try XCTUnwrap((analysis["tags"] as? [String: Any])?["audio"] as? [[String: Any]])
        let theirs = try XCTUnwrap(alone["tags"] as? [[String: Any]])
        XCTAssertEqual(mine.count, 50)
        XCTAssertEqual(mine.map { $0["label"] as? String }, theirs.map { $0["label"] as? String })
        for (a, b) in zip(mine, theirs) {
            XCTAssertEqual(try XCTUnwrap(a["score"] as? Double), try XCTUnwrap(b["score"] as? Double), accuracy: 1e-6)
            XCTAssertEqual(try XCTUnwrap(a["share"] as? Double), try XCTUnwrap(b["active_share"] as? Double), accuracy: 1e-9)
        }
        let loudness = try XCTUnwrap(analysis["loudness"] as? [String: Any])
        let aloneLoudness = try XCTUnwrap(alone["loudness"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(loudness["integrated_lufs"] as? Double),
                       try XCTUnwrap(aloneLoudness["integrated_lufs"] as? Double), accuracy: 0.006)
    }

    private func textMatches(_ file: String) throws {
        let analysis = try analysis(file)
        let alone = try command(["tag-text", "--json", Self.media(file)])
        let text = try XCTUnwrap((analysis["tags"] as? [String: Any])?["text"] as? [String: Any])
        let themes = try XCTUnwrap(text["themes"] as? [[String: Any]]), aloneThemes = try XCTUnwrap(alone["themes"] as? [[String: Any]])
        XCTAssertEqual(themes.map { $0["label"] as? String }, aloneThemes.map { $0["label"] as? String })
        for (a, b) in zip(themes, aloneThemes) {
            XCTAssertEqual(try XCTUnwrap(a["score"] as? Double), try XCTUnwrap(b["score"] as? Double), accuracy: 1e-6)
        }
        let phrases = try XCTUnwrap(text["keyphrases"] as? [[String: Any]])
        let alonePhrases = try XCTUnwrap(alone["keyphrases"] as? [[String: Any]])
        XCTAssertEqual(phrases.map { $0["phrase"] as? String }, alonePhrases.map { $0["phrase"] as? String })
        XCTAssertEqual(text["documents"] as? Int, alone["documents"] as? Int)
    }

    func testShotsOfTestMP4AreThoseOfTheShotsCommand() throws { try shotsMatch("samples/test.mp4") }
    func testShotsOfBigBuckBunnyAreThoseOfTheShotsCommand() throws { try shotsMatch("samples/bigbuckbunny.mp4") }
    func testAudioTagsOfTestMP4AreThoseOfTagAudio() throws { try audioTagsMatch("samples/test.mp4") }
    func testAudioTagsOfBigBuckBunnyAreThoseOfTagAudio() throws { try audioTagsMatch("samples/bigbuckbunny.mp4") }
    func testTextOfTestMP4IsThatOfTagText() throws { try textMatches("samples/test.mp4") }
    func testTextOfAVideoWithSidecarSubtitlesIsThatOfTagText() throws {
        try textMatches("fixtures/sidecar.mp4")
        let text = try XCTUnwrap((try analysis("fixtures/sidecar.mp4")["tags"] as? [String: Any])?["text"] as? [String: Any])
        XCTAssertGreaterThan(text["documents"] as? Int ?? 0, 0, "the sidecar subtitles were read")
    }

    func testEverySectionOfTestMP4IsPresent() throws {
        let analysis = try analysis("samples/test.mp4")
        XCTAssertEqual(analysis["schema_version"] as? Int, 2)
        for key in ["title_id", "source", "media", "models", "shots", "visual_samples", "keyframes", "tags", "loudness",
                    "embeddings", "fusion", "timings", "notes"] {
            XCTAssertNotNil(analysis[key], "missing \(key)")
        }
        let artwork = try XCTUnwrap(analysis["artwork"] as? [String: Any], "the artwork section is written")
        XCTAssertEqual(artwork["computed"] as? Bool, true)
        let shots = try XCTUnwrap((analysis["shots"] as? [String: Any])?["list"] as? [[String: Any]])
        let samples = try XCTUnwrap(analysis["visual_samples"] as? [[String: Any]])
        let tags = try XCTUnwrap(analysis["tags"] as? [String: Any])
        XCTAssertEqual(tags["visual_frames"] as? Int, samples.count)
        // Every shot long enough to hold a sampled copy (0.25 s apart) has at least one frame.
        let sampledShots = Set(samples.compactMap { $0["shot"] as? Int })
        for (index, shot) in shots.enumerated() where (shot["end"] as? Double ?? 0) - (shot["start"] as? Double ?? 0) >= 0.5 {
            XCTAssertTrue(sampledShots.contains(index), "shot \(index) has no visual sample")
        }
        let embeddings = try XCTUnwrap(analysis["embeddings"] as? [String: Any])
        XCTAssertEqual((embeddings["visual"] as? [Double])?.count, 1280)
        XCTAssertEqual((embeddings["audio"] as? [Double])?.count, 1506)
        XCTAssertEqual((embeddings["fused"] as? [Double])?.count, 1280 + 1506 + 384)
        let keyframes = try XCTUnwrap(analysis["keyframes"] as? [[String: Any]])
        XCTAssertFalse(keyframes.isEmpty)
    }

    /// The same stills as `marquee artwork`, in the same order, written beside analysis.json.
    func testArtworkOfTestMP4IsThatOfTheArtworkCommand() throws {
        let analysis = try analysis("samples/test.mp4")
        let candidates = try XCTUnwrap((analysis["artwork"] as? [String: Any])?["candidates"] as? [[String: Any]])
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-artwork-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try MarqueeProcess.run(["artwork", "--json", "--out", out.path, Self.media("samples/test.mp4")], timeout: 900)
        XCTAssertEqual(result.status, 0, result.stderr)
        let command = try XCTUnwrap((try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])?["candidates"] as? [[String: Any]])
        XCTAssertEqual(candidates.count, 10)
        XCTAssertEqual(candidates.map { $0["frame"] as? Int }, command.map { $0["frame"] as? Int })
        for (ours, theirs) in zip(candidates, command) {
            XCTAssertEqual(ours["score"] as? Double ?? -1, theirs["score"] as? Double ?? 1, accuracy: 1e-4)
            let file = try XCTUnwrap(ours["file"] as? String)
            let folder = try XCTUnwrap(Self.titleFolders["samples/test.mp4"])
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/\(file)"), file)
        }
    }
}
