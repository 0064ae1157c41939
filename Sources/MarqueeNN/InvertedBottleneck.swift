// Inverted residual block (MobileNetV2; EfficientNet's MBConv without squeeze-excitation):
// expand 1x1 + activation -> depthwise k x k / stride + activation -> project 1x1 (+ input).
//
// Run as three convolutions, the expanded tensor (112x112x96 floats, 4.8 MB, in
// EfficientNet-Lite0's second block) is written to memory and read back by the depthwise
// convolution, whose output makes the same trip into the projection. Here a thread walks
// down a band of output rows instead, a few rows at a time: the input rows they need are
// expanded into a ring of rows, their depthwise rows are computed from the ring into a small
// buffer, and those rows are projected straight into the output. Ring and buffer stay in
// L2; only the block's input and output touch memory.
//
// Ring rows carry the depthwise padding as zero columns, and a window row outside the image
// is a shared row of zeros, so the depthwise kernel has no edge cases.
//
// Bands overlap by the depthwise window's halo (a band's first input rows are expanded by
// the band above too), so an image is cut into as few bands as keep every thread busy: one
// band per image when the batch has at least as many images as threads, else one band per
// thread.

/// out[N, OH, OW, Cout] = project(act(depthwise(act(expand(in[N, H, W, Cin]))))) (+ in).
///
/// `expand` (1x1, Cin -> hidden; nil when the block does not expand and hidden = Cin),
/// `depthwise` (hidden channels, any kernel size; `stride` and `padding` apply to it),
/// `project` (1x1, hidden -> Cout, no activation). With `residual` the input is added to the
/// projection; it needs stride 1 and Cin = Cout.
public func invertedBottleneck(out: Tensor, in input: Tensor, expand: Conv2DWeights?, depthwise: Conv2DWeights,
                               project: Conv2DWeights, stride: Int, padding: Padding2D = .same,
                               activation: Activation = .relu6, residual: Bool, pool: ThreadPool = .shared) {
    precondition(input.rank == 4, "invertedBottleneck: input \(input.shape) is not NHWC")
    let n = input.n, h = input.h, w = input.w, cin = input.c
    guard case let .depthwise(dw) = depthwise.packing else {
        preconditionFailure("invertedBottleneck: the depthwise weights are not a depthwise convolution")
    }
    let hidden = dw.channels
    var expandMatrix: PackedMatrix?
    if let expand {
        guard case let .gemm(mats) = expand.packing, expand.groups == 1, expand.kernel == Size2(1, 1),
              expand.inChannels == cin, expand.outChannels == hidden else {
            preconditionFailure("invertedBottleneck: expand must be a 1x1 convolution \(cin) -> \(hidden)")
        }
        expandMatrix = mats[0]
    } else {
        precondition(cin == hidden, "invertedBottleneck: \(cin) input channels for a \(hidden)-channel depthwise")
    }
    guard case let .gemm(projectMats) = project.packing, project.groups == 1, project.kernel == Size2(1, 1),
          project.inChannels == hidden else {
        preconditionFailure("invertedBottleneck: project must be a 1x1 convolution from \(hidden) channels")
    }
    let projectMatrix = projectMats[0]
    let cout = project.outChannels
    let kernel = dw.kernel, kh = kernel.h
    let strides = Size2(stride, stride)
    let outSize = padding.outputSize(input: Size2(h, w), kernel: kernel, stride: strides)
    let outH = outSize.h, outW = outSize.w
    precondition(out.shape == [n, outH, outW, cout], "invertedBottleneck: out \(out.shape), expected \([n, outH, outW, cout])")
    precondition(!residual || input.shape == out.shape, "invertedBottleneck: residual needs in \(input.shape) = out \(out.shape)")
    guard out.count > 0 else { return }
    let pad = padding.resolved(input: Size2(h, w), kernel: kernel, stride: strides, dilation: 1)

    // Groups of output rows at a time (see depthwisePaddedRows); each group's depthwise
    // rows are projected by one GEMM call, into consecutive output rows.
    let paddedW = max(pad.left + w, (outW - 1) * stride + kernel.w)
    let ring = PaddedRowRing(paddedWidth: paddedW, pixelStride: hidden, kernelH: kh, stride: stride,
                             extraBytesPerOutRow: outW * hidden * 4)
    let scratchFloats = ring.floats + ring.outRows * outW * hidden + 16
    let bandsPerImage = n >= pool.threadCount ? 1 : min(outH, (pool.threadCount + n - 1) / n)
    let hiddenEpilogue = Epilogue(activation), projectEpilogue = Epilogue(.none)
    let expandWork = expandMatrix == nil ? 0 : h * w * cin * hidden
    let work = 2 * n * (expandWork + outH * outW * hidden * (kernel.h * kernel.w + cout))
    let source = UnsafePointer(input.data), destination = out.data
    pool.parallelFor(count: n * bandsPerImage, work: work) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats)
        defer { scratch.deallocate() }
        initializePaddedRing(scratch, slots: ring.slots, rowFloats: ring.rowFloats, pixelStride: hidden,
                             interiorStart: pad.left, interiorPixels: w)
        // Every float of a group's depthwise rows is written before the projection reads it.
        let depthwiseRows = scratch + ring.floats
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: ring.slots) { windowRows in
            let window = windowRows.baseAddress!
            for item in range {
                let image = item / bandsPerImage, band = item % bandsPerImage
                let firstOutRow = outH * band / bandsPerImage, endOutRow = outH * (band + 1) / bandsPerImage
                let imageIn = source + image * h * w * cin
                ring.walk(firstOutRow..<endOutRow, padTop: pad.top, padLeftFloats: pad.left * hidden, inH: h,
                          scratch: scratch, window: window,
                          fill: { slot, iy in
                              let row = imageIn + iy * w * cin
                              if let expandMatrix {
                                  gemmOnCallingThread(m: w, a: row, lda: cin, b: expandMatrix, epilogue: hiddenEpilogue,
                                                      out: slot, ldc: hidden)
                              } else {
                                  slot.update(from: row, count: w * cin)
                              }
                          },
                          compute: { oy, count in
                              depthwisePaddedRows(out: depthwiseRows, outRowStride: outW * hidden, outStride: hidden,
                                                  outW: outW, outRows: count, rows: window, rowStride: stride,
                                                  pixelStride: hidden, stride: stride, channels: 0..<hidden, weights: dw,
                                                  epilogue: hiddenEpilogue)
                              let pixel = (image * outH + oy) * outW
                              gemmOnCallingThread(m: count * outW, a: depthwiseRows, lda: hidden, b: projectMatrix,
                                                  epilogue: projectEpilogue, out: destination + pixel * cout, ldc: cout,
                                                  residual: residual ? source + pixel * cin : nil, ldr: cin)
                          })
            }
        }
    }
}
