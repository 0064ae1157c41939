import Foundation
import XCTest

/// Bad input through the real `marquee` executable: a non-zero exit (never a signal), one
/// `error:` line that names the file, and no hang.
final class BadInputTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func fixture(_ name: String) throws -> String {
        let path = Self.root.appendingPathComponent("Media/fixtures/\(name)").path
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path) is missing: run `make media` first") }
        return path
    }

    private func assertCleanFailure(_ arguments: [String], naming path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runMarquee(arguments)
        XCTAssertEqual(result.reason, .exit, "ended by a signal: \(arguments)", file: file, line: line)
        XCTAssertNotEqual(result.status, 0, "\(arguments)", file: file, line: line)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        XCTAssertEqual(errors.count, 1, "stderr: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(errors.first?.contains(path) ?? false, "stderr: \(result.stderr)", file: file, line: line)
    }

    func testBrokenFilesFailProbeCleanly() throws {
        for name in ["empty.mp4", "truncated.mp4", "random.mp4", "text.mkv"] {
            let path = try fixture(name)
            try assertCleanFailure(["probe", path], naming: path)
        }
    }

    func testBrokenFilesFailFrameExtractionCleanly() throws {
        for name in ["empty.mp4", "truncated.mp4", "random.mp4", "text.mkv", "truncated_faststart.mp4"] {
            let path = try fixture(name)
            try assertCleanFailure(["frames", path, "--every", "1", "--width", "64", "--out", scratch()], naming: path)
        }
    }

    func testTruncatedFileWritesTheFramesItCouldDecode() throws {
        let path = try fixture("truncated_faststart.mp4")
        let out = scratch()
        _ = try runMarquee(["frames", path, "--every", "0.5", "--width", "64", "--out", out])
        let written = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".png") }
        XCTAssertFalse(written.isEmpty)
    }

    func testMissingPathAndDirectoryFailCleanly() throws {
        let missing = Self.root.appendingPathComponent("Media/fixtures/no-such-title.mp4").path
        try assertCleanFailure(["probe", missing], naming: missing)
        let folder = Self.root.appendingPathComponent("Media/fixtures").path
        try assertCleanFailure(["probe", folder], naming: folder)
    }

    func testFramesFromAnAudioOnlyFileFailCleanly() throws {
        let path = try fixture("audio_only.m4a")
        try assertCleanFailure(["frames", path, "--every", "1", "--out", scratch()], naming: path)
    }

    func testUsageErrorsExitWithStatusTwo() throws {
        XCTAssertEqual(try runMarquee(["frames"]).status, 2)
        XCTAssertEqual(try runMarquee(["frames", "x.mp4", "--every", "0", "--out", "/tmp/x"]).status, 2)
    }

    private struct Result {
        var status: Int32
        var reason: Process.TerminationReason
        var stderr: String
    }

    private func scratch() -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-cli-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    private func runMarquee(_ arguments: [String]) throws -> Result {
        let result = try MarqueeProcess.run(arguments)
        if result.timedOut { XCTFail("marquee \(arguments.joined(separator: " ")) did not finish in time") }
        return Result(status: result.status, reason: result.reason, stderr: result.stderr)
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
