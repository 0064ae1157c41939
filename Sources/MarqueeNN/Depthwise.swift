// Depthwise convolution (one filter per channel) over NHWC: SIMD16 lanes run along channels,
// so every tap is one vector multiply-add per 16 channels. Any kernel size, stride, dilation
// and padding; bias and activation are fused into the store.

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
/// edges (and the channel tail) take the clipped one-pixel path.
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
                    var acc = b
                    for ky in kyLo..<kyHi {
                        let src = image + ((y0 + ky * g.dilation.h) * g.inW + x0) * c + c0
                        let wr = w + ky * kw * cp + c0
                        for kx in kxLo..<kxHi {
                            let p = src + kx * dw * c
                            acc = fma16(lanes == 16 ? load16(p) : loadPartial16(p, lanes), load16(wr + kx * cp), acc)
                        }
                    }
                    let o = outRow + ox * oc + c0
                    if lanes == 16 { store16(epilogue.apply(acc), o) } else { storePartial16(epilogue.apply(acc), o, lanes) }
                    ox += 1
                }
                c0 += 16
            }
        }
    }
}

/// One output row of a depthwise convolution over input rows that carry their own padding
/// columns, so that every output pixel's window lies inside them (no edge cases).
///
/// rows: `kernel.h` pointers, the window's input rows (a row of zeros where the window
/// leaves the image), each at its first (padding) column; pixels `pixelStride` floats apart.
/// Output pixel x reads columns x * stride ..< x * stride + kernel.w.
/// out: `outW` pixels, `outStride` floats apart.
/// Channels past `weights.channels` up to the next multiple of 16 are read (the rows must
/// have that many floats to spare after their last pixel) but never written.
@inline(__always)
func depthwisePaddedRow(out: UnsafeMutablePointer<Float>, outStride: Int, outW: Int,
                        rows: UnsafePointer<UnsafePointer<Float>>, pixelStride: Int, stride: Int,
                        weights: DepthwiseWeights, epilogue: Epilogue) {
    let channels = weights.channels, cp = weights.paddedChannels
    let kh = weights.kernel.h, kw = weights.kernel.w
    let w = UnsafePointer(weights.weights.pointer), bias = UnsafePointer(weights.bias.pointer)
    let step = stride * pixelStride
    var c0 = 0
    while c0 < channels {
        let lanes = min(16, channels - c0)
        let b = load16(bias + c0)
        var x = 0
        // Four pixels at a time: each weight vector loaded feeds four FMAs.
        while x + 4 <= outW {
            var a0 = b, a1 = b, a2 = b, a3 = b
            for ky in 0..<kh {
                let src = rows[ky] + x * step + c0
                let wr = w + ky * kw * cp + c0
                for kx in 0..<kw {
                    let wv = load16(wr + kx * cp)
                    let s = src + kx * pixelStride
                    a0 = fma16(load16(s), wv, a0)
                    a1 = fma16(load16(s + step), wv, a1)
                    a2 = fma16(load16(s + 2 * step), wv, a2)
                    a3 = fma16(load16(s + 3 * step), wv, a3)
                }
            }
            let o = out + x * outStride + c0
            if lanes == 16 {
                store16(epilogue.apply(a0), o)
                store16(epilogue.apply(a1), o + outStride)
                store16(epilogue.apply(a2), o + 2 * outStride)
                store16(epilogue.apply(a3), o + 3 * outStride)
            } else {
                storePartial16(epilogue.apply(a0), o, lanes)
                storePartial16(epilogue.apply(a1), o + outStride, lanes)
                storePartial16(epilogue.apply(a2), o + 2 * outStride, lanes)
                storePartial16(epilogue.apply(a3), o + 3 * outStride, lanes)
            }
            x += 4
        }
        while x < outW {
            var acc = b
            for ky in 0..<kh {
                let src = rows[ky] + x * step + c0
                let wr = w + ky * kw * cp + c0
                for kx in 0..<kw { acc = fma16(load16(src + kx * pixelStride), load16(wr + kx * cp), acc) }
            }
            let o = out + x * outStride + c0
            if lanes == 16 { store16(epilogue.apply(acc), o) } else { storePartial16(epilogue.apply(acc), o, lanes) }
            x += 1
        }
        c0 += 16
    }
}
