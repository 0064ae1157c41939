import CFFmpeg
import Foundation

/// A requested output size in pixels (display orientation: rotation is applied).
public struct FrameSize: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
    public var description: String { "\(width)x\(height)" }
}

/// Which frames a request wants.
public enum FrameSelection: Sendable, Equatable {
    /// Every decoded frame.
    case everyFrame
    /// The first frame at or after 0, s, 2s, 3s, … seconds.
    case every(seconds: Double)
    /// The first frame at or after each time (seconds from the start), as `ffmpeg -ss T` picks.
    case at(times: [Double])
}

/// One output of a decode: frames converted to RGB at `size`, for the frames `selection` picks.
public struct FrameRequest: Sendable, Equatable {
    public var size: FrameSize
    public var selection: FrameSelection
    public init(size: FrameSize, selection: FrameSelection) {
        self.size = size
        self.selection = selection
    }
}

/// A decoded video frame with one RGB image per request that selected it.
public struct VideoFrame: Sendable {
    /// 0-based position in decode order from the start of the stream. After a seek (only
    /// `.at(times:)` requests) it is computed from the time and the average frame rate.
    public var index: Int
    /// Presentation time in seconds from the start of the stream.
    public var time: Double
    /// `images[i]` belongs to `requests[i]`; nil where that request did not select this frame.
    public var images: [RGBImage?]
}

/// Decodes one video stream once and converts the selected frames to RGB at several sizes.
///
/// Memory stays constant: frames are delivered one at a time and nothing is kept.
public final class VideoDecoder {
    public let info: MediaInfo
    public let stream: StreamInfo
    public let requests: [FrameRequest]

    /// Frames decoded so far (selected or not).
    public private(set) var framesDecoded = 0
    /// Set at the end of the stream when the file ended early or had damaged packets:
    /// everything decodable was delivered, and this says what was missing.
    public private(set) var damage: MediaError?

    private let file: InputFile
    private let reader: FrameReader
    private let scalers: [Scaler]
    private let clockwiseRotation: Int
    private let frameRate: Double
    private var nextEvery: [Double]
    private var pendingTimes: [[Double]]
    private let seeks: Bool
    /// Streaming decodes run the decoder on its own thread; seeking ones stay on the caller's.
    private var prefetcher: FramePrefetcher?
    private var seekedIndex = false
    /// The request whose frames `bands` scales across on the decoding threads.
    private let bandRequest: Int?
    private let bands: BandScaler?
    /// Frames converted from lines scaled across while they decoded (the tests check it).
    private(set) var framesScaledFromBands = 0
    private var lastSeekTarget: Double?

    /// Decoding a title takes longer than the open timeout; reads still may not stall.
    private static let readTimeout = 60.0

    /// threads: libavcodec's frame threads; by default one per core. (libavcodec's own
    /// choice, 0, is one more than the cores: on two cores that decodes 1080p H.264 about 5%
    /// slower beside the thread that converts the frames.)
    public init(path: String, requests: [FrameRequest], streamIndex: Int? = nil,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        file = try InputFile(path: path)
        info = MediaInfo(file: file)
        let index = try file.streamIndex(of: .video, preferred: streamIndex)
        stream = info.streams[index]
        self.requests = requests
        let turns = Int((-(stream.rotation ?? 0)).rounded())
        clockwiseRotation = ((turns % 360) + 360) % 360
        let swapsAxes = clockwiseRotation == 90 || clockwiseRotation == 270
        let scalers = requests.map {
            swapsAxes ? Scaler(width: $0.size.height, height: $0.size.width) : Scaler(width: $0.size.width, height: $0.size.height)
        }
        self.scalers = scalers
        frameRate = stream.frameRate ?? 25
        nextEvery = requests.map { _ in 0 }
        pendingTimes = requests.map {
            if case let .at(times) = $0.selection { return times.sorted() }
            return []
        }
        seeks = !requests.isEmpty && requests.allSatisfy {
            if case .at = $0.selection { return true }
            return false
        }
        // A request for every frame of a whole decode has its frames scaled across while they decode.
        let bandRequest = seeks ? nil : requests.firstIndex { $0.selection == .everyFrame }
        let parameters = file.stream(index).pointee.codecpar.pointee
        let bandSize = bandRequest.map { (scalers[$0].width, scalers[$0].height) }
        bands = bandSize.flatMap { BandScaler(stream: parameters, width: $0.0, height: $0.1) }
        self.bandRequest = bandRequest
        let decoder = try Decoder(file: file, streamIndex: index, threads: threads, bands: bands)
        reader = FrameReader(file: file, decoder: decoder, streamIndex: index)
        if !seeks { prefetcher = FramePrefetcher(reader: reader, readTimeout: Self.readTimeout) }
        for request in requests {
            guard request.size.width > 0, request.size.height > 0, request.size.width <= 16384, request.size.height <= 16384 else {
                throw MediaError(path: path, reason: .other("the requested frame size \(request.size) is not usable"))
            }
            if case let .every(seconds) = request.selection, !(seconds > 0) {
                throw MediaError(path: path, reason: .other("the frame interval must be positive"))
            }
        }
    }

