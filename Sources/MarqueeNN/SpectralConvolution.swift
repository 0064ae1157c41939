// Single-input-channel 2D convolutions with many output channels, computed through real FFTs
// along one axis, with a max and a min over one output axis fused in. MusiCNN's front end is
// made of these: wide kernels over a one-channel log-mel patch, each followed by a max over
// the frequency axis (Models: MusiCNN.swift).
//
// The image is a set of rows (one signal each, along the "transform axis"); a kernel
// [kh, kw] spans kh consecutive rows and kw positions along them. Every row's spectrum is
// computed once (RowSpectra) and shared by all output channels and all kernels of that FFT
// size. For an output row r and channel c the convolution along the row becomes, per
// frequency bin k,
//
//     Y[r, k, c] = Σ_dy X[r + dy, k] · S[dy, k, c],  S = conj(DFT(kernel row)) / n
//
// (a cross-correlation, as TensorFlow and PyTorch convolve), and one inverse real FFT per
// (row, channel) gives the whole output row. Work per output row and channel is about
// kh·(n/2)·3 + 2.5·n·log2(n) flops instead of kh·kw·outputWidth multiply-adds: for
// MusiCNN's 7x38 kernel on 96 bands that is ~5x less, for its 128-tap temporal kernel ~8x.
//
// Vectorization: sixteen output channels per SIMD16 (two ymm). The complex products use
// Gauss's three-multiplication form, with the kernel side precomputed as
// (Sr, Si - Sr, Sr + Si) and the input side as (Xr + Xi, Xr, Xi):
//     re = Sr(Xr + Xi) - Xi(Sr + Si),   im = Sr(Xr + Xi) + Xr(Si - Sr),
// so a tap costs three FMAs per 16 channels, accumulated over the kh taps before combining.
// The inverse transforms run over the channel lanes (LaneFFT.swift).
//
// Exactness: circular correlation of length n equals the linear one on every output that is
// asked for because n is chosen so that no read wraps onto input values (see fftSize).
// Float32 transforms add rounding of about 1e-6 relative to the row's magnitude.

import Foundation

/// Which axis of an [N, A, B] input the kernel's width (and the FFT) runs along.
public enum SpectralAxis: Sendable {
    /// Along B (the last axis): rows are the A index.
    case inner
    /// Along A: rows are the B index.
    case outer
}

/// The output axis a spectral convolution reduces by max and min.
public enum SpectralReduction: Sendable {
    /// Over the positions along each row: out [N, outputRows, C].
    case overWidth
    /// Over the rows, per position: out [N, outputWidth, C].
    case overRows
}

/// Kernel spectra for `spectralConvolution`.
public final class SpectralConvWeights: @unchecked Sendable {
    public let outChannels: Int
    /// [kh, kw]: kh rows, kw positions along the transform axis.
    public let kernel: Size2
    /// Length of the input rows.
    public let inputWidth: Int
    /// Zeros before the row's first value (TensorFlow "same": (kw - 1) / 2; "valid": 0).
    public let padLeft: Int
    /// Outputs per row.
    public let outputWidth: Int
    public let fft: LaneRealFFT
    /// Groups of 16 output channels.
    let blocks: Int
    /// [blocks][bins][kh][3][16]: (Sr, Si - Sr, Sr + Si) per channel, zero past outChannels.
    let spectra: UnsafeMutablePointer<Float>
    /// [blocks * 16], zero past outChannels.
    let bias: UnsafeMutablePointer<Float>

    /// Smallest power of two n such that circular correlation of length n gives the linear
    /// result on outputs 0..<outputWidth: reads at positions -padLeft ..< (outputWidth - padLeft
    /// + kw - 1) must land on the zero tail, never on input wrapped around.
    public static func fftSize(inputWidth: Int, kernelWidth: Int, padLeft: Int, outputWidth: Int) -> Int {
        let needed = max(inputWidth + padLeft, outputWidth - padLeft + kernelWidth - 1, 4)
        var n = 4
        while n < needed { n *= 2 }
        return n
    }

