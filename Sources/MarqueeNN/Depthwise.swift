// Depthwise convolution (one filter per channel) over NHWC: SIMD16 lanes run along channels,
// so every tap is one vector multiply-add per 16 channels. Any kernel size, stride, dilation
// and padding; bias and activation are fused into the store. The rows kernel that undilated
// layers take runs in SIMD8 where a register holds 8 floats (see depthwisePaddedRows).
//
// Without dilation, rows are first copied into a ring of rows that carry the padding as zero
// columns (depthwiseConv2dPaddedRows), so that every output pixel takes the same edge-free
// path (depthwisePaddedRows, which the fused inverted residual block also uses); the general
// path below clips each window at the image's edges.

import CCPUHints

/// Depthwise weights packed [kh][kw][C padded to 16] with a padded bias.
struct DepthwiseWeights {
    let channels: Int
    let paddedChannels: Int
    let kernel: Size2
    let weights: TensorStorage
    let bias: TensorStorage

    /// weight: PyTorch [C, 1, kh, kw].
    init(oihw weight: [Float], bias b: [Float], channels: Int, kernel: Size2) {
        self.channels = channels
        paddedChannels = (channels + 15) / 16 * 16
        self.kernel = kernel
        weights = TensorStorage(capacity: kernel.h * kernel.w * paddedChannels)
        bias = TensorStorage(capacity: paddedChannels)
        for c in 0..<channels {
            for t in 0..<(kernel.h * kernel.w) {
                weights.pointer[t * paddedChannels + c] = weight[c * kernel.h * kernel.w + t]
            }
            bias.pointer[c] = b[c]
        }
    }
}

