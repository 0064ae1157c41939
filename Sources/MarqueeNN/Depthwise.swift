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
func depthwiseConv2d(out: UnsafeMutablePointer<Float>, in input: UnsafePointer<Float>,
                     weights: DepthwiseWeights, geometry g: ConvGeometry,
                     activation: Activation, pool: ThreadPool) {
    let c = g.inC, cp = weights.paddedChannels
    let w = UnsafePointer(weights.weights.pointer), bias = UnsafePointer(weights.bias.pointer)
    let kh = g.kernel.h, kw = g.kernel.w
    let fullBlocks = c / 16, tail = c % 16
    let work = 2 * g.batch * g.outH * g.outW * c * kh * kw
    pool.parallelFor(count: g.batch * g.outH, work: work) { range in
        for row in range {
            let n = row / g.outH, oy = row % g.outH
            let image = input + n * g.inH * g.inW * c
            let y0 = oy * g.stride.h - g.padTop
            // Taps whose input row exists.
            var kyLo = 0, kyHi = kh
            while kyLo < kh && y0 + kyLo * g.dilation.h < 0 { kyLo += 1 }
            while kyHi > kyLo && y0 + (kyHi - 1) * g.dilation.h >= g.inH { kyHi -= 1 }
            let outRow = out + (n * g.outH + oy) * g.outW * c
            for ox in 0..<g.outW {
                let x0 = ox * g.stride.w - g.padLeft
                var kxLo = 0, kxHi = kw
                while kxLo < kw && x0 + kxLo * g.dilation.w < 0 { kxLo += 1 }
                while kxHi > kxLo && x0 + (kxHi - 1) * g.dilation.w >= g.inW { kxHi -= 1 }
                let o = outRow + ox * c
                for blk in 0..<fullBlocks {
                    let c0 = blk * 16
                    var acc = load16(bias + c0)
                    for ky in kyLo..<kyHi {
                        let src = image + ((y0 + ky * g.dilation.h) * g.inW + x0) * c + c0
                        let wr = w + ky * kw * cp + c0
                        for kx in kxLo..<kxHi {
                            acc = acc.addingProduct(load16(src + kx * g.dilation.w * c), load16(wr + kx * cp))
                        }
                    }
                    store16(activation.apply(acc), o + c0)
                }
                if tail > 0 {
                    let c0 = fullBlocks * 16
                    var acc = load16(bias + c0)
                    for ky in kyLo..<kyHi {
                        let src = image + ((y0 + ky * g.dilation.h) * g.inW + x0) * c + c0
                        let wr = w + ky * kw * cp + c0
                        for kx in kxLo..<kxHi {
                            acc = acc.addingProduct(loadPartial16(src + kx * g.dilation.w * c, tail), load16(wr + kx * cp))
                        }
                    }
                    storePartial16(activation.apply(acc), o + c0, tail)
                }
            }
        }
    }
}
