// Shots and the transitions between them, in frames and seconds.

/// How one shot gives way to the next.
public struct Transition: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// An abrupt change between two consecutive frames.
        case cut
        /// A fade, dissolve or wipe spread over several frames.
        case gradual
    }

    public var kind: Kind
    /// First and last frame (inclusive) judged to belong to the transition.
    public var startFrame: Int
    public var endFrame: Int
    /// endFrame - startFrame + 1
    public var frames: Int { endFrame - startFrame + 1 }

    public init(kind: Kind, startFrame: Int, endFrame: Int) {
        self.kind = kind
        self.startFrame = startFrame
        self.endFrame = endFrame
    }
}

/// One shot: an inclusive range of frames, as the reference's predictions_to_scenes gives it.
public struct Shot: Sendable, Equatable {
    public var startFrame: Int
    public var endFrame: Int
    /// Presentation time of the first frame, seconds from the start of the stream.
    public var start: Double
    /// When the last frame stops being shown: its presentation time plus one frame duration.
    public var end: Double
    /// The transition this shot begins with; nil for the first shot of a title that does not
    /// open with one.
    public var transition: Transition?

    public init(startFrame: Int, endFrame: Int, start: Double, end: Double, transition: Transition?) {
        self.startFrame = startFrame
        self.endFrame = endFrame
        self.start = start
        self.end = end
        self.transition = transition
    }
}
