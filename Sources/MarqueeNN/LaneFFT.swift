// Real FFTs of a power-of-two size n, computed for many independent signals at once: the
// signals sit side by side in the lanes of SIMD vectors (sixteen per SIMD16, processed as two
// ymm halves), so every butterfly is a handful of vector adds and fused multiply-adds and the
// transform has no shuffles at all. Spectral convolutions (SpectralConvolution.swift) use it
// with the lanes running over output channels.
//
// A real transform of size n runs as a complex transform of size m = n / 2 on
// z[j] = x[2j] + i·x[2j+1] with a pre/post pass that separates the even and odd halves
// (the usual "two for one" packing). The complex transform is iterative decimation in time:
// its input is written in bit-reversed order by that pass, then radix-2 stages run fused in
// pairs (one radix-4 pass reads and writes each point once for two stages; the first pass
// has only trivial twiddles), complex products as one multiply and one FMA per part.
//
// Spectra hold bins 0...m (m + 1 values): bin 0 and bin m are real for a real signal.
// `inverse` is unnormalized: inverse(forward(x)) = n·x.

import Foundation

/// Twiddle tables for real FFTs of one size over SIMD lanes.
public final class LaneRealFFT: @unchecked Sendable {
    /// Signal length n (a power of two, at least 4).
    public let size: Int
    /// m = n / 2: the complex transform's size; spectra have m + 1 bins.
    public let half: Int
    /// bitReverse[k]: where bin k of the complex transform's input goes.
    let bitReverse: UnsafeMutablePointer<Int32>
    /// For the complex stages, concatenated per stage span s = 1, 2, 4, …: cos and sin of
    /// 2π j / (2 s) for j < s (forward uses e^{-iθ}, inverse e^{+iθ}).
    let stageCos: UnsafeMutablePointer<Float>
    let stageSin: UnsafeMutablePointer<Float>
    /// cos and sin of 2π k / n for k in 0...m (the real packing pass).
    let packCos: UnsafeMutablePointer<Float>
    let packSin: UnsafeMutablePointer<Float>

    public init(size: Int) {
        precondition(size >= 4 && size & (size - 1) == 0, "LaneRealFFT size \(size) is not a power of two >= 4")
        self.size = size
        let m = size / 2
        half = m
        var bits = 0
        while 1 << bits < m { bits += 1 }
        bitReverse = .allocate(capacity: m)
        for k in 0..<m {
            var r = 0
            for b in 0..<bits where k & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            bitReverse[k] = Int32(r)
        }
        stageCos = .allocate(capacity: max(m, 1))
        stageSin = .allocate(capacity: max(m, 1))
        var span = 1, base = 0
        while span < m {
            for j in 0..<span {
                let theta = Double.pi * Double(j) / Double(span)
                stageCos[base + j] = Float(cos(theta))
                stageSin[base + j] = Float(sin(theta))
            }
            base += span
            span *= 2
        }
        packCos = .allocate(capacity: m + 1)
        packSin = .allocate(capacity: m + 1)
        for k in 0...m {
            let theta = 2 * Double.pi * Double(k) / Double(size)
            packCos[k] = Float(cos(theta))
            packSin[k] = Float(sin(theta))
        }
    }

    deinit {
        bitReverse.deallocate()
        stageCos.deallocate()
        stageSin.deallocate()
        packCos.deallocate()
        packSin.deallocate()
    }