    /// weight: TensorFlow's layout [kh, kw, 1, out] (a single input channel); bias [out].
    public init(hwo weight: [Float], bias: [Float], outChannels: Int, kernel: Size2,
                inputWidth: Int, padLeft: Int, outputWidth: Int) {
        precondition(weight.count == kernel.h * kernel.w * outChannels,
                     "spectral conv weight has \(weight.count) values, expected [\(kernel.h), \(kernel.w), 1, \(outChannels)]")
        precondition(bias.count == outChannels, "spectral conv bias has \(bias.count) values for \(outChannels) channels")
        precondition(padLeft >= 0 && outputWidth >= 1 && inputWidth >= 1, "spectral conv: bad geometry")
        self.outChannels = outChannels
        self.kernel = kernel
        self.inputWidth = inputWidth
        self.padLeft = padLeft
        self.outputWidth = outputWidth
        let n = Self.fftSize(inputWidth: inputWidth, kernelWidth: kernel.w, padLeft: padLeft, outputWidth: outputWidth)
        fft = LaneRealFFT(size: n)
        let bins = n / 2 + 1
        blocks = (outChannels + 15) / 16
        let count = blocks * bins * kernel.h * 48
        spectra = .allocate(capacity: count)
        spectra.initialize(repeating: 0, count: count)
        self.bias = .allocate(capacity: blocks * 16)
        self.bias.initialize(repeating: 0, count: blocks * 16)
        for c in 0..<outChannels { self.bias[c] = bias[c] }
        // S[k] = (1/n) Σ_j w[j] e^{+2πi k (j - padLeft) / n}, in double precision.
        var cosTable = [Double](repeating: 0, count: n), sinTable = cosTable
        for i in 0..<n {
            cosTable[i] = cos(2 * Double.pi * Double(i) / Double(n))
            sinTable[i] = sin(2 * Double.pi * Double(i) / Double(n))
        }
        let scale = 1 / Double(n)
        for dy in 0..<kernel.h {
            for c in 0..<outChannels {
                let block = c / 16, lane = c % 16
                for k in 0..<bins {
                    var sr = 0.0, si = 0.0
                    for j in 0..<kernel.w {
                        let w = Double(weight[(dy * kernel.w + j) * outChannels + c])
                        let phase = ((k * (j - padLeft)) % n + n) % n
                        sr += w * cosTable[phase]
                        si += w * sinTable[phase]
                    }
                    sr *= scale
                    si *= scale
                    let base = ((block * bins + k) * kernel.h + dy) * 48 + lane
                    spectra[base] = Float(sr)
                    spectra[base + 16] = Float(si - sr)
                    spectra[base + 32] = Float(sr + si)
                }
            }
        }
    }

    deinit {
        spectra.deallocate()
        bias.deallocate()
    }
}

/// The spectra of every row of a batch of single-channel images, with zero rows of padding
/// above and below, as [N][padTop + rows + padBottom][n / 2 + 1][3] floats holding
/// (Xr + Xi, Xr, Xi). Reused across calls; one RowSpectra serves one thread at a time.
public final class RowSpectra: @unchecked Sendable {
    public private(set) var batch = 0
    /// Rows including padding.
    public private(set) var rows = 0
    public private(set) var padTop = 0
    public private(set) var fftSize = 0
    /// Length of the rows transformed.
    public private(set) var width = 0
    var bins: Int { fftSize / 2 + 1 }
    private(set) var values: UnsafeMutablePointer<Float>
    private var capacity = 0

    public init() {
        values = .allocate(capacity: 1)
    }

    deinit { values.deallocate() }

    /// Transforms the rows of `input` [N, A, B] (any tensor of N·A·B floats, read as that
    /// shape) along `axis`, zero-padded to `fft.size`.
    public func compute(_ input: Tensor, shape: (n: Int, a: Int, b: Int), axis: SpectralAxis,
                        fft: LaneRealFFT, padTop: Int, padBottom: Int, pool: ThreadPool = .shared) {
        precondition(input.count == shape.n * shape.a * shape.b, "RowSpectra: input \(input.shape) is not \(shape)")
        let realRows = axis == .inner ? shape.a : shape.b
        let width = axis == .inner ? shape.b : shape.a
        precondition(width <= fft.size, "RowSpectra: rows of \(width) do not fit an FFT of \(fft.size)")
        let rowStride = axis == .inner ? shape.b : 1
        let colStride = axis == .inner ? 1 : shape.b
        batch = shape.n
        rows = padTop + realRows + padBottom
        self.padTop = padTop
        fftSize = fft.size
        self.width = width
        let bins = self.bins
        let needed = batch * rows * bins * 3
        if needed > capacity {
            values.deallocate()
            values = .allocate(capacity: needed)
            capacity = needed
        }
        let values = self.values
        let rowFloats = bins * 3
        for b in 0..<batch {
            let image = values + b * rows * rowFloats
            image.update(repeating: 0, count: padTop * rowFloats)
            (image + (padTop + realRows) * rowFloats).update(repeating: 0, count: padBottom * rowFloats)
        }
        let groups = (realRows + 15) / 16
        let n = fft.size, m = fft.half
        let src = UnsafePointer(input.data)
        pool.parallelFor(count: batch * groups, work: batch * realRows * n * 20) { range in
            withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: n + 2 * m + 2 * (m + 1)) { scratch in
                let x = scratch.baseAddress!
                let workRe = x + n, workIm = workRe + m
                let re = workIm + m, im = re + m + 1
                let xf = UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self)
                for item in range {
                    let b = item / groups, first = (item % groups) * 16
                    let lanes = min(16, realRows - first)
                    xf.update(repeating: 0, count: n * 16)
                    let image = src + b * shape.a * shape.b
                    for l in 0..<lanes {
                        let row = image + (first + l) * rowStride
                        for col in 0..<width { xf[col * 16 + l] = row[col * colStride] }
                    }
                    fft.forward(x, re: re, im: im, workRe: workRe, workIm: workIm)
                    let reF = UnsafeMutableRawPointer(re).assumingMemoryBound(to: Float.self)
                    let imF = UnsafeMutableRawPointer(im).assumingMemoryBound(to: Float.self)
                    for l in 0..<lanes {
                        let dst = values + ((b * rows + padTop + first + l) * bins) * 3
                        for k in 0..<bins {
                            let xr = reF[k * 16 + l], xi = imF[k * 16 + l]
                            dst[3 * k] = xr + xi
                            dst[3 * k + 1] = xr
                            dst[3 * k + 2] = xi
                        }
                    }
                }
            }
        }
    }
}

