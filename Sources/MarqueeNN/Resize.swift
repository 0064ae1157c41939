// Spatial resizing of float NHWC tensors, following PyTorch's `interpolate` index rules.

/// Bilinear resize. `alignCorners == false` is PyTorch's default (and TensorFlow 2's
/// half_pixel_centers): source = (dst + 0.5) * in / out - 0.5, clamped at 0.
public func resizeBilinear(out: Tensor, in input: Tensor, alignCorners: Bool = false, pool: ThreadPool = .shared) {
    precondition(input.rank == 4 && out.rank == 4 && out.n == input.n && out.c == input.c,
                 "resize: \(input.shape) -> \(out.shape)")
    let (h, w, c, oh, ow) = (input.h, input.w, input.c, out.h, out.w)
    guard out.count > 0, h > 0, w > 0 else { return }
    func taps(_ inSize: Int, _ outSize: Int) -> [(Int, Int, Float)] {
        (0..<outSize).map { d in
            var s: Float
            if alignCorners {
                s = outSize > 1 ? Float(d) * Float(inSize - 1) / Float(outSize - 1) : 0
            } else {
                s = max((Float(d) + 0.5) * Float(inSize) / Float(outSize) - 0.5, 0)
            }
            let i0 = min(Int(s), inSize - 1)
            let i1 = i0 < inSize - 1 ? i0 + 1 : i0
            return (i0, i1, s - Float(i0))
        }
    }
    let ys = taps(h, oh), xs = taps(w, ow)
    let src = input.data, dst = out.data
    ys.withUnsafeBufferPointer { ys in
        xs.withUnsafeBufferPointer { xs in
            pool.parallelFor(count: out.n * oh, work: out.count * 8) { range in
                for row in range {
                    let n = row / oh, oy = row % oh
                    let (y0, y1, ly) = ys[oy]
                    let r0 = src + (n * h + y0) * w * c, r1 = src + (n * h + y1) * w * c
                    let o = dst + row * ow * c
                    for ox in 0..<ow {
                        let (x0, x1, lx) = xs[ox]
                        let w00 = (1 - ly) * (1 - lx), w01 = (1 - ly) * lx, w10 = ly * (1 - lx), w11 = ly * lx
                        var c0 = 0
                        while c0 + 16 <= c {
                            var v = load16(r0 + x0 * c + c0) * w00
                            v = fma16(load16(r0 + x1 * c + c0), SIMD16(repeating: w01), v)
                            v = fma16(load16(r1 + x0 * c + c0), SIMD16(repeating: w10), v)
                            v = fma16(load16(r1 + x1 * c + c0), SIMD16(repeating: w11), v)
                            store16(v, o + ox * c + c0)
                            c0 += 16
                        }
                        while c0 < c {
                            o[ox * c + c0] = r0[x0 * c + c0] * w00 + r0[x1 * c + c0] * w01
                                + r1[x0 * c + c0] * w10 + r1[x1 * c + c0] * w11
                            c0 += 1
                        }
                    }
                }
            }
        }
    }
}

/// Nearest-neighbour resize as PyTorch's mode="nearest": source = floor(dst * in / out).
public func resizeNearest(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    precondition(input.rank == 4 && out.rank == 4 && out.n == input.n && out.c == input.c,
                 "resize: \(input.shape) -> \(out.shape)")
    let (h, w, c, oh, ow) = (input.h, input.w, input.c, out.h, out.w)
    guard out.count > 0, h > 0, w > 0 else { return }
    let sy = Float(h) / Float(oh), sx = Float(w) / Float(ow)
    let src = input.data, dst = out.data
    pool.parallelFor(count: out.n * oh, work: out.count) { range in
        for row in range {
            let n = row / oh, oy = row % oh
            let iy = min(Int((Float(oy) * sy).rounded(.down)), h - 1)
            for ox in 0..<ow {
                let ix = min(Int((Float(ox) * sx).rounded(.down)), w - 1)
                (dst + (row * ow + ox) * c).update(from: src + ((n * h + iy) * w + ix) * c, count: c)
            }
        }
    }
}

/// Area resize as PyTorch's mode="area" (adaptive average pooling): output cell i averages
/// input cells floor(i * in / out) ..< ceil((i + 1) * in / out). MTCNN's image pyramid uses it.
public func resizeArea(out: Tensor, in input: Tensor, pool: ThreadPool = .shared) {
    precondition(input.rank == 4 && out.rank == 4 && out.n == input.n && out.c == input.c,
                 "resize: \(input.shape) -> \(out.shape)")
    let (h, w, c, oh, ow) = (input.h, input.w, input.c, out.h, out.w)
    guard out.count > 0, h > 0, w > 0 else { return }
    let src = input.data, dst = out.data
    pool.parallelFor(count: out.n * oh, work: out.count * 4) { range in
        for row in range {
            let n = row / oh, oy = row % oh
            let y0 = oy * h / oh, y1 = ((oy + 1) * h + oh - 1) / oh
            for ox in 0..<ow {
                let x0 = ox * w / ow, x1 = ((ox + 1) * w + ow - 1) / ow
                let scale = 1 / Float((y1 - y0) * (x1 - x0))
                let o = dst + (row * ow + ox) * c
                var c0 = 0
                while c0 < c {
                    let lanes = min(16, c - c0)
                    var s = SIMD16<Float>.zero
                    for y in y0..<y1 {
                        for x in x0..<x1 {
                            let p = src + ((n * h + y) * w + x) * c + c0
                            s += lanes == 16 ? load16(p) : loadPartial16(p, lanes)
                        }
                    }
                    s *= scale
                    if lanes == 16 { store16(s, o + c0) } else { storePartial16(s, o + c0, lanes) }
                    c0 += 16
                }
            }
        }
    }
}
