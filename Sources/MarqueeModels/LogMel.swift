// The log-mel front end MusiCNN was trained on, matching librosa 0.11.0's
//
//     S = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96)
//     log_mel = np.log10(10000 * S + 1)          # in Float32
//
// with librosa's defaults: centered frames padded with zeros (`pad_mode="constant"`, the
// default since librosa 0.10; 0.7–0.9 reflected the signal instead), a periodic Hann window
// of 512, power 2, Slaney-style mel filters with Slaney area normalization from 0 Hz to
// 8 kHz. librosa windows Float32 frames with a float64 window and transforms in float64
// before rounding to complex64; the power, the mel product and the log are Float32. So here.
//
// Frames: a signal of L samples gives 1 + L / 256 frames (integer division); frame t covers
// samples [256 t - 256, 256 t + 256). Layout: [frames, 96], time-major.

import Foundation
import MarqueeMedia

public final class LogMel {
    public static let sampleRate = 16000
    public static let fftSize = 512
    public static let hopLength = 256
    public static let melBands = 96
    /// Bins of the one-sided spectrum (n_fft / 2 + 1).
    public static let spectrumBins = fftSize / 2 + 1

    /// One mel band's non-zero filter weights, starting at FFT bin `first`.
    struct Band {
        var first: Int
        var weights: [Float]
    }

    let bands: [Band]
    let window: [Double]
    private let fft: RealFFT
    /// Samples not yet consumed, starting at the next frame's first sample (the first frame
    /// starts 256 zeros before the signal).
    private var pending: [Float]
    private var samplesSeen = 0
    private var framesEmitted = 0
    private var power = [Float](repeating: 0, count: spectrumBins)

    public init() throws {
        fft = try RealFFT(size: Self.fftSize)
        window = (0..<Self.fftSize).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(Self.fftSize)) }
        bands = Self.melFilters(sampleRate: Self.sampleRate, fftSize: Self.fftSize, bands: Self.melBands)
        pending = [Float](repeating: 0, count: Self.fftSize / 2)
    }

    /// The mel filter bank as a dense [bands, n_fft / 2 + 1] matrix (for tests).
    public static func filterMatrix() -> [Float] {
        var m = [Float](repeating: 0, count: melBands * spectrumBins)
        for (i, band) in melFilters(sampleRate: sampleRate, fftSize: fftSize, bands: melBands).enumerated() {
            for (j, w) in band.weights.enumerated() { m[i * spectrumBins + band.first + j] = w }
        }
        return m
    }

    /// Frames a signal of `samples` samples produces.
    public static func frameCount(samples: Int) -> Int { 1 + samples / hopLength }

    /// Adds mono 16 kHz samples and appends every frame that is now complete to `frames`
    /// (96 values each).
    public func append(_ samples: [Float], into frames: inout [Float]) {
        pending.append(contentsOf: samples)
        samplesSeen += samples.count
        emitComplete(into: &frames)
    }

    /// Appends the frames that reach past the end of the signal (zero padded) and resets
    /// for a new signal.
    public func finish(into frames: inout [Float]) {
        let total = Self.frameCount(samples: samplesSeen)
        let missing = (total - framesEmitted) * Self.hopLength + Self.fftSize / 2
        pending.append(contentsOf: repeatElement(0, count: max(0, missing)))
        emitComplete(into: &frames, limit: total)
        pending = [Float](repeating: 0, count: Self.fftSize / 2)
        samplesSeen = 0
        framesEmitted = 0
    }

    /// The log-mel spectrogram of a whole signal: [frames, 96].
    public func compute(_ samples: [Float]) -> [Float] {
        var frames: [Float] = []
        frames.reserveCapacity(Self.frameCount(samples: samples.count) * Self.melBands)
        append(samples, into: &frames)
        finish(into: &frames)
        return frames
    }

    private func emitComplete(into frames: inout [Float], limit: Int = .max) {
        var start = 0
        while pending.count - start >= Self.fftSize && framesEmitted < limit {
            pending.withUnsafeBufferPointer { p in frame(p.baseAddress! + start, into: &frames) }
            start += Self.hopLength
            framesEmitted += 1
        }
        if start > 0 { pending.removeFirst(start) }
    }

    /// One frame of 512 samples → 96 log-mel values appended to `frames`.
    private func frame(_ samples: UnsafePointer<Float>, into frames: inout [Float]) {
        let n = Self.fftSize
        fft.forward({ input in
            window.withUnsafeBufferPointer { w in
                for i in 0..<n { input[i] = w[i] * Double(samples[i]) }
            }
        }, { spectrum in
            for k in 0..<Self.spectrumBins {
                // complex128 → complex64, then |z| and the square in Float32, as numpy does.
                let re = Float(spectrum[2 * k]), im = Float(spectrum[2 * k + 1])
                // Squares of Float32 values are exact in Double: after rounding to Float32 this is hypot.
                let magnitude = Float((Double(re) * Double(re) + Double(im) * Double(im)).squareRoot())
                power[k] = magnitude * magnitude
            }
        })
        for band in bands {
            var sum: Float = 0
            for (j, w) in band.weights.enumerated() { sum += w * power[band.first + j] }
            frames.append(log10f(10000 * sum + 1))
        }
    }

    // MARK: Mel filters (librosa.filters.mel, htk=False, norm="slaney", dtype float32)

    static func hzToMel(_ f: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return f >= minLogHz ? minLogMel + log(f / minLogHz) / logStep : f / fSp
    }

    static func melToHz(_ m: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return m >= minLogMel ? minLogHz * exp(logStep * (m - minLogMel)) : fSp * m
    }

    static func melFilters(sampleRate: Int, fftSize: Int, bands: Int) -> [Band] {
        let bins = fftSize / 2 + 1
        let fftFreqs = (0..<bins).map { Double($0) * Double(sampleRate) / Double(fftSize) }
        // np.linspace(hz_to_mel(0), hz_to_mel(sr / 2), bands + 2), then back to Hz.
        let low = hzToMel(0), high = hzToMel(Double(sampleRate) / 2)
        let step = (high - low) / Double(bands + 1)
        let melF = (0..<(bands + 2)).map { i in melToHz(i == bands + 1 ? high : Double(i) * step + low) }
        var result: [Band] = []
        for i in 0..<bands {
            let lowerWidth = melF[i + 1] - melF[i], upperWidth = melF[i + 2] - melF[i + 1]
            let enorm = 2 / (melF[i + 2] - melF[i])
            var row = [Float](repeating: 0, count: bins)
            for k in 0..<bins {
                let lower = -(melF[i] - fftFreqs[k]) / lowerWidth
                let upper = (melF[i + 2] - fftFreqs[k]) / upperWidth
                // Stored as float32, then scaled in float64 and stored again (`weights *= enorm`).
                let w = Float(max(0, min(lower, upper)))
                row[k] = Float(Double(w) * enorm)
            }
            let first = row.firstIndex { $0 != 0 } ?? 0
            let last = row.lastIndex { $0 != 0 } ?? -1
            result.append(Band(first: first, weights: last >= first ? Array(row[first...last]) : []))
        }
        return result
    }
}