/// out[N, OH, OW, C] = depthwise(in[N, H, W, C]); threads split output rows.
///
/// Per output row and 16-channel block, pixels whose window lies wholly inside the input
/// are computed four at a time, so each weight vector loaded feeds four FMAs; pixels at the
/// edges (and the channel tail) take the clipped one-pixel path, which keeps four partial
/// sums so that its FMAs do not wait on each other.
func depthwiseConv2d(out: UnsafeMutablePointer<Float>, in input: UnsafePointer<Float>,
                     weights: DepthwiseWeights, geometry g: ConvGeometry,
                     activation: Activation, pool: ThreadPool) {
    let c = g.inC, oc = g.outC, cp = weights.paddedChannels
    let w = UnsafePointer(weights.weights.pointer), bias = UnsafePointer(weights.bias.pointer)
    let kh = g.kernel.h, kw = g.kernel.w
    let sw = g.stride.w, dw = g.dilation.w
    // Output columns whose taps all fall inside the input row.
    let interiorLo = (g.padLeft + sw - 1) / sw
    let lastNumerator = g.inW - 1 - (kw - 1) * dw + g.padLeft
    let interiorHi = lastNumerator < 0 ? -1 : min(g.outW - 1, lastNumerator / sw)
    let work = 2 * g.batch * g.outH * g.outW * c * kh * kw
    let epilogue = Epilogue(activation)
    if g.dilation == Size2(1, 1) {
        depthwiseConv2dPaddedRows(out: out, in: input, weights: weights, geometry: g, epilogue: epilogue, pool: pool)
        return
    }
    pool.parallelFor(count: g.batch * g.outH, work: work) { range in
        for row in range {
            let n = row / g.outH, oy = row % g.outH
            let image = input + n * g.inH * g.inW * c
            let y0 = oy * g.stride.h - g.padTop
            // Taps whose input row exists.
            var kyLo = 0, kyHi = kh
            while kyLo < kh && y0 + kyLo * g.dilation.h < 0 { kyLo += 1 }
            while kyHi > kyLo && y0 + (kyHi - 1) * g.dilation.h >= g.inH { kyHi -= 1 }
            let outRow = out + (n * g.outH + oy) * g.outW * oc
            var c0 = 0
            while c0 < c {
                let lanes = min(16, c - c0)
                let b = load16(bias + c0)
                var ox = 0
                while ox < g.outW {
                    let x0 = ox * sw - g.padLeft
                    if lanes == 16 && ox >= interiorLo && ox + 3 <= interiorHi {
                        var a0 = b, a1 = b, a2 = b, a3 = b
                        for ky in kyLo..<kyHi {
                            let src = image + ((y0 + ky * g.dilation.h) * g.inW + x0) * c + c0
                            let wr = w + ky * kw * cp + c0
                            for kx in 0..<kw {
                                let wv = load16(wr + kx * cp)
                                let s = src + kx * dw * c
                                a0 = fma16(load16(s), wv, a0)
                                a1 = fma16(load16(s + sw * c), wv, a1)
                                a2 = fma16(load16(s + 2 * sw * c), wv, a2)
                                a3 = fma16(load16(s + 3 * sw * c), wv, a3)
                            }
                        }
                        let o = outRow + ox * oc + c0
                        store16(epilogue.apply(a0), o)
                        store16(epilogue.apply(a1), o + oc)
                        store16(epilogue.apply(a2), o + 2 * oc)
                        store16(epilogue.apply(a3), o + 3 * oc)
                        ox += 4
                        continue
                    }
                    var kxLo = 0, kxHi = kw
                    while kxLo < kw && x0 + kxLo * dw < 0 { kxLo += 1 }
                    while kxHi > kxLo && x0 + (kxHi - 1) * dw >= g.inW { kxHi -= 1 }
                    // Four independent sums (even/odd tap of even/odd row): one chain of
                    // dependent FMAs would wait out the FMA latency on every tap, and on
                    // 7x7 and 14x14 images most pixels come this way.
                    var s0 = b, s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
                    var ky = kyLo
                    while ky < kyHi {
                        let src = image + ((y0 + ky * g.dilation.h) * g.inW + x0) * c + c0
                        let wr = w + ky * kw * cp + c0
                        let secondRow = ky + 1 < kyHi
                        let src2 = secondRow ? src + g.dilation.h * g.inW * c : src
                        let wr2 = wr + kw * cp
                        var kx = kxLo
                        while kx + 1 < kxHi {
                            let p = src + kx * dw * c, q = p + dw * c
                            s0 = fma16(lanes == 16 ? load16(p) : loadPartial16(p, lanes), load16(wr + kx * cp), s0)
                            s1 = fma16(lanes == 16 ? load16(q) : loadPartial16(q, lanes), load16(wr + (kx + 1) * cp), s1)
                            if secondRow {
                                let p2 = src2 + kx * dw * c, q2 = p2 + dw * c
                                s2 = fma16(lanes == 16 ? load16(p2) : loadPartial16(p2, lanes), load16(wr2 + kx * cp), s2)
                                s3 = fma16(lanes == 16 ? load16(q2) : loadPartial16(q2, lanes), load16(wr2 + (kx + 1) * cp), s3)
                            }
                            kx += 2
                        }
                        if kx < kxHi {
                            let p = src + kx * dw * c
                            s0 = fma16(lanes == 16 ? load16(p) : loadPartial16(p, lanes), load16(wr + kx * cp), s0)
                            if secondRow {
                                let p2 = src2 + kx * dw * c
                                s2 = fma16(lanes == 16 ? load16(p2) : loadPartial16(p2, lanes), load16(wr2 + kx * cp), s2)
                            }
                        }
                        ky += 2
                    }
                    let acc = (s0 + s1) + (s2 + s3)
                    let o = outRow + ox * oc + c0
                    if lanes == 16 { store16(epilogue.apply(acc), o) } else { storePartial16(epilogue.apply(acc), o, lanes) }
                    ox += 1
                }
                c0 += 16
            }
        }
    }
}