    /// Spectrum of 16 real signals: x [n] → re, im [m + 1] (bin k of signal l in lane l).
    /// `workRe` and `workIm` hold m values each; they may not alias the outputs.
    public func forward(_ x: UnsafePointer<SIMD16<Float>>,
                        re: UnsafeMutablePointer<SIMD16<Float>>, im: UnsafeMutablePointer<SIMD16<Float>>,
                        workRe: UnsafeMutablePointer<SIMD16<Float>>, workIm: UnsafeMutablePointer<SIMD16<Float>>) {
        let m = half
        for j in 0..<m {
            let r = Int(bitReverse[j])
            workRe[r] = x[2 * j]
            workIm[r] = x[2 * j + 1]
        }
        complexTransform(re: workRe, im: workIm, inverse: false)
        // X[k] = ½ (A + e^{-2πik/n} · (-i) B), A = Z[k] + conj Z[m-k], B = Z[k] - conj Z[m-k].
        for k in 0...m {
            let a = k == m ? 0 : k, b = k == 0 ? 0 : m - k
            let ar = workRe[a] + workRe[b], ai = workIm[a] - workIm[b]
            let br = workRe[a] - workRe[b], bi = workIm[a] + workIm[b]
            let c = packCos[k], s = packSin[k]
            re[k] = 0.5 * (ar + c * bi - s * br)
            im[k] = 0.5 * (ai - c * br - s * bi)
        }
    }

    /// Unnormalized inverse of 16 Hermitian spectra: re, im [m + 1] → n · x in the
    /// interleaved form x[2j] = outRe[j], x[2j + 1] = outIm[j] (m values each).
    public func inverse(re: UnsafePointer<SIMD16<Float>>, im: UnsafePointer<SIMD16<Float>>,
                        outRe: UnsafeMutablePointer<SIMD16<Float>>, outIm: UnsafeMutablePointer<SIMD16<Float>>) {
        let m = half
        // Z[k] = Fe + i Fo, Fe = X[k] + conj X[m-k], Fo = (X[k] - conj X[m-k]) e^{+2πik/n};
        // then Fe and Fo at m - k are their conjugates, so Z[m-k] = conj Fe + i conj Fo.
        for k in 0...(m / 2) {
            let xr = re[k], xi = im[k], yr = re[m - k], yi = im[m - k]
            let er = xr + yr, ei = xi - yi
            let dr = xr - yr, di = xi + yi
            let c = SIMD16<Float>(repeating: packCos[k]), s = SIMD16<Float>(repeating: packSin[k])
            let or = (dr * c).addingProduct(di, -s), oi = (dr * s).addingProduct(di, c)
            let r = Int(bitReverse[k])
            outRe[r] = er - oi
            outIm[r] = ei + or
            if k > 0 && k < m - k {
                let mirror = Int(bitReverse[m - k])
                outRe[mirror] = er + oi
                outIm[mirror] = or - ei
            }
        }
        complexTransform(re: outRe, im: outIm, inverse: true)
    }

    /// In-place complex transform of size m over bit-reversed input, on both ymm halves.
    @inline(__always)
    func complexTransform(re: UnsafeMutablePointer<SIMD16<Float>>, im: UnsafeMutablePointer<SIMD16<Float>>,
                          inverse: Bool) {
        let re8 = UnsafeMutableRawPointer(re).assumingMemoryBound(to: SIMD8<Float>.self)
        let im8 = UnsafeMutableRawPointer(im).assumingMemoryBound(to: SIMD8<Float>.self)
        for lanesHalf in 0..<2 {
            laneTransform8(re: re8 + lanesHalf, im: im8 + lanesHalf, inverse: inverse)
        }
    }