/// Output rows of a spectral convolution over `spectra` with a kernel of `kernelHeight` rows.
public func spectralOutputRows(_ spectra: RowSpectra, kernelHeight: Int) -> Int {
    spectra.rows - kernelHeight + 1
}

/// maxOut, minOut = max and min, over the `reduction` axis, of conv(rows, weights) + bias.
///
/// overWidth: out [N, spectra.rows - kh + 1, C], reducing the outputWidth positions of each row.
/// overRows:  out [N, outputWidth, C], reducing over the spectra.rows - kh + 1 output rows.
/// A ReLU and a per-channel affine map after the max commute with it (the min stands in for
/// the max under a negative scale), so callers apply them to these.
public func spectralConvolution(max maxOut: Tensor, min minOut: Tensor, spectra: RowSpectra,
                                weights: SpectralConvWeights, reduction: SpectralReduction,
                                pool: ThreadPool = .shared) {
    let fft = weights.fft
    precondition(spectra.fftSize == fft.size && spectra.width == weights.inputWidth,
                 "spectralConvolution: spectra of \(spectra.width) over \(spectra.fftSize) points for a kernel over \(weights.inputWidth) on \(fft.size)")
    let kh = weights.kernel.h, channels = weights.outChannels
    let outRows = spectra.rows - kh + 1
    let outW = weights.outputWidth
    let reduced = reduction == .overWidth ? outRows : outW
    precondition(outRows >= 1, "spectralConvolution: \(spectra.rows) rows for a kernel of \(kh)")
    precondition(maxOut.count == spectra.batch * reduced * channels && minOut.count == maxOut.count,
                 "spectralConvolution: out \(maxOut.shape) and \(minOut.shape), expected [\(spectra.batch), \(reduced), \(channels)]")
    let m = fft.half, bins = m + 1
    let rowFloats = bins * 3
    let tileRows = 8
    let blocks = weights.blocks
    let batch = spectra.batch, rows = spectra.rows
    let x = UnsafePointer(spectra.values)
    let kernels = UnsafePointer(weights.spectra), bias = UnsafePointer(weights.bias)
    let maxData = maxOut.data, minData = minOut.data
    let work = batch * blocks * outRows * 16 * (kh * bins * 6 + 5 * fft.size * 8)
    pool.parallelFor(count: batch * blocks, work: work) { range in
        let scratchCount = tileRows * 2 * bins + 2 * m + (reduction == .overRows ? 2 * outW : 0)
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: scratchCount) { scratch in
            let tile = scratch.baseAddress!
            let outRe = tile + tileRows * 2 * bins, outIm = outRe + m
            let runMax = outIm + m, runMin = runMax + outW
            for item in range {
                let b = item / blocks, block = item % blocks
                let c0 = block * 16, lanes = Swift.min(16, channels - c0)
                let w = kernels + block * bins * kh * 48
                let biasV = load16(bias + c0)
                let image = x + b * rows * rowFloats
                if reduction == .overRows {
                    for t in 0..<outW {
                        runMax[t] = SIMD16(repeating: -.infinity)
                        runMin[t] = SIMD16(repeating: .infinity)
                    }
                }
                var r0 = 0
                while r0 < outRows {
                    let count = Swift.min(tileRows, outRows - r0)
                    spectralProducts(tile: tile, bins: bins, rows: count, image: image + r0 * rowFloats,
                                     rowFloats: rowFloats, kernels: w, kh: kh)
                    for r in 0..<count {
                        let re = tile + r * 2 * bins
                        fft.inverse(re: re, im: re + bins, outRe: outRe, outIm: outIm)
                        switch reduction {
                        case .overWidth:
                            var hi = outRe[0], lo = hi
                            for j in 0..<((outW + 1) / 2) {
                                hi = max16(hi, outRe[j])
                                lo = min16(lo, outRe[j])
                            }
                            for j in 0..<(outW / 2) {
                                hi = max16(hi, outIm[j])
                                lo = min16(lo, outIm[j])
                            }
                            let o = (b * outRows + r0 + r) * channels + c0
                            storeLanes(hi + biasV, maxData + o, lanes)
                            storeLanes(lo + biasV, minData + o, lanes)
                        case .overRows:
                            for j in 0..<(outW / 2) {
                                runMax[2 * j] = max16(runMax[2 * j], outRe[j])
                                runMin[2 * j] = min16(runMin[2 * j], outRe[j])
                                runMax[2 * j + 1] = max16(runMax[2 * j + 1], outIm[j])
                                runMin[2 * j + 1] = min16(runMin[2 * j + 1], outIm[j])
                            }
                            if outW % 2 == 1 {
                                let j = outW / 2
                                runMax[outW - 1] = max16(runMax[outW - 1], outRe[j])
                                runMin[outW - 1] = min16(runMin[outW - 1], outRe[j])
                            }
                        }
                    }
                    r0 += count
                }
                if reduction == .overRows {
                    for t in 0..<outW {
                        let o = (b * outW + t) * channels + c0
                        storeLanes(runMax[t] + biasV, maxData + o, lanes)
                        storeLanes(runMin[t] + biasV, minData + o, lanes)
                    }
                }
            }
        }
    }
}