/// Output rows of a depthwise convolution over input rows that carry their own padding
/// columns, so that every output pixel's window lies inside them (no edge cases).
///
/// rows: `(outRows - 1) * rowStride + kernel.h` pointers, the windows' input rows (a row of
/// zeros where a window leaves the image), each at its first (padding) column; pixels
/// `pixelStride` floats apart. Output pixel x of output row r reads columns
/// x * stride ..< x * stride + kernel.w of rows r * rowStride ..< r * rowStride + kernel.h.
/// out: `outRows` rows `outRowStride` floats apart, of `outW` pixels `outStride` floats apart.
/// Computes `channels` (a range of 16-aligned start); an input pixel holds that range from
/// its first float, the output pixel and the weights all channels. Channels past the range's
/// end up to the next multiple of 16 are read (the rows must have that many floats to spare
/// after their last pixel) but never written.
///
/// Loop order: pixel group, output row, channel block. A group's windows (a few rows of
/// 9 to 13 pixels, a few KB) stay in L1 while every channel block and the rows
/// below, which share kernel.h - 1 of their input rows, pass over them. The first order
/// (channel block outside, so each block's pass along the rows read them from L2 again)
/// measured about 2% slower on EfficientNet-Lite0 (AVX2, one thread), one output row per
/// pass 1–3% slower still.
///
/// Vector width: with stride 1, a group of pixels' sums and their sliding window of inputs
/// in SIMD16 take two ymm registers each on AVX2, which has 16: the sums spilled to the
/// stack on every tap. So on AVX2 the kernel runs in SIMD8, seven pixels at a time (see
/// depthwiseSlidingGroups; SIMD8 against SIMD16 made EfficientNet-Lite0 3.5% faster on one
/// thread). With stride 2 there is no window to hold and SIMD16 measured faster (3x3 on
/// 112x112x96: 0.33 ms, against 0.36 in SIMD8).
@inline(__always)
func depthwisePaddedRows(out: UnsafeMutablePointer<Float>, outRowStride: Int, outStride: Int, outW: Int, outRows: Int,
                         rows: UnsafePointer<UnsafePointer<Float>>, rowStride: Int, pixelStride: Int, stride: Int,
                         channels: Range<Int>, weights: DepthwiseWeights, epilogue: Epilogue) {
    if marquee_register_floats() == 16 || stride != 1 {
        depthwisePaddedRows(out: out, outRowStride: outRowStride, outStride: outStride, outW: outW, outRows: outRows,
                            rows: rows, rowStride: rowStride, pixelStride: pixelStride, stride: stride,
                            channels: channels, weights: weights, epilogue: epilogue, vector: SIMD16<Float>.self)
    } else {
        depthwisePaddedRows(out: out, outRowStride: outRowStride, outStride: outStride, outW: outW, outRows: outRows,
                            rows: rows, rowStride: rowStride, pixelStride: pixelStride, stride: stride,
                            channels: channels, weights: weights, epilogue: epilogue, vector: SIMD8<Float>.self)
    }
}

