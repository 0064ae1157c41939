// Loudness per EBU R 128 / ITU-R BS.1770-4 and EBU Tech 3342, measured as FFmpeg's `ebur128`
// filter measures it (`ffmpeg -af ebur128=peak=true`), so the two can be compared:
//
// - input at 48 kHz (FFmpeg's filter only takes 48 kHz; decode with that rate);
// - K-weighting: the BS.1770 shelving pre-filter and RLB high-pass, designed for the sample
//   rate from their analogue parameters (as libebur128 and FFmpeg do), in double precision;
// - channel weights: LFE 0, back and side surrounds 1.41 (+1.5 dB), every other channel 1;
// - momentary blocks of 400 ms every 100 ms, once 400 ms have been seen (no partial blocks);
//   integrated loudness gates them at −70 LUFS, then 10 LU below the mean of what passed;
// - loudness range: 3-second short-term blocks every 100 ms, gated at −70 LUFS and 20 LU
//   below their mean, from the 10th to the 95th percentile (FFmpeg's rounding of the ranks);
// - true peak: every channel upsampled four times (a Kaiser-windowed sinc, 16 taps per
//   phase), the largest absolute value in dBTP.
//
// FFmpeg keeps the gated energies in a histogram of 0.01 LU bins; exact sums here differ from
// it by less than that.

import Foundation

public struct Loudness: Equatable, Sendable {
    /// Integrated loudness in LUFS; nil when no block passes the absolute gate (silence, or
    /// less than 400 ms of audio).
    public var integratedLUFS: Double?
    /// Loudness range in LU; nil when no short-term block (3 s) passes the gates.
    public var rangeLU: Double?
    /// Largest four-times-oversampled absolute value in dBTP; nil for digital silence.
    public var truePeakDBTP: Double?
    /// Largest absolute sample value in dBFS; nil for digital silence.
    public var samplePeakDBFS: Double?
    /// Share of the 400 ms momentary blocks quieter than the silence threshold (1 when the
    /// audio is shorter than one block and silent, 0 when shorter and not).
    public var silentShare: Double
    /// Seconds of audio measured.
    public var duration: Double
}

public final class LoudnessMeter {
    public static let absoluteGate = -70.0
    /// Momentary loudness below which a block counts as silent.
    public let silenceThreshold: Double
    public let sampleRate: Int
    public let channelNames: [String]
    let weights: [Double]

    private var filters: [KWeighting]
    private var upsamplers: [TruePeakUpsampler]
    /// Per channel: the K-weighted squares of the current 100 ms step.
    private var stepSums: [Double]
    private var stepFill = 0
    private let stepLength: Int
    /// Weighted energy sums of every completed 100 ms step (the blocks are sums of 4 or 30).
    private var steps: [Double] = []
    private var samplePeak: Float = 0
    private var frames = 0
    private var lastStepSamples = 0

    /// - channelNames: FFmpeg's names of the interleaved channels ("FL", "LFE", "BL", …).
    public init(sampleRate: Int = 48000, channelNames: [String], silenceThreshold: Double = -60) {
        self.sampleRate = sampleRate
        self.channelNames = channelNames
        self.silenceThreshold = silenceThreshold
        weights = channelNames.map(Self.weight)
        filters = channelNames.map { _ in KWeighting(sampleRate: Double(sampleRate)) }
        upsamplers = channelNames.map { _ in TruePeakUpsampler() }
        stepSums = [Double](repeating: 0, count: channelNames.count)
        stepLength = max(1, sampleRate / 10)
    }

    /// BS.1770's channel weight for an FFmpeg channel name.
    static func weight(_ name: String) -> Double {
        switch name {
        case "LFE", "LFE2": return 0
        case "BL", "BR", "BC", "SL", "SR", "TBL", "TBC", "TBR", "SDL", "SDR": return 1.41
        default: return 1
        }
    }

