import Foundation
import XCTest

/// "More like this" on real media: four clips cut from each sample video (ffmpeg CLI) are
/// catalogued with `marquee batch`; for each clip, the three nearest other clips should come
/// from the same source. Prints precision@3 per modality and asserts it for the fused vector.
final class SimilarityCheckTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Sources and their durations (seconds); four clips each, evenly spread, at most 5 s long.
    private static let sources: [(name: String, duration: Double)] = [
        ("bigbuckbunny", 5.3), ("bikes", 10.0), ("carphone_pristine", 4.0), ("test", 212.0),
    ]
    static let clipsPerSource = 4
    /// Measured on these 16 clips: fused 1.00, visual 0.94, audio 1.00 (the 8 clips with sound),
    /// text none (the samples carry no text). The bar leaves room for one clip in six to have a
    /// stranger among its three nearest.
    static let fusedBar = 0.83

    func testNearestClipsComeFromTheSameSourceVideo() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-similarity-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/clips", withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        var sourceOf: [String: String] = [:]
        for source in Self.sources {
            let length = min(5, source.duration / Double(Self.clipsPerSource))
            for k in 0..<Self.clipsPerSource {
                let start = source.duration * Double(k) / Double(Self.clipsPerSource)
                let id = "\(source.name.replacingOccurrences(of: "_", with: "-"))-clip\(k + 1)"
                let cut = Process()
                cut.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
                cut.arguments = ["-nostdin", "-v", "error", "-y", "-ss", String(format: "%.3f", start), "-t", String(format: "%.3f", length),
                                 "-i", Self.root.appendingPathComponent("Media/samples/\(source.name).mp4").path,
                                 "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", folder + "/clips/\(id).mp4"]
                try cut.run()
                cut.waitUntilExit()
                XCTAssertEqual(cut.terminationStatus, 0, "ffmpeg cut \(id)")
                sourceOf[id] = source.name
            }
        }
        let out = folder + "/out"
        let batch = try MarqueeProcess.run(["batch", "--out", out, folder + "/clips"], timeout: 1800)
        XCTAssertEqual(batch.status, 0, batch.stderr)

        var report: [String] = []
        var fusedPrecision = 0.0
        for modality in ["fused", "visual", "audio", "text"] {
            var hits = 0, total = 0
            for id in sourceOf.keys.sorted() {
                let result = try MarqueeProcess.run(["similar", "--catalog", out + "/catalog.sqlite", "--k", "3", "--modality", modality,
                                                     "--json", id])
                // A clip without this modality (a silent clip, no text) is not a query.
                guard result.status == 0,
                      let ranked = try? JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]], ranked.count == 3
                else { continue }
                hits += ranked.filter { sourceOf[$0["title_id"] as? String ?? ""] == sourceOf[id] }.count
                total += 3
            }
            let precision = total > 0 ? Double(hits) / Double(total) : .nan
            if modality == "fused" { fusedPrecision = precision }
            report.append(String(format: "%@ precision@3 %.3f over %d clips", modality, precision, total / 3))
        }
        print("similarity check:\n  " + report.joined(separator: "\n  "))
        XCTAssertGreaterThanOrEqual(fusedPrecision, Self.fusedBar, report.joined(separator: "; "))
    }
}