/// The same in vectors of `V` (SIMD8 or SIMD16), whatever the machine.
@inline(__always)
func depthwisePaddedRows<V: FloatVector>(out: UnsafeMutablePointer<Float>, outRowStride: Int, outStride: Int, outW: Int,
                                         outRows: Int, rows: UnsafePointer<UnsafePointer<Float>>, rowStride: Int,
                                         pixelStride: Int, stride: Int, channels: Range<Int>, weights: DepthwiseWeights,
                                         epilogue: Epilogue, vector: V.Type) {
    let cp = weights.paddedChannels
    let kh = weights.kernel.h, kw = weights.kernel.w
    let w = UnsafePointer(weights.weights.pointer), bias = UnsafePointer(weights.bias.pointer)
    let step = stride * pixelStride
    var x = 0
    if stride == 1 {
        // Seven or eight pixels at a time first, on one sliding window of inputs.
        if V.scalarCount == 8 {
            x = depthwiseSlidingGroups(SevenPixels.self, out: out, outRowStride: outRowStride, outStride: outStride, outW: outW,
                                       outRows: outRows, rows: rows, rowStride: rowStride, pixelStride: pixelStride,
                                       channels: channels, weights: weights, epilogue: epilogue, vector: V.self)
        } else {
            x = depthwiseSlidingGroups(EightPixels.self, out: out, outRowStride: outRowStride, outStride: outStride, outW: outW,
                                       outRows: outRows, rows: rows, rowStride: rowStride, pixelStride: pixelStride,
                                       channels: channels, weights: weights, epilogue: epilogue, vector: V.self)
        }
    }
    // Four pixels at a time: each weight vector loaded feeds four FMAs. A row whose width
    // is not a multiple of four ends with a group that overlaps the one before it (those
    // pixels are computed twice, to the same values) rather than with single pixels, whose
    // FMAs would wait on each other.
    while outW >= 4 && x < outW {
        x = min(x, outW - 4)
        for r in 0..<outRows {
            var c0 = channels.lowerBound
            while c0 < channels.upperBound {
                let lanes = min(V.scalarCount, channels.upperBound - c0)
                let inputChannel = c0 - channels.lowerBound
                let b = loadVector(bias + c0, as: V.self)
                var a0 = b, a1 = b, a2 = b, a3 = b
                for ky in 0..<kh {
                    let src = rows[r * rowStride + ky] + x * step + inputChannel
                    let wr = w + ky * kw * cp + c0
                    if stride == 1 {
                        // Pixel j's tap kx reads input x + j + kx: the four windows slide
                        // along the row together, so each input vector is loaded once
                        // (kw + 3 loads instead of 4 kw) and the loads no longer outnumber
                        // the FMAs.
                        var i0 = loadVector(src, as: V.self), i1 = loadVector(src + pixelStride, as: V.self)
                        var i2 = loadVector(src + 2 * pixelStride, as: V.self)
                        for kx in 0..<kw {
                            let wv = loadVector(wr + kx * cp, as: V.self)
                            let i3 = loadVector(src + (kx + 3) * pixelStride, as: V.self)
                            a0 = fmaVector(i0, wv, a0)
                            a1 = fmaVector(i1, wv, a1)
                            a2 = fmaVector(i2, wv, a2)
                            a3 = fmaVector(i3, wv, a3)
                            i0 = i1; i1 = i2; i2 = i3
                        }
                        continue
                    }
                    for kx in 0..<kw {
                        let wv = loadVector(wr + kx * cp, as: V.self)
                        let s = src + kx * pixelStride
                        a0 = fmaVector(loadVector(s, as: V.self), wv, a0)
                        a1 = fmaVector(loadVector(s + step, as: V.self), wv, a1)
                        a2 = fmaVector(loadVector(s + 2 * step, as: V.self), wv, a2)
                        a3 = fmaVector(loadVector(s + 3 * step, as: V.self), wv, a3)
                    }
                }
                let o = out + r * outRowStride + x * outStride + c0
                if lanes == V.scalarCount {
                    storeVector(epilogue.apply(a0), o)
                    storeVector(epilogue.apply(a1), o + outStride)
                    storeVector(epilogue.apply(a2), o + 2 * outStride)
                    storeVector(epilogue.apply(a3), o + 3 * outStride)
                } else {
                    storePartialVector(epilogue.apply(a0), o, lanes)
                    storePartialVector(epilogue.apply(a1), o + outStride, lanes)
                    storePartialVector(epilogue.apply(a2), o + 2 * outStride, lanes)
                    storePartialVector(epilogue.apply(a3), o + 3 * outStride, lanes)
                }
                c0 += V.scalarCount
            }
        }
        x += 4
    }
    while x < outW {
        for r in 0..<outRows {
            var c0 = channels.lowerBound
            while c0 < channels.upperBound {
                let lanes = min(V.scalarCount, channels.upperBound - c0)
                let inputChannel = c0 - channels.lowerBound
                var acc = loadVector(bias + c0, as: V.self)
                for ky in 0..<kh {
                    let src = rows[r * rowStride + ky] + x * step + inputChannel
                    let wr = w + ky * kw * cp + c0
                    for kx in 0..<kw {
                        acc = fmaVector(loadVector(src + kx * pixelStride, as: V.self), loadVector(wr + kx * cp, as: V.self), acc)
                    }
                }
                let o = out + r * outRowStride + x * outStride + c0
                if lanes == V.scalarCount { storeVector(epilogue.apply(acc), o) } else { storePartialVector(epilogue.apply(acc), o, lanes) }
                c0 += V.scalarCount
            }
        }
        x += 1
    }
}

/// A group size as a type, so that each specialization of depthwiseSlidingGroups has it
/// as a constant and keeps only its own sums in registers.
private protocol StaticCount { static var count: Int { get } }
private enum SevenPixels: StaticCount { static var count: Int { 7 } }
private enum EightPixels: StaticCount { static var count: Int { 8 } }
/// Kernel widths as constants, so that the taps along a row unroll; `AnyWidth` (0) reads
/// the width from the weights.
private enum ThreeWide: StaticCount { static var count: Int { 3 } }
private enum FiveWide: StaticCount { static var count: Int { 5 } }
private enum AnyWidth: StaticCount { static var count: Int { 0 } }

