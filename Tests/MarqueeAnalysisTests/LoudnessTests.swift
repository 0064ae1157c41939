import Foundation
import MarqueeAnalysis
import XCTest

/// Loudness against `ffmpeg -af ebur128=peak=true` (read with three decimals from the
/// filter's metadata) on the sample media, the fixtures, and generated tones at known levels.
final class LoudnessTests: XCTestCase {
    static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-loudness-\(getpid())")

    struct Reference { var integrated: Double; var range: Double; var truePeak: Double }

    @discardableResult
    static func run(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw NSError(domain: "tool \(arguments) failed", code: 1) }
        return data
    }

    /// FFmpeg's final integrated loudness, loudness range and largest per-channel true peak.
    static func ffmpeg(_ path: String) throws -> Reference {
        let log = scratch.appendingPathComponent("ebur128-\(UUID().uuidString).txt").path
        try run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0",
                 "-af", "ebur128=peak=true:metadata=1,ametadata=mode=print:file=\(log)", "-f", "null", "-"])
        let text = try String(contentsOfFile: log, encoding: .utf8)
        var last: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            last[String(parts[0])] = value
        }
        let peaks = last.filter { $0.key.hasPrefix("lavfi.r128.true_peaks_ch") }.map { 20 * log10(max($0.value, 1e-20)) }
        return Reference(integrated: last["lavfi.r128.I"] ?? .nan, range: last["lavfi.r128.LRA"] ?? .nan,
                         truePeak: peaks.max() ?? .nan)
    }

    override class func setUp() {
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// A generated WAV (pcm_f32le): `expression` of t per channel.
    static func generate(_ name: String, seconds: Double, channels: [String], layout: String) throws -> String {
        let path = scratch.appendingPathComponent(name).path
        try run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                 "aevalsrc=\(channels.joined(separator: "|")):s=48000:d=\(seconds):c=\(layout)",
                 "-c:a", "pcm_f32le", path])
        return path
    }

    @discardableResult
    func check(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> (Loudness, Reference) {
        let ours = try AudioTagger.loudness(.detect(path: path, stream: nil))
        let theirs = try Self.ffmpeg(path)
        let name = (path as NSString).lastPathComponent
        print(String(format: "%@: I %.3f vs %.3f LUFS, LRA %.3f vs %.3f LU, TP %.3f vs %.3f dBTP", name,
                     ours.integratedLUFS ?? .nan, theirs.integrated, ours.rangeLU ?? .nan, theirs.range,
                     ours.truePeakDBTP ?? .nan, theirs.truePeak))
        XCTAssertEqual(ours.integratedLUFS ?? .nan, theirs.integrated, accuracy: 0.1, "\(name) integrated", file: file, line: line)
        // Under 3.5 s there are fewer than 5 short-term blocks, and FFmpeg's rank rounding
        // (int(0.1 n + 0.5) = 0) takes the relative gate itself as the low end: it reads 20 LU
        // where Tech 3342's percentiles of one steady block give 0.
        if ours.duration >= 3.5 {
            XCTAssertEqual(ours.rangeLU ?? 0, theirs.range, accuracy: 0.1, "\(name) range", file: file, line: line)
        }
        XCTAssertEqual(ours.truePeakDBTP ?? .nan, theirs.truePeak, accuracy: 0.3, "\(name) true peak", file: file, line: line)
        return (ours, theirs)
    }

    func testSampleMediaMatchFFmpeg() throws {
        for name in ["test.mp4", "bigbuckbunny.mp4"] {
            try check(TestFiles.root.appendingPathComponent("Media/samples/\(name)").path)
        }
    }

    func testFixturesMatchFFmpeg() throws {
        for name in ["tone_440.wav", "stereo_tones.wav", "surround51.wav", "surround51.mp4", "audio_only.m4a"] {
            try check(TestFiles.root.appendingPathComponent("Media/fixtures/\(name)").path)
        }
    }

    /// EBU Tech 3341's first case: a 1 kHz sine at −23 dBFS in both channels reads −23 LUFS.
    func testStereoSineAtMinus23dBFSReadsMinus23LUFS() throws {
        let a = pow(10, -23.0 / 20)
        let path = try Self.generate("sine-23.wav", seconds: 20, channels: Array(repeating: "\(a)*sin(2*PI*1000*t)", count: 2),
                                     layout: "stereo")
        let (ours, _) = try check(path)
        XCTAssertEqual(ours.integratedLUFS ?? .nan, -23, accuracy: 0.1)
        XCTAssertEqual(ours.truePeakDBTP ?? .nan, -23, accuracy: 0.3)
        XCTAssertEqual(ours.silentShare, 0)
    }

    /// EBU Tech 3342's first case: 20 s at −20 dBFS then 20 s at −30 dBFS has a range of 10 LU.
    func testLevelStepGivesTenLURange() throws {
        let expression = "if(lt(t\\,20)\\,0.1\\,0.0316227766)*sin(2*PI*1000*t)"
        let path = try Self.generate("step.wav", seconds: 40, channels: [expression, expression], layout: "stereo")
        let (ours, _) = try check(path)
        XCTAssertEqual(ours.rangeLU ?? .nan, 10, accuracy: 0.1)
    }

    /// 5.1 weights: the LFE is left out, the surrounds count 1.41 times.
    func testSurroundChannelWeights() throws {
        let a = pow(10, -23.0 / 20)
        let tone = "\(a)*sin(2*PI*1000*t)"
        let path = try Self.generate("surround.wav", seconds: 10, channels: ["0", "0", "0", tone, tone, "0"], layout: "5.1")
        let (ours, _) = try check(path)
        // One LFE (weight 0) and one back-left (1.41) tone at −23 dBFS: −23 − 3.01 + 1.49.
        XCTAssertEqual(ours.integratedLUFS ?? .nan, -23 + 10 * log10(1.41 / 2), accuracy: 0.1)
    }

    func testSilenceHasNoLoudnessAndIsAllSilent() throws {
        let loudness = try AudioTagger.loudness(.detect(path: TestFiles.root.appendingPathComponent("Media/fixtures/silence.wav").path, stream: nil))
        XCTAssertNil(loudness.integratedLUFS)
        XCTAssertNil(loudness.truePeakDBTP)
        XCTAssertEqual(loudness.silentShare, 1)
        XCTAssertEqual(loudness.duration, 2, accuracy: 0.01)
    }

    func testHalfSecondHasOneBlock() throws {
        let path = try Self.generate("half.wav", seconds: 0.5, channels: ["0.1*sin(2*PI*1000*t)"], layout: "mono")
        let loudness = try AudioTagger.loudness(.detect(path: path, stream: nil))
        let reference = try Self.ffmpeg(path)
        XCTAssertEqual(loudness.integratedLUFS ?? .nan, reference.integrated, accuracy: 0.1)
        XCTAssertNil(loudness.rangeLU)
    }
}