@inline(__always)
private func storeLanes(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
    if lanes == 16 { store16(v, p) } else { storePartial16(v, p, lanes) }
}

/// tile[r] = (re [bins], im [bins]) of Σ_dy X[r + dy] · S[dy] for `rows` output rows, two
/// rows at a time so that each kernel vector loaded serves both.
/// image: the spectra of the first output row's first input row, `rowFloats` apart;
/// kernels: [bins][kh][3][16] of one channel block.
@inline(__always)
private func spectralProducts(tile: UnsafeMutablePointer<SIMD16<Float>>, bins: Int, rows: Int,
                              image: UnsafePointer<Float>, rowFloats: Int,
                              kernels: UnsafePointer<Float>, kh: Int) {
    for k in 0..<bins {
        let wk = kernels + k * kh * 48
        var r = 0
        while r + 2 <= rows {
            var a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            var b1 = SIMD16<Float>(), b2 = SIMD16<Float>(), b3 = SIMD16<Float>()
            var xa = image + r * rowFloats + 3 * k
            for dy in 0..<kh {
                let xb = xa + rowFloats
                let w1 = load16(wk + dy * 48), w2 = load16(wk + dy * 48 + 16), w3 = load16(wk + dy * 48 + 32)
                a1 = fma16(w1, SIMD16(repeating: xa[0]), a1)
                a2 = fma16(w2, SIMD16(repeating: xa[1]), a2)
                a3 = fma16(w3, SIMD16(repeating: xa[2]), a3)
                b1 = fma16(w1, SIMD16(repeating: xb[0]), b1)
                b2 = fma16(w2, SIMD16(repeating: xb[1]), b2)
                b3 = fma16(w3, SIMD16(repeating: xb[2]), b3)
                xa = xb
            }
            let ta = tile + r * 2 * bins, tb = ta + 2 * bins
            ta[k] = a1 - a3
            ta[bins + k] = a1 + a2
            tb[k] = b1 - b3
            tb[bins + k] = b1 + b2
            r += 2
        }
        if r < rows {
            var a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            var xa = image + r * rowFloats + 3 * k
            for dy in 0..<kh {
                let w1 = load16(wk + dy * 48), w2 = load16(wk + dy * 48 + 16), w3 = load16(wk + dy * 48 + 32)
                a1 = fma16(w1, SIMD16(repeating: xa[0]), a1)
                a2 = fma16(w2, SIMD16(repeating: xa[1]), a2)
                a3 = fma16(w3, SIMD16(repeating: xa[2]), a3)
                xa += rowFloats
            }
            let ta = tile + r * 2 * bins
            ta[k] = a1 - a3
            ta[bins + k] = a1 + a2
        }
    }
}
