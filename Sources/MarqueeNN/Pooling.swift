// Max, average and global pooling over NHWC, vectorized along channels.

/// NHWC output shape of a pooling window; `ceilMode` rounds the output size up as PyTorch's
/// `ceil_mode=True` does (used by MTCNN), never starting a window inside the right/bottom padding.
public func pool2dOutputShape(input: [Int], kernel: Size2, stride: Size2, padding: Padding2D = .valid,
                              ceilMode: Bool = false) -> [Int] {
    precondition(input.count == 4, "pooling input must be NHWC, got \(input)")
    let size = Size2(input[1], input[2])
    let p = padding.resolved(input: size, kernel: kernel, stride: stride, dilation: 1)
    func extent(_ n: Int, _ lo: Int, _ hi: Int, _ k: Int, _ s: Int) -> Int {
        let span = n + lo + hi - k
        if span < 0 { return 0 }
        if !ceilMode { return span / s + 1 }
        var out = (span + s - 1) / s + 1
        if (out - 1) * s >= n + lo { out -= 1 }
        return out
    }
    return [input[0], extent(size.h, p.top, p.bottom, kernel.h, stride.h),
            extent(size.w, p.left, p.right, kernel.w, stride.w), input[3]]
}

/// Shared loop: for each output pixel, `body(out, firstRow, rowEnd, firstCol, colEnd, windowArea)`
/// where the window is already clipped to the input and windowArea counts padding that lies
/// within the padded extent (PyTorch's count_include_pad divisor).
@inline(__always)
func forEachWindow(out: Tensor, in input: Tensor, kernel: Size2, stride: Size2, padding: Padding2D,
                   ceilMode: Bool, pool: ThreadPool,
                   _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int, Int, Int, Int) -> Void) {
    precondition(input.rank == 4 && stride.h >= 1 && stride.w >= 1 && kernel.h >= 1 && kernel.w >= 1, "pooling: bad input or window")
    let expected = pool2dOutputShape(input: input.shape, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
    precondition(out.shape == expected, "pooling: out \(out.shape), expected \(expected)")
    let p = padding.resolved(input: Size2(input.h, input.w), kernel: kernel, stride: stride, dilation: 1)
    let (h, w, c, oh, ow) = (input.h, input.w, input.c, out.h, out.w)
    let src = input.data, dst = out.data
    pool.parallelFor(count: out.n * oh, work: out.count * kernel.h * kernel.w) { range in
        for row in range {
            let n = row / oh, oy = row % oh
            var y0 = oy * stride.h - p.top
            var y1 = min(y0 + kernel.h, h + p.bottom)
            let areaH = y1 - y0
            y0 = max(y0, 0); y1 = min(y1, h)
            for ox in 0..<ow {
                var x0 = ox * stride.w - p.left
                var x1 = min(x0 + kernel.w, w + p.right)
                let areaW = x1 - x0
                x0 = max(x0, 0); x1 = min(x1, w)
                body(dst + ((n * oh + oy) * ow + ox) * c, src + n * h * w * c, y0, y1, x0, x1, areaH * areaW)
            }
        }
    }
}

/// out = max over each window; padding never wins (PyTorch pads with -inf).
public func maxPool2d(out: Tensor, in input: Tensor, kernel: Size2, stride: Size2,
                      padding: Padding2D = .valid, ceilMode: Bool = false, pool: ThreadPool = .shared) {
    let c = input.c, w = input.w
    forEachWindow(out: out, in: input, kernel: kernel, stride: stride, padding: padding,
                  ceilMode: ceilMode, pool: pool) { o, image, y0, y1, x0, x1, _ in
        var c0 = 0
        while c0 < c {
            let lanes = min(16, c - c0)
            var m = SIMD16<Float>(repeating: -.infinity)
            for y in y0..<y1 {
                for x in x0..<x1 {
                    let p = image + (y * w + x) * c + c0
                    m = max16(m, lanes == 16 ? load16(p) : loadPartial16(p, lanes, fill: -.infinity))
                }
            }
            if lanes == 16 { store16(m, o + c0) } else { storePartial16(m, o + c0, lanes) }
            c0 += 16
        }
    }
}

/// out = mean over each window. With `countIncludePad` (PyTorch's default) the divisor counts
/// padded positions; without it (TensorFlow's "same" average pooling) only real pixels.
/// With `addend` (shaped as `input`), the mean is of input + addend: a residual sum pooled in
/// the same pass, bit for bit what `add` and then pooling give, without writing the sum.
public func averagePool2d(out: Tensor, in input: Tensor, adding addend: Tensor? = nil, kernel: Size2, stride: Size2,
                          padding: Padding2D = .valid, countIncludePad: Bool = true,
                          ceilMode: Bool = false, pool: ThreadPool = .shared) {
    precondition(addend == nil || addend!.shape == input.shape, "average pool: addend \(addend!.shape) for input \(input.shape)")
    let c = input.c, w = input.w
    let offset = addend.map { UnsafePointer($0.data) - UnsafePointer(input.data) }
    forEachWindow(out: out, in: input, kernel: kernel, stride: stride, padding: padding,
                  ceilMode: ceilMode, pool: pool) { o, image, y0, y1, x0, x1, area in
        let count = countIncludePad ? area : (y1 - y0) * (x1 - x0)
        let scale = SIMD16<Float>(repeating: count > 0 ? 1 / Float(count) : 0)
        var c0 = 0
        while c0 < c {
            let lanes = min(16, c - c0)
            var s = SIMD16<Float>.zero
            for y in y0..<y1 {
                for x in x0..<x1 {
                    let p = image + (y * w + x) * c + c0
                    var v = lanes == 16 ? load16(p) : loadPartial16(p, lanes)
                    if let offset { v += lanes == 16 ? load16(p + offset) : loadPartial16(p + offset, lanes) }
                    s += v
                }
            }
            if lanes == 16 { store16(s * scale, o + c0) } else { storePartial16(s * scale, o + c0, lanes) }
            c0 += 16
        }
    }
}

/// out[N, 1, 1, C] = mean of in[N, H, W, C] over H and W.
public func globalAveragePool(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    globalPool(out: out, in: input, pool: pool, max: false)
}

/// out[N, 1, 1, C] = max of in[N, H, W, C] over H and W.
public func globalMaxPool(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    globalPool(out: out, in: input, pool: pool, max: true)
}

func globalPool(out: Tensor, in input: Tensor, pool: ThreadPool, max useMax: Bool) {
    precondition(input.rank == 4 && out.shape == [input.n, 1, 1, input.c], "global pool: \(input.shape) -> \(out.shape)")
    let c = input.c, pixels = input.h * input.w
    let blocks = (c + 15) / 16
    let src = input.data, dst = out.data
    let scale = SIMD16<Float>(repeating: pixels > 0 ? 1 / Float(pixels) : 0)
    pool.parallelFor(count: input.n * blocks, work: input.count) { range in
        for item in range {
            let n = item / blocks, c0 = (item % blocks) * 16
            let lanes = min(16, c - c0)
            let image = src + n * pixels * c + c0
            var acc = SIMD16<Float>(repeating: useMax ? -.infinity : 0)
            for p in 0..<pixels {
                let v = lanes == 16 ? load16(image + p * c) : loadPartial16(image + p * c, lanes)
                acc = useMax ? max16(acc, v) : acc + v
            }
            if !useMax { acc *= scale }
            if lanes == 16 { store16(acc, dst + n * c + c0) } else { storePartial16(acc, dst + n * c + c0, lanes) }
        }
    }
}
