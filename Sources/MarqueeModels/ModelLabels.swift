import Foundation

/// Class names shipped beside converted weights, one per line in class-index order.
public enum ModelLabels {
    public static func read(path: String, expectedCount: Int) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError(path: path, message: "cannot read the labels file")
        }
        let labels = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0) }.filter { !$0.isEmpty }
        guard labels.count == expectedCount else {
            throw ModelError(path: path, message: "the labels file has \(labels.count) labels, expected \(expectedCount)")
        }
        return labels
    }
}

/// A model file that cannot be used, named with the reason.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)." }
}