    /// Adds interleaved samples (frames × channels).
    public func add(_ interleaved: [Float]) {
        let channels = channelNames.count
        guard channels > 0 else { return }
        let count = interleaved.count / channels
        interleaved.withUnsafeBufferPointer { p in
            for i in 0..<count {
                for c in 0..<channels {
                    let x = p[i * channels + c]
                    samplePeak = max(samplePeak, abs(x.isFinite ? x : 0))
                    let y = filters[c].process(Double(x.isFinite ? x : 0))
                    stepSums[c] += y * y
                }
                stepFill += 1
                if stepFill == stepLength { closeStep() }
            }
            for c in 0..<channels {
                upsamplers[c].add(p.baseAddress! + c, count: count, stride: channels)
            }
        }
        frames += count
    }

    private func closeStep() {
        var sum = 0.0
        for c in 0..<stepSums.count {
            sum += weights[c] * stepSums[c]
            stepSums[c] = 0
        }
        steps.append(sum)
        stepFill = 0
    }

    static func loudness(_ power: Double) -> Double { -0.691 + 10 * log10(power) }

    /// Mean powers of blocks of `length` steps, one per step once `length` steps exist.
    private func blockPowers(length: Int) -> [Double] {
        guard steps.count >= length else { return [] }
        let samples = Double(length * stepLength)
        var result: [Double] = []
        result.reserveCapacity(steps.count - length + 1)
        var running = steps[0..<length].reduce(0, +)
        result.append(1e-12 + running / samples)
        for i in length..<steps.count {
            running += steps[i] - steps[i - length]
            result.append(1e-12 + max(running, 0) / samples)
        }
        return result
    }

    public func result() -> Loudness {
        let momentary = blockPowers(length: 4)
        // Integrated: absolute gate, then relative gate 10 LU below the mean kept power.
        let kept = momentary.filter { Self.loudness($0) >= Self.absoluteGate }
        var integrated: Double?
        if !kept.isEmpty {
            let relative = Self.loudness(kept.reduce(0, +) / Double(kept.count)) - 10
            let gated = kept.filter { Self.loudness($0) >= relative }
            if !gated.isEmpty { integrated = Self.loudness(gated.reduce(0, +) / Double(gated.count)) }
        }
        // Range: short-term blocks, gated at −70 LUFS and 20 LU below their mean power.
        let shortTerm = blockPowers(length: 30).filter { Self.loudness($0) >= Self.absoluteGate }
        var range: Double?
        if !shortTerm.isEmpty {
            let relative = Self.loudness(shortTerm.reduce(0, +) / Double(shortTerm.count)) - 20
            let values = shortTerm.map(Self.loudness).filter { $0 >= relative }.sorted()
            if !values.isEmpty {
                let n = Double(values.count)
                let low = max(0, Int(0.10 * n + 0.5) - 1)
                let high = min(values.count - 1, max(0, Int(0.95 * n + 0.5) - 1))
                range = max(0, values[high] - values[low])
            }
        }
        var truePeak = samplePeak
        for c in upsamplers.indices { truePeak = max(truePeak, upsamplers[c].finish()) }
        let silentBlocks = momentary.filter { Self.loudness($0) < silenceThreshold }.count
        let silentShare: Double
        if momentary.isEmpty {
            silentShare = samplePeak == 0 ? 1 : 0
        } else {
            silentShare = Double(silentBlocks) / Double(momentary.count)
        }
        return Loudness(
            integratedLUFS: integrated, rangeLU: range,
            truePeakDBTP: truePeak > 0 ? 20 * log10(Double(truePeak)) : nil,
            samplePeakDBFS: samplePeak > 0 ? 20 * log10(Double(samplePeak)) : nil,
            silentShare: silentShare, duration: Double(frames) / Double(sampleRate))
    }
}

/// BS.1770's K-weighting: a high-shelf pre-filter then the RLB high-pass, two biquads in
/// direct form I, with coefficients designed for the sample rate (libebur128's formulas).
struct KWeighting {
    var b0, b1, b2, a1, a2: Double      // pre-filter
    var c1, c2: Double                  // RLB (numerator 1, −2, 1)
    var x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0, z1 = 0.0, z2 = 0.0

