import Foundation
import MarqueeMedia
import MarqueeModels
import XCTest

/// The log-mel front end against librosa 0.11.0 (goldens from Models/goldens/musicnn_mtt.py),
/// on the 16 kHz mono audio of the sample media decoded as the goldens were: every channel
/// resampled by FFmpeg, then averaged (`AudioChannels.averageMono`).
final class LogMelTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let goldens = root.appendingPathComponent("Tests/MarqueeModelsTests/Goldens/musicnn_mtt")

    static func decode(_ name: String) throws -> [Float] {
        let path = root.appendingPathComponent("Media/samples/\(name).mp4").path
        return try AudioDecoder(path: path, sampleRate: 16000, channels: .averageMono).readAll().samples
    }

    static func summary(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: goldens.appendingPathComponent("summary.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let titles = try XCTUnwrap(summary["titles"] as? [String: Any])
        return try XCTUnwrap(titles[name] as? [String: Any])
    }

    /// Largest |ours − librosa| / max(|librosa|, floor) over the values, and where it is.
    static func worstRelative(_ ours: [Float], _ theirs: [Float], floor: Float) -> (Float, Int) {
        var worst: Float = 0, at = 0
        for i in 0..<min(ours.count, theirs.count) {
            let r = abs(ours[i] - theirs[i]) / max(abs(theirs[i]), floor)
            if r > worst { worst = r; at = i }
        }
        return (worst, at)
    }

    func testDecodedSamplesAreTheGoldensInput() throws {
        for name in ["test", "bigbuckbunny"] {
            let samples = try Self.decode(name)
            let entry = try Self.summary(name)
            XCTAssertEqual(samples.count, (entry["samples"] as! NSNumber).intValue, name)
            let sum = samples.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum, (entry["sample_sum"] as! NSNumber).doubleValue, accuracy: 1e-3, name)
        }
    }

    func testMatchesLibrosaOnSampleMedia() throws {
        let logMel = try LogMel()
        for name in ["test", "bigbuckbunny"] {
            let samples = try Self.decode(name)
            let ours = logMel.compute(samples)
            let entry = try Self.summary(name)
            let frames = (entry["frames"] as! NSNumber).intValue
            XCTAssertEqual(ours.count, frames * LogMel.melBands, "\(name): frame count")
            // Full frames where the goldens keep them.
            let reference = try NPYArray(path: Self.goldens.appendingPathComponent("\(name).logmel.npy").path).floats
            let (worst, at) = Self.worstRelative(Array(ours.prefix(reference.count)), reference, floor: 1e-3)
            print("log-mel \(name): \(reference.count / 96) frames, worst relative difference \(worst) at frame \(at / 96) band \(at % 96) (librosa \(reference[at]), ours \(ours[at]))")
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(name): frame \(at / 96) band \(at % 96)")
            // Every frame's sum over the 96 bands.
            let sums = try NPYArray(path: Self.goldens.appendingPathComponent("\(name).logmel_frame_sums.npy").path).floats
            var ourSums = [Float](repeating: 0, count: frames)
            for t in 0..<frames {
                var sum = 0.0
                for b in 0..<96 { sum += Double(ours[t * 96 + b]) }
                ourSums[t] = Float(sum)
            }
            let (worstSum, sumAt) = Self.worstRelative(ourSums, sums, floor: 1e-2)
            print("log-mel \(name): all \(frames) frame sums, worst relative difference \(worstSum) at frame \(sumAt)")
            XCTAssertLessThanOrEqual(worstSum, 1e-4, "\(name): frame \(sumAt)")
        }
    }

    func testStreamingInChunksGivesTheSameFrames() throws {
        let samples = (0..<20_000).map { (i: Int) -> Float in
            let t = Double(i)
            return Float(0.5 * sin(t * 0.01) + 0.1 * sin(t * 0.37))
        }
        let whole = try LogMel().compute(samples)
        let streaming = try LogMel()
        var frames: [Float] = []
        var start = 0
        for size in [1, 100, 255, 256, 257, 511, 513, 4000] where start < samples.count {
            let end = min(samples.count, start + size)
            streaming.append(Array(samples[start..<end]), into: &frames)
            start = end
        }
        streaming.append(Array(samples[start...]), into: &frames)
        streaming.finish(into: &frames)
        XCTAssertEqual(frames.count, whole.count)
        XCTAssertEqual(frames, whole)
    }

    func testFrameCountFollowsCenteredPadding() throws {
        let logMel = try LogMel()
        for count in [0, 1, 255, 256, 257, 512, 8000] {
            let out = logMel.compute([Float](repeating: 0.1, count: count))
            XCTAssertEqual(out.count / 96, 1 + count / 256, "\(count) samples")
        }
        XCTAssertEqual(logMel.compute([Float](repeating: 0, count: 1000)), [Float](repeating: 0, count: 4 * 96))
    }
}
