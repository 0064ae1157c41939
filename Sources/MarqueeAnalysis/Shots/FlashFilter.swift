// Flashes are not cuts.
//
// A photographer's strobe, lightning or a muzzle flash brightens a few frames and the picture
// comes back unchanged; TransNetV2 (and so the reference) can fire a boundary on it. This
// filter keeps the last frames at 48x27 and, for every boundary whose single-frame run is
// short, compares the frames just before the run with the frames just after it: when a pair
// is nearly identical and shows something (not black, not a flat card, which fades through
// black would match), the picture came back and the boundary is dropped, joining the two
// scenes. On test.mp4 the closest pair across any of the reference's 107 boundaries differs by
// 19 levels (mean absolute difference per byte); across the flash of Media/fixtures/shots.mp4, 4.
//
// A shot is held back only until the boundary after it has been judged, a few frames after
// the boundary's single-frame run ends.

public struct FlashFilter: Sendable {
    /// Frames before a boundary's run compared with frames after it.
    public static let framesBefore = 8
    public static let framesAfter = 3
    /// Single-frame runs longer than this are transitions, never flashes.
    public static let longestFlashRun = 4
    /// Mean absolute difference per byte at or below which two frames show the same picture.
    public static let samePicture: Float = 8
    /// Luma standard deviation below which a frame is black or flat: no evidence either way.
    public static let flatFrame: Float = 8

    /// Frames kept: predictions trail decoding by at most 100 frames (one window).
    static let ringFrames = 160
    private let frameBytes: Int
    private var ring: [UInt8]
    private var recorded = 0

    private var held: Shot?
    /// The boundary after `held` was judged a flash: the next scene joins it.
    private var joinNext = false

    public init(frameBytes: Int) {
        self.frameBytes = frameBytes
        ring = [UInt8](repeating: 0, count: Self.ringFrames * frameBytes)
    }

    /// Keeps the next decoded frame (RGB24, `frameBytes` long).
    public mutating func record(_ frame: UnsafeBufferPointer<UInt8>) {
        precondition(frame.count == frameBytes, "flash filter: frame of \(frame.count) bytes, expected \(frameBytes)")
        let offset = (recorded % Self.ringFrames) * frameBytes
        ring.withUnsafeMutableBufferPointer { ring in
            for i in 0..<frameBytes { ring[offset + i] = frame[i] }
        }
        recorded += 1
    }

    /// The first frame of the shot held back, if any.
    public var heldStartFrame: Int? { held?.startFrame }

    /// A shot the segmenter closed; returns the shot before it once that one is final.
    public mutating func add(_ shot: Shot) -> Shot? {
        guard let previous = held else {
            held = shot
            return nil
        }
        if joinNext {
            joinNext = false
            held = Shot(startFrame: previous.startFrame, endFrame: shot.endFrame, start: previous.start, end: shot.end,
                        transition: previous.transition)
            return nil
        }
        held = shot
        return previous
    }

    /// The shot after the last one added starts at `start`: judges the boundary between them
    /// and returns the held shot when the boundary is real (a flash keeps it, to be joined).
    public mutating func nextSceneStarts(at start: Int) -> Shot? {
        guard let previous = held else { return nil }
        if isFlash(runStart: previous.endFrame, nextStart: start) {
            joinNext = true
            return nil
        }
        held = nil
        return previous
    }

    /// The last shot (from the segmenter's finish), then whatever is still held.
    public mutating func finish(_ last: Shot?) -> [Shot] {
        var shots: [Shot] = []
        if let last, let final = add(last) { shots.append(final) }
        if let held { shots.append(held) }
        held = nil
        return shots
    }

    /// Whether the picture before the run [runStart, nextStart) comes back right after it.
    func isFlash(runStart: Int, nextStart: Int) -> Bool {
        guard nextStart > runStart, nextStart - runStart <= Self.longestFlashRun else { return false }
        let before = max(0, runStart - Self.framesBefore)..<runStart
        let after = nextStart..<min(recorded, nextStart + Self.framesAfter)
        guard !before.isEmpty, !after.isEmpty, before.lowerBound >= recorded - Self.ringFrames else { return false }
        return ring.withUnsafeBufferPointer { ring in
            func frame(_ index: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: ring[((index % Self.ringFrames) * frameBytes)..<((index % Self.ringFrames + 1) * frameBytes)])
            }
            let shown = { (index: Int) in Self.lumaDeviation(frame(index)) > Self.flatFrame }
            for a in before where shown(a) {
                for b in after where shown(b) {
                    if Self.meanAbsoluteDifference(frame(a), frame(b)) <= Self.samePicture { return true }
                }
            }
            return false
        }
    }

    static func meanAbsoluteDifference(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Float {
        var sum = 0
        for i in 0..<a.count { sum += abs(Int(a[i]) - Int(b[i])) }
        return Float(sum) / Float(max(a.count, 1))
    }

    /// Standard deviation of BT.601 luma over an RGB24 frame.
    static func lumaDeviation(_ rgb: UnsafeBufferPointer<UInt8>) -> Float {
        let pixels = rgb.count / 3
        guard pixels > 0 else { return 0 }
        var sum = 0.0, squares = 0.0
        for p in 0..<pixels {
            let y = 0.299 * Double(rgb[3 * p]) + 0.587 * Double(rgb[3 * p + 1]) + 0.114 * Double(rgb[3 * p + 2])
            sum += y
            squares += y * y
        }
        let mean = sum / Double(pixels)
        return Float(max(0, squares / Double(pixels) - mean * mean).squareRoot())
    }
}