    init(sampleRate: Double) {
        var f0 = 1681.974450955533
        let g = 3.999843853973347
        var q = 0.7071752369554196
        var k = tan(Double.pi * f0 / sampleRate)
        let vh = pow(10, g / 20), vb = pow(vh, 0.4996667741545416)
        let a0 = 1 + k / q + k * k
        b0 = (vh + vb * k / q + k * k) / a0
        b1 = 2 * (k * k - vh) / a0
        b2 = (vh - vb * k / q + k * k) / a0
        a1 = 2 * (k * k - 1) / a0
        a2 = (1 - k / q + k * k) / a0
        f0 = 38.13547087602444
        q = 0.5003270373238773
        k = tan(Double.pi * f0 / sampleRate)
        let r0 = 1 + k / q + k * k
        c1 = 2 * (k * k - 1) / r0
        c2 = (1 - k / q + k * k) / r0
    }

    mutating func process(_ x: Double) -> Double {
        let y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2 = x1; x1 = x
        let z = y - 2 * y1 + y2 - c1 * z1 - c2 * z2
        y2 = y1; y1 = y
        z2 = z1; z1 = z
        return z
    }
}

/// Four-times oversampling of one channel for the true peak: the three in-between phases of
/// a Kaiser-windowed sinc (β 9, 16 taps per phase), largest absolute value kept.
struct TruePeakUpsampler {
    static let halfWidth = 8
    /// taps[k] holds phases 1, 2, 3 (and a zero) for input x[n - k + halfWidth].
    static let taps: [SIMD4<Float>] = {
        func bessel0(_ x: Double) -> Double {
            var sum = 1.0, term = 1.0
            for k in 1..<30 { term *= (x / (2 * Double(k))) * (x / (2 * Double(k))); sum += term }
            return sum
        }
        let beta = 9.0, width = Double(halfWidth)
        return (0..<(2 * halfWidth)).map { k in
            var v = SIMD4<Float>(repeating: 0)
            for p in 1...3 {
                // Output at time n + p/4 (in input samples) from input n + halfWidth − k.
                let u = Double(p) / 4 + Double(k - halfWidth)
                let sinc = u == 0 ? 1 : sin(Double.pi * u) / (Double.pi * u)
                let r = u / width
                let window = abs(r) >= 1 ? 0 : bessel0(beta * (1 - r * r).squareRoot()) / bessel0(beta)
                v[p - 1] = Float(sinc * window)
            }
            return v
        }
    }()

    /// The last 2·halfWidth − 1 samples, oldest first, then the new ones.
    private var history = [Float](repeating: 0, count: 2 * halfWidth - 1)
    private var peak: Float = 0

    mutating func add(_ samples: UnsafePointer<Float>, count: Int, stride: Int) {
        let keep = history.count
        var buffer = history
        buffer.reserveCapacity(keep + count)
        for i in 0..<count {
            let x = samples[i * stride]
            buffer.append(x.isFinite ? x : 0)
        }
        let taps = Self.taps
        var peakVector = SIMD4<Float>(repeating: 0)
        buffer.withUnsafeBufferPointer { b in
            taps.withUnsafeBufferPointer { t in
                // Window ending at b[end]: outputs between b[end − halfWidth] and the next sample.
                for end in keep..<b.count {
                    var acc = SIMD4<Float>(repeating: 0)
                    let base = end - (2 * Self.halfWidth - 1)
                    for k in 0..<(2 * Self.halfWidth) {
                        acc += t[k] * SIMD4(repeating: b[base + (2 * Self.halfWidth - 1 - k)])
                    }
                    peakVector = pointwiseMax(peakVector, pointwiseMax(acc, -acc))
                }
            }
        }
        peak = max(peak, peakVector.max())
        history = Array(buffer.suffix(keep))
    }

    /// Runs the filter past the last sample (zeros) and returns the peak.
    mutating func finish() -> Float {
        let zeros = [Float](repeating: 0, count: Self.halfWidth)
        zeros.withUnsafeBufferPointer { add($0.baseAddress!, count: Self.halfWidth, stride: 1) }
        return peak
    }
}