@inline(__always)
private func depthwiseSlidingGroups<V: FloatVector, Group: StaticCount>(
    _ group: Group.Type, out: UnsafeMutablePointer<Float>, outRowStride: Int, outStride: Int, outW: Int, outRows: Int,
    rows: UnsafePointer<UnsafePointer<Float>>, rowStride: Int, pixelStride: Int, channels: Range<Int>,
    weights: DepthwiseWeights, epilogue: Epilogue, vector: V.Type
) -> Int {
    switch weights.kernel.w {
    case 3:
        depthwiseSlidingGroups(group, ThreeWide.self, out: out, outRowStride: outRowStride, outStride: outStride, outW: outW,
                               outRows: outRows, rows: rows, rowStride: rowStride, pixelStride: pixelStride,
                               channels: channels, weights: weights, epilogue: epilogue, vector: V.self)
    case 5:
        depthwiseSlidingGroups(group, FiveWide.self, out: out, outRowStride: outRowStride, outStride: outStride, outW: outW,
                               outRows: outRows, rows: rows, rowStride: rowStride, pixelStride: pixelStride,
                               channels: channels, weights: weights, epilogue: epilogue, vector: V.self)
    default:
        depthwiseSlidingGroups(group, AnyWidth.self, out: out, outRowStride: outRowStride, outStride: outStride, outW: outW,
                               outRows: outRows, rows: rows, rowStride: rowStride, pixelStride: pixelStride,
                               channels: channels, weights: weights, epilogue: epilogue, vector: V.self)
    }
}

