import Foundation

/// Where the tests find the repository's files: sample media and fixtures (`make media`) and
/// converted models (`make models`).
enum TestFiles {
    /// The repository root (this file is Tests/MarqueeAnalysisTests/TestFiles.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The full path of a media file given relative to the root; a missing file is an error
    /// that says which make target provides it.
    static func media(_ path: String) throws -> String {
        let full = root.appendingPathComponent(path).path
        guard FileManager.default.fileExists(atPath: full) else { throw TestError("\(full) is missing: run `make media` first") }
        return full
    }
}
