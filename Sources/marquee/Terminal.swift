import Foundation

/// The CLI owns stdout (results) and stderr (progress, warnings, errors).
enum Terminal {
    enum Stream { case standardOutput, standardError }

    static func write(_ text: String, to stream: Stream = .standardOutput) {
        let handle = stream == .standardOutput ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data(text.utf8))
    }

    static func error(_ message: String) { write("error: \(message)\n", to: .standardError) }
    static func warning(_ message: String) { write("warning: \(message)\n", to: .standardError) }

    /// Prints a value as pretty JSON with sorted keys on stdout.
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        write(String(decoding: data, as: UTF8.self) + "\n")
    }
}