/// depthwisePaddedRows's stride-1 pixels in groups of `Group.count` (7 or 8) along each
/// row, from x = 0 while a whole group fits; returns the first pixel left. Pixel j's tap kx
/// reads input x + j + kx, so the group's windows slide along the row together: per tap one
/// weight and one input vector are loaded for a group's worth of FMAs.
///
/// The sums, the window and the weight take 2 * pixels + 1 registers: 15 for seven pixels,
/// within AVX2's 16 ymm. Eight pixels (17) kept one sum on the stack, stored and reloaded
/// on every tap, and that chain set the pace: seven pixels took 3x3 on 112x112x96 from 0.84
/// to 0.74 ms and 5x5 on 14x14x672 from 0.25 to 0.17 ms, and make EfficientNet-Lite0 5%
/// faster on one thread (its widths, 112 to 7, are all multiples of 7). AVX-512's 32
/// registers hold eight pixels in SIMD16. Stepping the tap pointers and unrolling the taps
/// of 3- and 5-wide kernels took 3x3 on 112x112x96 further to 0.64 ms.
@inline(__always)
private func depthwiseSlidingGroups<V: FloatVector, Group: StaticCount, Width: StaticCount>(
    _ group: Group.Type, _ width: Width.Type, out: UnsafeMutablePointer<Float>, outRowStride: Int, outStride: Int, outW: Int, outRows: Int,
    rows: UnsafePointer<UnsafePointer<Float>>, rowStride: Int, pixelStride: Int, channels: Range<Int>,
    weights: DepthwiseWeights, epilogue: Epilogue, vector: V.Type
) -> Int {
    let cp = weights.paddedChannels
    let kh = weights.kernel.h, kw = Width.count == 0 ? weights.kernel.w : Width.count
    let w = UnsafePointer(weights.weights.pointer), bias = UnsafePointer(weights.bias.pointer)
    let pixels = Group.count, eight = pixels == 8
    var x = 0
    while x + pixels <= outW {
        for r in 0..<outRows {
            var c0 = channels.lowerBound
            while c0 < channels.upperBound {
                let lanes = min(V.scalarCount, channels.upperBound - c0)
                let inputChannel = c0 - channels.lowerBound
                let b = loadVector(bias + c0, as: V.self)
                var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
                for ky in 0..<kh {
                    let src = rows[r * rowStride + ky] + x * pixelStride + inputChannel
                    let wr = w + ky * kw * cp + c0
                    var i0 = loadVector(src, as: V.self), i1 = loadVector(src + pixelStride, as: V.self)
                    var i2 = loadVector(src + 2 * pixelStride, as: V.self), i3 = loadVector(src + 3 * pixelStride, as: V.self)
                    var i4 = loadVector(src + 4 * pixelStride, as: V.self), i5 = loadVector(src + 5 * pixelStride, as: V.self)
                    var i6 = eight ? loadVector(src + 6 * pixelStride, as: V.self) : b
                    var wp = wr, np = src + (pixels - 1) * pixelStride
                    for _ in 0..<kw {
                        let wv = loadVector(wp, as: V.self)
                        let next = loadVector(np, as: V.self)
                        wp += cp; np += pixelStride
                        a0 = fmaVector(i0, wv, a0); a1 = fmaVector(i1, wv, a1)
                        a2 = fmaVector(i2, wv, a2); a3 = fmaVector(i3, wv, a3)
                        a4 = fmaVector(i4, wv, a4); a5 = fmaVector(i5, wv, a5)
                        if eight {
                            a6 = fmaVector(i6, wv, a6); a7 = fmaVector(next, wv, a7)
                            i0 = i1; i1 = i2; i2 = i3; i3 = i4; i4 = i5; i5 = i6; i6 = next
                        } else {
                            a6 = fmaVector(next, wv, a6)
                            i0 = i1; i1 = i2; i2 = i3; i3 = i4; i4 = i5; i5 = next
                        }
                    }
                }
                let o = out + r * outRowStride + x * outStride + c0
                if lanes == V.scalarCount {
                    storeVector(epilogue.apply(a0), o); storeVector(epilogue.apply(a1), o + outStride)
                    storeVector(epilogue.apply(a2), o + 2 * outStride); storeVector(epilogue.apply(a3), o + 3 * outStride)
                    storeVector(epilogue.apply(a4), o + 4 * outStride); storeVector(epilogue.apply(a5), o + 5 * outStride)
                    storeVector(epilogue.apply(a6), o + 6 * outStride)
                    if eight { storeVector(epilogue.apply(a7), o + 7 * outStride) }
                } else {
                    storePartialVector(epilogue.apply(a0), o, lanes); storePartialVector(epilogue.apply(a1), o + outStride, lanes)
                    storePartialVector(epilogue.apply(a2), o + 2 * outStride, lanes)
                    storePartialVector(epilogue.apply(a3), o + 3 * outStride, lanes)
                    storePartialVector(epilogue.apply(a4), o + 4 * outStride, lanes)
                    storePartialVector(epilogue.apply(a5), o + 5 * outStride, lanes)
                    storePartialVector(epilogue.apply(a6), o + 6 * outStride, lanes)
                    if eight { storePartialVector(epilogue.apply(a7), o + 7 * outStride, lanes) }
                }
                c0 += V.scalarCount
            }
        }
        x += pixels
    }
    return x
}

/// A ring of padded input rows for depthwisePaddedRows: input row iy lives in slot
/// iy % slots, with the padding columns (zero) around it and 16 floats to spare for the
/// channel tail, followed by one row of zeros for window rows outside the image.
/// Groups of up to `outRows` output rows are computed at once; more rows per group read
/// fewer lines from L2, but the ring (and a fused block's buffers, `extraBytes`) must stay
/// in L2 with the weights, which caps the group.
struct PaddedRowRing {
    let slots: Int
    let rowFloats: Int
    let outRows: Int
    let kernelH: Int
    let stride: Int

    static let maximumOutRows = 4
    static let byteBudget = 384 * 1024

    init(paddedWidth: Int, pixelStride: Int, kernelH: Int, stride: Int, extraBytesPerOutRow: Int = 0) {
        rowFloats = paddedWidth * pixelStride + 16
        self.kernelH = kernelH
        self.stride = stride
        var rows = Self.maximumOutRows
        while rows > 1 && Self.rowCount(outRows: rows, stride: stride, kernelH: kernelH) * rowFloats * 4
                          + rows * extraBytesPerOutRow > Self.byteBudget {
            rows -= 1
        }
        outRows = rows
        slots = Self.rowCount(outRows: rows, stride: stride, kernelH: kernelH) - 1
    }