    /// The complex stages on one SIMD8 half: point k is at re[2k], im[2k].
    @inline(__always)
    func laneTransform8(re: UnsafeMutablePointer<SIMD8<Float>>, im: UnsafeMutablePointer<SIMD8<Float>>,
                        inverse: Bool) {
        let m = half
        let sign: Float = inverse ? 1 : -1
        var span = 1
        var twiddleBase = 0
        // Radix-4 passes: stages `span` and `2 span` at once. The first has no twiddles.
        if 4 <= m {
            var i0 = 0
            while i0 < 2 * m {
                let i1 = i0 + 2, i2 = i0 + 4, i3 = i0 + 6
                let a0r = re[i0], a0i = im[i0], a1r = re[i1], a1i = im[i1]
                let a2r = re[i2], a2i = im[i2], a3r = re[i3], a3i = im[i3]
                let b0r = a0r + a1r, b0i = a0i + a1i, b1r = a0r - a1r, b1i = a0i - a1i
                let b2r = a2r + a3r, b2i = a2i + a3i, b3r = a2r - a3r, b3i = a2i - a3i
                let u3r = inverse ? -b3i : b3i
                let u3i = inverse ? b3r : -b3r
                re[i0] = b0r + b2r; im[i0] = b0i + b2i
                re[i2] = b0r - b2r; im[i2] = b0i - b2i
                re[i1] = b1r + u3r; im[i1] = b1i + u3i
                re[i3] = b1r - u3r; im[i3] = b1i - u3i
                i0 += 8
            }
            twiddleBase = 3
            span = 4
        }
        while span * 4 <= m {
            let quarter = span
            let tw1 = twiddleBase            // stage span: θ = π j / span
            let tw2 = twiddleBase + span     // stage 2 span: θ = π j / (2 span)
            var start = 0
            while start < m {
                for j in 0..<quarter {
                    let i0 = 2 * (start + j), i1 = i0 + 2 * quarter, i2 = i1 + 2 * quarter, i3 = i2 + 2 * quarter
                    let w1r = SIMD8<Float>(repeating: stageCos[tw1 + j])
                    let w1i = SIMD8<Float>(repeating: sign * stageSin[tw1 + j])
                    let w1n = SIMD8<Float>(repeating: -sign * stageSin[tw1 + j])
                    let w2r = SIMD8<Float>(repeating: stageCos[tw2 + j])
                    let w2i = SIMD8<Float>(repeating: sign * stageSin[tw2 + j])
                    let w2n = SIMD8<Float>(repeating: -sign * stageSin[tw2 + j])
                    let a0r = re[i0], a0i = im[i0]
                    let a1r = re[i1], a1i = im[i1]
                    let a2r = re[i2], a2i = im[i2]
                    let a3r = re[i3], a3i = im[i3]
                    // Stage span: (a0, a1) and (a2, a3) with w1 (complex products as mul + FMA).
                    let t1r = (a1i * w1n).addingProduct(a1r, w1r), t1i = (a1r * w1i).addingProduct(a1i, w1r)
                    let t3r = (a3i * w1n).addingProduct(a3r, w1r), t3i = (a3r * w1i).addingProduct(a3i, w1r)
                    let b0r = a0r + t1r, b0i = a0i + t1i
                    let b1r = a0r - t1r, b1i = a0i - t1i
                    let b2r = a2r + t3r, b2i = a2i + t3i
                    let b3r = a2r - t3r, b3i = a2i - t3i
                    // Stage 2 span: (b0, b2) with w2, (b1, b3) with w2 · e^{±iπ/2} = w2 · (±i).
                    let u2r = (b2i * w2n).addingProduct(b2r, w2r), u2i = (b2r * w2i).addingProduct(b2i, w2r)
                    let v3r = (b3i * w2n).addingProduct(b3r, w2r), v3i = (b3r * w2i).addingProduct(b3i, w2r)
                    // Multiply v3 by sign·i: (r, i) → (-sign·i, sign·r).
                    let u3r = inverse ? -v3i : v3i
                    let u3i = inverse ? v3r : -v3r
                    re[i0] = b0r + u2r; im[i0] = b0i + u2i
                    re[i2] = b0r - u2r; im[i2] = b0i - u2i
                    re[i1] = b1r + u3r; im[i1] = b1i + u3i
                    re[i3] = b1r - u3r; im[i3] = b1i - u3i
                }
                start += 4 * quarter
            }
            twiddleBase += 3 * span
            span *= 4
        }
        // A last radix-2 stage when log2 m is odd.
        if span < m {
            for j in 0..<span {
                let i0 = 2 * j, i1 = i0 + 2 * span
                let wr = SIMD8<Float>(repeating: stageCos[twiddleBase + j])
                let wi = SIMD8<Float>(repeating: sign * stageSin[twiddleBase + j])
                let tr = (im[i1] * -wi).addingProduct(re[i1], wr), ti = (re[i1] * wi).addingProduct(im[i1], wr)
                let ar = re[i0], ai = im[i0]
                re[i0] = ar + tr; im[i0] = ai + ti
                re[i1] = ar - tr; im[i1] = ai - ti
            }
        }
    }
}
