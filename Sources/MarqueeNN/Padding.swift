// Spatial constant padding of NHWC tensors (for convolutions whose padding is a separate op
// in the source network, e.g. ZeroPadding2D before a "valid" convolution).

/// out[N, top + H + bottom, left + W + right, C] = in, surrounded by `value`.
public func pad(out: Tensor, in input: Tensor, top: Int, left: Int, bottom: Int, right: Int,
                value: Float = 0, pool: ThreadPool = .shared) {
    precondition(input.rank == 4 && top >= 0 && left >= 0 && bottom >= 0 && right >= 0, "pad: bad input or padding")
    precondition(out.shape == [input.n, input.h + top + bottom, input.w + left + right, input.c],
                 "pad: \(input.shape) padded (\(top), \(left), \(bottom), \(right)) -> \(out.shape)")
    let (h, w, c, oh, ow) = (input.h, input.w, input.c, out.h, out.w)
    let src = input.data, dst = out.data
    pool.parallelFor(count: out.n * oh, work: out.count) { range in
        for row in range {
            let n = row / oh, oy = row % oh
            let o = dst + row * ow * c
            let iy = oy - top
            if iy < 0 || iy >= h {
                o.update(repeating: value, count: ow * c)
                continue
            }
            o.update(repeating: value, count: left * c)
            (o + left * c).update(from: src + ((n * h + iy) * w) * c, count: w * c)
            (o + (left + w) * c).update(repeating: value, count: right * c)
        }
    }
}