    /// Rows a ring holds for groups of `outRows` output rows: their windows' input rows and
    /// the row of zeros.
    static func rowCount(outRows: Int, stride: Int, kernelH: Int) -> Int {
        (outRows - 1) * stride + kernelH + 1
    }

    var floats: Int { (slots + 1) * rowFloats }

    func slot(_ scratch: UnsafeMutablePointer<Float>, inputRow iy: Int) -> UnsafeMutablePointer<Float> {
        scratch + (iy % slots) * rowFloats
    }

    /// Walks the output rows `outputRows` in groups of up to `outRows`. Before each group,
    /// `fill(slot, iy)` writes each input row iy (of 0..<inH) that the group's windows need
    /// and the ring does not hold yet, at `slot`: its ring slot's first image column
    /// (`padLeftFloats` in). Then `compute(oy, count)` runs on output rows oy ..< oy + count
    /// with their window rows in `window` (ring slots, or the zero row outside the image).
    @inline(__always)
    func walk(_ outputRows: Range<Int>, padTop: Int, padLeftFloats: Int, inH: Int, scratch: UnsafeMutablePointer<Float>,
              window: UnsafeMutablePointer<UnsafePointer<Float>>,
              fill: (UnsafeMutablePointer<Float>, Int) -> Void, compute: (Int, Int) -> Void) {
        let zeroRow = UnsafePointer(scratch + slots * rowFloats)
        var nextInRow = Int.min
        var oy = outputRows.lowerBound
        while oy < outputRows.upperBound {
            let count = min(outRows, outputRows.upperBound - oy)
            let firstInRow = oy * stride - padTop
            nextInRow = max(nextInRow, firstInRow)
            let lastInRow = min((oy + count - 1) * stride - padTop + kernelH - 1, inH - 1)
            while nextInRow <= lastInRow {
                if nextInRow >= 0 { fill(slot(scratch, inputRow: nextInRow) + padLeftFloats, nextInRow) }
                nextInRow += 1
            }
            for i in 0..<((count - 1) * stride + kernelH) {
                let iy = firstInRow + i
                window[i] = iy >= 0 && iy < inH ? UnsafePointer(slot(scratch, inputRow: iy)) : zeroRow
            }
            compute(oy, count)
            oy += count
        }
    }
}

/// The ring size that a depthwise pass over a slice of the channels aims for.
let depthwiseSliceRingBytes = 128 * 1024

/// How many of `blocks` 16-channel blocks one depthwise pass over a ring takes: as many as
/// keep the ring within about `depthwiseSliceRingBytes`, but at least 8 (128 channels): a
/// ring row is copied pixel by pixel, and on wide images (112x112x96) copies of 32 channels
/// cost more than the small ring saved.
func depthwiseBlocksPerPass(_ blocks: Int, paddedWidth: Int, stride: Int, kernelH: Int) -> Int {
    let ringRows = PaddedRowRing.rowCount(outRows: PaddedRowRing.maximumOutRows, stride: stride, kernelH: kernelH)
    return max(8, min(blocks, depthwiseSliceRingBytes / (ringRows * paddedWidth * 64)))
}

