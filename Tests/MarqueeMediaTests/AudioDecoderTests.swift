import MarqueeMedia
import XCTest

final class AudioDecoderTests: XCTestCase {
    /// The 5.1 soundtrack downmixed to mono 16 kHz equals `ffmpeg -ac 1 -ar 16000 -f f32le`.
    func testSurroundDownmixAt16kHzMatchesFFmpeg() throws {
        let path = try TestMedia.sample("bigbuckbunny.mp4")
        let data = try runTool(["ffmpeg", "-v", "error", "-i", path, "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"])
        let reference = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let decoder = try AudioDecoder(path: path, sampleRate: 16000, chunkSeconds: 1)
        var samples: [Float] = []
        var chunks = 0
        while let chunk = try decoder.next() {
            XCTAssertLessThanOrEqual(chunk.samples.count, 16000)
            XCTAssertEqual(chunk.startTime, Double(samples.count) / 16000, accuracy: 1e-9)
            samples += chunk.samples
            chunks += 1
        }
        XCTAssertEqual(samples.count, reference.count)
        XCTAssertGreaterThan(chunks, 5)
        let worst = zip(samples, reference).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, 1e-4)
        XCTAssertGreaterThan(reference.map(abs).max() ?? 0, 0.01, "the reference must not be silence")
    }

    func testStereoDownmixMatchesFFmpeg() throws {
        let path = try TestMedia.fixture("stereo_tones.wav")
        let data = try runTool(["ffmpeg", "-v", "error", "-i", path, "-ac", "1", "-ar", "16000", "-f", "f32le", "-"])
        let reference = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        for source in [try AudioDecoder(path: path) as AudioSource, try SoundFileReader(path: path)] {
            let samples = try source.readAll().samples
            XCTAssertEqual(samples.count, reference.count)
            let worst = zip(samples, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(type(of: source))")
        }
    }

    /// `.averageMono` is librosa's to_mono: the mean of FFmpeg's resampled channels, the same
    /// from libsndfile and from libavformat.
    func testAverageMonoIsTheMeanOfTheResampledChannels() throws {
        let path = try TestMedia.fixture("stereo_tones.wav")
        let data = try runTool(["ffmpeg", "-v", "error", "-i", path, "-ar", "16000", "-c:a", "pcm_f32le", "-f", "f32le", "-"])
        let stereo = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var reference = [Float](repeating: 0, count: stereo.count / 2)
        for i in 0..<reference.count { reference[i] = (stereo[2 * i] + stereo[2 * i + 1]) / 2 }
        for source in [try AudioDecoder(path: path, channels: .averageMono) as AudioSource,
                       try SoundFileReader(path: path, channels: .averageMono)] {
            let samples = try source.readAll().samples
            XCTAssertEqual(samples.count, reference.count)
            let worst = zip(samples, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-6, "\(type(of: source))")
        }
    }

    /// `.source` keeps every channel, interleaved, with FFmpeg's channel names.
    func testSourceChannelsKeepTheLayout() throws {
        let audio = try AudioDecoder(path: TestMedia.fixture("surround51.mp4"), sampleRate: 48000, chunkSeconds: 0.5,
                                     channels: .source).readAll()
        XCTAssertEqual(audio.channels, 6)
        XCTAssertEqual(audio.channelNames, ["FL", "FR", "FC", "LFE", "BL", "BR"])
        XCTAssertEqual(audio.samples.count % 6, 0)
        XCTAssertEqual(audio.duration, 2, accuracy: 0.05)
    }

    /// A 440 Hz tone read through libsndfile keeps its pitch and amplitude in every container.
    func testToneFilesKeepFrequencyAndAmplitude() throws {
        let truth = try TestMedia.truth("tone_440.wav")
        let frequency = try XCTUnwrap((truth["frequency_hz"] as? NSNumber)?.doubleValue)
        let amplitude = try XCTUnwrap((truth["amplitude"] as? NSNumber)?.doubleValue)
        let duration = try XCTUnwrap((truth["duration"] as? NSNumber)?.doubleValue)
        for name in ["tone_440.wav", "tone_440.flac", "tone_440.ogg"] {
            let audio = try SoundFileReader(path: TestMedia.fixture(name), sampleRate: 16000).readAll()
            XCTAssertEqual(audio.duration, duration, accuracy: 0.01, name)
            // Skip the resampler's edges; the middle second holds the steady tone.
            let middle = Array(audio.samples[8000..<24000])
            let peak = Double(middle.map(abs).max() ?? 0)
            XCTAssertEqual(peak, amplitude, accuracy: 0.02, name)
            var crossings = 0
            for i in 1..<middle.count where (middle[i - 1] < 0) != (middle[i] < 0) { crossings += 1 }
            XCTAssertEqual(Double(crossings) / 2, frequency, accuracy: 2, name)
        }
    }

    func testSilenceDecodesToZeros() throws {
        let audio = try SoundFileReader(path: TestMedia.fixture("silence.wav")).readAll()
        XCTAssertEqual(audio.duration, 2, accuracy: 0.001)
        XCTAssertEqual(audio.samples.map(abs).max(), 0)
    }

    func testVideoOnlyFileHasNoAudioStream() throws {
        let path = try TestMedia.fixture("video_only.mp4")
        XCTAssertThrowsError(try AudioDecoder(path: path)) { error in
            XCTAssertEqual(error as? MediaError, MediaError(path: path, reason: .noStream(.audio)))
        }
    }

    func testSoundFileReaderRefusesAVideoWithAClearError() throws {
        let path = try TestMedia.fixture("video_only.mp4")
        XCTAssertFalse(SoundFileReader.canRead(path: path))
        XCTAssertThrowsError(try SoundFileReader(path: path)) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(path + ":"))
        }
    }
}
