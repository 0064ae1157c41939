import Foundation
import XCTest

/// Paths of the sample media (`make media`) and synthetic fixtures with their ground truth.
enum TestMedia {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func sample(_ name: String) throws -> String {
        try existing(root.appendingPathComponent("Media/samples/\(name)").path)
    }

    static func fixture(_ name: String) throws -> String {
        try existing(root.appendingPathComponent("Media/fixtures/\(name)").path)
    }

    /// The entry of Media/fixtures/truth.json for one fixture.
    static func truth(_ name: String) throws -> [String: Any] {
        let path = try fixture("truth.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let all = object as? [String: Any], let entry = all[name] as? [String: Any] else {
            throw TestMediaError("truth.json has no entry for \(name)")
        }
        return entry
    }

    private static func existing(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TestMediaError("\(path) is missing: run `make media` first")
        }
        return path
    }
}

struct TestMediaError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a reference command (ffmpeg, ffprobe) and returns its standard output.
func runTool(_ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestMediaError("\(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
    return data
}