/// depthwiseConv2d without dilation: each thread walks down a band of output rows for a
/// slice of the channels, copying the input rows its windows need into a ring of rows that
/// carry the padding as zero columns, so that every pixel takes depthwisePaddedRows's
/// edge-free path. On 14x14 and 7x7 images with 5x5 kernels (EfficientNet's late blocks)
/// most pixels touch an edge, and the clipped one-pixel path made the depthwise layers cost
/// more than the 1x1 convolutions around them.
///
/// Channel slices keep the ring small (with all 672 channels, EfficientNet's 14-pixel rows
/// made a ring of 340 KB, most of L2) and are work items that need no halo: a 7-row image
/// splits evenly between two threads, which bands of 4 and 3 rows did not. On EfficientNet-
/// Lite0 they measured 3% faster on one thread, 1.5% on two. Bands (whose halo rows are
/// copied twice) are used only when there are too few slices.
func depthwiseConv2dPaddedRows(out: UnsafeMutablePointer<Float>, in input: UnsafePointer<Float>,
                               weights: DepthwiseWeights, geometry g: ConvGeometry,
                               epilogue: Epilogue, pool: ThreadPool) {
    let c = g.inC, kh = g.kernel.h, kw = g.kernel.w, stride = g.stride
    let paddedW = max(g.padLeft + g.inW, (g.outW - 1) * stride.w + kw)
    // Slices of whole 16-channel blocks, as equal as possible, each a pass of its own.
    let blocks = (c + 15) / 16
    let blocksPerSlice = depthwiseBlocksPerPass(blocks, paddedWidth: paddedW, stride: stride.h, kernelH: kh)
    let slices = (blocks + blocksPerSlice - 1) / blocksPerSlice
    let sliceWidth = (blocks + slices - 1) / slices * 16
    let ring = PaddedRowRing(paddedWidth: paddedW, pixelStride: sliceWidth, kernelH: kh, stride: stride.h)
    let bandsPerImage = g.batch * slices >= 2 * pool.threadCount ? 1 : min(g.outH, pool.threadCount * max(1, g.outH / 28))
    let work = 2 * g.batch * g.outH * g.outW * c * kh * kw
    pool.parallelFor(count: g.batch * bandsPerImage * slices, work: work) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: ring.floats)
        defer { scratch.deallocate() }
        initializePaddedRing(scratch, slots: ring.slots, rowFloats: ring.rowFloats, pixelStride: sliceWidth,
                             interiorStart: g.padLeft, interiorPixels: g.inW)
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: ring.slots) { windowRows in
            let window = windowRows.baseAddress!
            for item in range {
                let slice = item % slices, band = item / slices % bandsPerImage, image = item / (slices * bandsPerImage)
                let firstChannel = blocks * slice / slices * 16, endChannel = min(c, blocks * (slice + 1) / slices * 16)
                let firstOutRow = g.outH * band / bandsPerImage, endOutRow = g.outH * (band + 1) / bandsPerImage
                let imageIn = input + image * g.inH * g.inW * c + firstChannel
                ring.walk(firstOutRow..<endOutRow, padTop: g.padTop, padLeftFloats: g.padLeft * sliceWidth, inH: g.inH,
                          scratch: scratch, window: window,
                          fill: { slot, iy in
                              let row = imageIn + iy * g.inW * c
                              if sliceWidth == c {
                                  slot.update(from: row, count: g.inW * c)
                              } else {
                                  for x in 0..<g.inW {
                                      (slot + x * sliceWidth).update(from: row + x * c, count: endChannel - firstChannel)
                                  }
                              }
                          },
                          compute: { oy, count in
                              depthwisePaddedRows(out: out + (image * g.outH + oy) * g.outW * g.outC,
                                                  outRowStride: g.outW * g.outC, outStride: g.outC, outW: g.outW,
                                                  outRows: count, rows: window, rowStride: stride.h, pixelStride: sliceWidth,
                                                  stride: stride.w, channels: firstChannel..<endChannel, weights: weights,
                                                  epilogue: epilogue)
                          })
            }
        }
    }
}

/// Zeroes what a ring of padded rows reads but never has written: each slot's padding
/// columns and spare floats, and the row of zeros after the `slots` slots. The interior of
/// a slot is always written before it is read (the tests pass with it filled with NaN), so
/// it is left as it is: zeroing it cost a memset of the whole ring per band.
func initializePaddedRing(_ scratch: UnsafeMutablePointer<Float>, slots: Int, rowFloats: Int, pixelStride: Int,
                          interiorStart: Int, interiorPixels: Int) {
    let interiorBegin = interiorStart * pixelStride, interiorEnd = (interiorStart + interiorPixels) * pixelStride
    for slot in 0..<slots {
        let row = scratch + slot * rowFloats
        row.initialize(repeating: 0, count: interiorBegin)
        (row + interiorEnd).initialize(repeating: 0, count: rowFloats - interiorEnd)
    }
    (scratch + slots * rowFloats).initialize(repeating: 0, count: rowFloats)
}
