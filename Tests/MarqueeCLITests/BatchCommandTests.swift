import Foundation
import XCTest

/// `marquee batch` over real media and broken fixtures, a batch killed midway, and the report
/// rendered by a real browser.
final class BatchCommandTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    private func media(_ name: String) -> String { Self.root.appendingPathComponent("Media/\(name)").path }

    private func scratch() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// A manifest in `folder` with one line per object.
    private func manifest(in folder: String, _ lines: [[String: Any]]) throws -> String {
        let path = folder + "/titles.jsonl"
        let text = try lines.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
            .joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func exportedIds(_ out: String) throws -> [String] {
        let file = out + "/fused.jsonl"
        let result = try MarqueeProcess.run(["export", "--catalog", out + "/catalog.sqlite", "--modality", "fused", "--out", file])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["id"] as? String ?? ""
        }
    }

    func testGoodTitlesAreDoneAndBrokenOnesReportedWithTheirReason() throws {
        let folder = try scratch()
        try FileManager.default.createDirectory(atPath: folder + "/clips", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/clips/bunny.mp4", withDestinationPath: media("samples/bigbuckbunny.mp4"))
        let list = try manifest(in: folder, [
            ["id": "bunny", "path": "clips/bunny.mp4", "title": "Big Buck Bunny", "synopsis": "A giant rabbit takes revenge on three bullies in the forest.",
             "genres": ["animation", "comedy"]],
            ["path": media("samples/carphone_pristine.mp4")],
            ["path": media("fixtures/empty.mp4")],
            ["path": media("fixtures/random.mp4")],
            ["path": media("fixtures/truncated.mp4")],
            ["path": media("fixtures/text.mkv")],
            ["path": media("fixtures/missing-file.mp4")],
        ])
        let out = folder + "/out"
        let result = try MarqueeProcess.run(["batch", "--out", out, list], timeout: 900)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(try exportedIds(out).sorted(), ["bunny", "carphone-pristine"])
        for broken in ["empty", "random", "truncated", "text", "missing-file"] {
            let line = result.stderr.split(separator: "\n").first { $0.hasPrefix("failed: \(broken): ") }
            XCTAssertNotNil(line, "\(broken) is reported with its reason:\n\(result.stderr)")
            XCTAssertGreaterThan(line.map { $0.count - "failed: \(broken): ".count } ?? 0, 10)
        }
        // The manifest's text is the title's text.
        let bunny = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/bunny/analysis.json")))
            as? [String: Any])
        let text = try XCTUnwrap((bunny["tags"] as? [String: Any])?["text"] as? [String: Any])
        XCTAssertEqual(text["documents"] as? Int, 1)
        XCTAssertEqual((bunny["fusion"] as? [String: Any])?["missing"] as? [String], [])
    }

    func testAFolderOfGoodTitlesExitsZeroAndARerunSkipsThem() throws {
        let folder = try scratch()
        for name in ["carphone_pristine.mp4", "bigbuckbunny.mp4"] {
            try FileManager.default.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: media("samples/\(name)"))
        }
        let first = try MarqueeProcess.run(["batch", "--out", folder + "/out", folder], timeout: 900)
        XCTAssertEqual(first.status, 0, first.stderr)
        let again = try MarqueeProcess.run(["batch", "--out", folder + "/out", folder], timeout: 900)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("0 analysed, 2 up to date, 0 failed"), again.stderr)
    }

    func testAMissingSourceIsAUsageError() throws {
        let result = try MarqueeProcess.run(["batch", "--out", try scratch(), "/nonexistent/titles.jsonl"])
        XCTAssertEqual(result.status, 2, result.stderr)
    }

    func testABatchKilledMidwayAndRerunHoldsEveryTitleExactlyOnce() throws {
        let folder = try scratch()
        let list = try manifest(in: folder, ["samples/carphone_pristine.mp4", "samples/bigbuckbunny.mp4", "samples/bikes.mp4",
                                             "fixtures/shots.mp4"].map { ["path": media($0)] })
        let out = folder + "/out"
        let log = folder + "/stderr.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = MarqueeProcess.executable
        process.arguments = ["batch", "--out", out, list]
        process.standardError = handle
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Kill it once the first title is in the catalog (its line is printed after the row is stored).
        let deadline = Date().addingTimeInterval(600)
        while process.isRunning && Date() < deadline {
            if (try? String(contentsOfFile: log, encoding: .utf8))?.contains("[1/4]") == true { break }
            usleep(20_000)
        }
        XCTAssertTrue(process.isRunning, "the batch was still running when killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try handle.close()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        let killedAt = try exportedIds(out)
        XCTAssertGreaterThanOrEqual(killedAt.count, 1)
        XCTAssertLessThan(killedAt.count, 4)

        let rerun = try MarqueeProcess.run(["batch", "--out", out, list], timeout: 900)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertTrue(rerun.stderr.contains("up to date"), rerun.stderr)
        XCTAssertEqual(try exportedIds(out), ["bigbuckbunny", "bikes", "carphone-pristine", "shots"])
    }

    func testTheReportRendersInChromiumWithEveryTitleAndImage() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("chromium is not installed (make setup installs it)")
        }
        let folder = try scratch()
        let list = try manifest(in: folder, ["carphone_pristine.mp4", "bigbuckbunny.mp4", "bikes.mp4"].map { ["path": media("samples/\($0)")] })
        let out = folder + "/out"
        XCTAssertEqual(try MarqueeProcess.run(["batch", "--out", out, list], timeout: 900).status, 0)
        let report = try MarqueeProcess.run(["report", out])
        XCTAssertEqual(report.status, 0, report.stderr)
        let page = out + "/report.html"
        XCTAssertTrue(FileManager.default.fileExists(atPath: page))

        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: chromium)
        browser.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(folder)/chromium",
                             "--virtual-time-budget=10000", "--dump-dom", "file://" + page]
        let dom = Pipe()
        browser.standardOutput = dom
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        let data = dom.fileHandleForReading.readDataToEndOfFile()
        browser.waitUntilExit()
        let html = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(html.contains("data-images-state=\"all-loaded\""), String(html.prefix(400)))
        for id in ["bigbuckbunny", "bikes", "carphone-pristine"] {
            XCTAssertTrue(html.contains("data-title-id=\"\(id)\""), "\(id) is on the page")
        }
        let loaded = html.range(of: "data-images-loaded=\"(\\d+)/(\\d+)\"", options: .regularExpression).map { String(html[$0]) } ?? ""
        XCTAssertFalse(loaded.hasPrefix("data-images-loaded=\"0/"), "some images are on the page: \(loaded)")
    }
}
