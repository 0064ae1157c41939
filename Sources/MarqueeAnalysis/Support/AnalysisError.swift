/// A title that could not be analysed, named with the reason in one sentence.
public struct AnalysisError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)." }
}