    // The decoding thread holds its prefetcher until it stops, so it is stopped here.
    deinit { prefetcher?.cancel() }

    /// The next frame some request selected, or nil at the end of the stream.
    public func next() throws -> VideoFrame? {
        while true {
            if seeks, let target = nextPendingTime() {
                try seekIfFar(to: target)
            } else if seeks {
                return nil
            }
            guard let (frame, seconds) = try nextDecodedFrame() else {
                noteDamage()
                return nil
            }
            let decodedIndex = framesDecoded
            framesDecoded += 1
            let time = seconds ?? Double(decodedIndex) / frameRate
            let index = seekedIndex ? Int((time * frameRate).rounded()) : decodedIndex
            var images: [RGBImage?] = Array(repeating: nil, count: requests.count)
            var anySelected = false
            let band = bands?.take(frame.pointer)
            defer { if let band { bands?.release(band.slot) } }
            for i in requests.indices where selects(request: i, time: time) {
                let scaledAcross = i == bandRequest && band?.usable == true ? band?.slot.lines : nil
                if scaledAcross != nil { framesScaledFromBands += 1 }
                var image = try scalers[i].convert(frame.pointer, path: file.path, scaledAcross: scaledAcross)
                if clockwiseRotation != 0 { image = image.rotated(clockwiseDegrees: clockwiseRotation) }
                images[i] = image
                anySelected = true
            }
            if anySelected { return VideoFrame(index: index, time: time, images: images) }
        }
    }

    private func nextDecodedFrame() throws -> (Frame, Double?)? {
        if let prefetcher {
            guard let item = try prefetcher.next() else { return nil }
            return (item.frame, item.seconds)
        }
        file.extendDeadline(seconds: Self.readTimeout)
        guard try reader.nextFrame() else { return nil }
        return (reader.frame, reader.frameSeconds)
    }

    /// Half a millisecond of slack: container timestamps are rounded.
    private static let epsilon = 0.0005

    private func selects(request i: Int, time: Double) -> Bool {
        switch requests[i].selection {
        case .everyFrame:
            return true
        case let .every(seconds):
            guard time + Self.epsilon >= nextEvery[i] else { return false }
            while nextEvery[i] <= time + Self.epsilon { nextEvery[i] += seconds }
            return true
        case .at:
            var hit = false
            while let first = pendingTimes[i].first, time + Self.epsilon >= first {
                pendingTimes[i].removeFirst()
                hit = true
            }
            return hit
        }
    }

    private var lastTime: Double? { framesDecoded > 0 ? reader.frameSeconds : nil }

    private func nextPendingTime() -> Double? {
        pendingTimes.compactMap(\.first).min()
    }

    /// Seeks when the target is more than two seconds ahead of (or behind) the decoder, once
    /// per target: the seek lands on the keyframe before it, which may itself be two seconds
    /// or more earlier, and from there the decoder reads forward.
    private func seekIfFar(to target: Double) throws {
        if target == lastSeekTarget { return }
        if let current = lastTime, target >= current, target - current < 2 { return }
        if framesDecoded == 0 && target < 2 { return }
        try reader.seek(toSeconds: max(0, target))
        lastSeekTarget = target
        seekedIndex = true
    }

    private func noteDamage() {
        if let readError = reader.readError {
            damage = MediaError(path: file.path, reason: .truncated(detail: "decoding stopped after \(framesDecoded) frames: \(readErrorText(readError))"))
        } else if !seeks, let declared = stream.frameCount, framesDecoded < declared {
            damage = MediaError(path: file.path, reason: .truncated(detail: "decoded \(framesDecoded) of \(declared) frames"))
        } else if reader.decodeErrors > 0 {
            damage = MediaError(path: file.path, reason: .truncated(detail: "\(reader.decodeErrors) damaged packets were skipped"))
        }
    }

    private func readErrorText(_ error: MediaError) -> String {
        if case let .ffmpeg(_, _, text) = error.reason { return text }
        return error.description
    }
}
