import Foundation

/// Runs the `marquee` executable built beside this test bundle, with a time limit.
enum MarqueeProcess {
    struct Result {
        var status: Int32
        var reason: Process.TerminationReason
        var stdout: Data
        var stderr: String
        var timedOut: Bool
    }

    static var executable: URL {
        var folder = Bundle(for: Marker.self).bundleURL
        while folder.pathExtension == "xctest" || folder.lastPathComponent == "Contents" { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("marquee")
    }

    private final class Marker {}

    static func run(_ arguments: [String], timeout: TimeInterval = 120) throws -> Result {
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: logs) }
        let outURL = logs.appendingPathComponent("stdout"), errURL = logs.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        let timedOut = process.isRunning
        if timedOut { process.terminate() }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, reason: process.terminationReason,
                      stdout: (try? Data(contentsOf: outURL)) ?? Data(),
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "", timedOut: timedOut)
    }
}
