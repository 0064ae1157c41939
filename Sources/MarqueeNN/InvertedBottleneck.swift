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
//
// Small images (14x14, 7x7) split badly into bands: a few rows each, every ring row's GEMM
// a handful of pixels, and halo rows expanded twice. Run as three convolutions, though,
// each layer (and the residual sum) is a loop of its own that both threads must finish
// before the next starts. Split by channels instead, each thread takes a slice of the
// hidden channels through the whole block: it expands the image into its slice, runs the
// depthwise convolution on it, and projects it with the matching rows of the projection's
// weights. The projections of the slices are partial sums, added (with the input) in one
// more loop: two loops per block instead of three or four. On EfficientNet-Lite0's eleven
// 14- and 7-pixel blocks this made batch 1 on two threads 4.5% faster (one thread: 1%).

/// How the fused block divides its work among threads.
public enum BottleneckSplit: Sendable {
    /// Bands of output rows, each through the whole block (images 28 pixels and wider).
    case rows
    /// Slices of the hidden channels over the whole image, their projections summed.
    case channels
}

/// out[N, OH, OW, Cout] = project(act(depthwise(act(expand(in[N, H, W, Cin]))))) (+ in).
///
/// `expand` (1x1, Cin -> hidden; nil when the block does not expand and hidden = Cin),
/// `depthwise` (hidden channels, any kernel size; `stride` and `padding` apply to it),
/// `project` (1x1, hidden -> Cout, no activation). With `residual` the input is added to the
/// projection; it needs stride 1 and Cin = Cout. `split` says how threads share the work;
/// the result is the same either way (up to the order of the projection's sums).
public func invertedBottleneck(out: Tensor, in input: Tensor, expand: Conv2DWeights?, depthwise: Conv2DWeights,
                               project: Conv2DWeights, stride: Int, padding: Padding2D = .same,
                               activation: Activation = .relu6, residual: Bool, split: BottleneckSplit = .rows,
                               pool: ThreadPool = .shared) {
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
    if split == .channels {
        bottleneckByChannels(out: out, in: input, expand: expandMatrix, depthwise: dw, project: projectMatrix,
                             stride: stride, padTop: pad.top, padLeft: pad.left, activation: activation,
                             residual: residual, pool: pool)
        return
    }

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

/// The block split by hidden channels (see the top of the file): one slice per thread when
/// the batch has fewer images than threads, else each image whole in one slice.
private func bottleneckByChannels(out: Tensor, in input: Tensor, expand: PackedMatrix?, depthwise dw: DepthwiseWeights,
                                  project: PackedMatrix, stride: Int, padTop: Int, padLeft: Int,
                                  activation: Activation, residual: Bool, pool: ThreadPool) {
    let n = input.n, h = input.h, w = input.w, cin = input.c
    let outH = out.h, outW = out.w, cout = out.c, hidden = dw.channels, kernel = dw.kernel
    let blocks = (hidden + 15) / 16
    let slices = n >= pool.threadCount ? 1 : min(blocks, pool.threadCount)
    let sliceBlocks = (blocks + slices - 1) / slices, sliceWidth = sliceBlocks * 16
    let paddedW = max(padLeft + w, (outW - 1) * stride + kernel.w)
    // The depthwise convolution walks a slice in parts whose ring stays small, as the
    // standalone layer does (see depthwiseConv2dPaddedRows): 1152 channels on 7-pixel rows
    // in one ring measured 5% slower on those blocks.
    let partBlocks = depthwiseBlocksPerPass(sliceBlocks, paddedWidth: paddedW, stride: stride, kernelH: kernel.h)
    let partWidth = min(sliceWidth, partBlocks * 16)
    let ring = PaddedRowRing(paddedWidth: paddedW, pixelStride: partWidth, kernelH: kernel.h, stride: stride)
    let outPixels = outH * outW
    // With one slice the projection (and the residual) goes straight to `out`.
    let partials = slices > 1 ? TensorStorage(capacity: slices * n * outPixels * cout) : nil
    let expandedFloats = expand == nil ? 0 : h * w * sliceWidth
    let scratchFloats = ring.floats + expandedFloats + outPixels * sliceWidth + 16
    let hiddenEpilogue = Epilogue(activation), projectEpilogue = Epilogue(.none)
    let expandWork = expand == nil ? 0 : h * w * cin * hidden
    let work = 2 * n * (expandWork + outPixels * hidden * (kernel.h * kernel.w + cout))
    let source = UnsafePointer(input.data), destination = out.data
    pool.parallelFor(count: n * slices, work: work) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats)
        defer { scratch.deallocate() }
        initializePaddedRing(scratch, slots: ring.slots, rowFloats: ring.rowFloats, pixelStride: partWidth,
                             interiorStart: padLeft, interiorPixels: w)
        let expanded = scratch + ring.floats, depthwiseOut = expanded + expandedFloats
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: ring.slots) { windowRows in
            let window = windowRows.baseAddress!
            for item in range {
                let image = item / slices, slice = item % slices
                let first = blocks * slice / slices * 16, end = min(hidden, blocks * (slice + 1) / slices * 16)
                let imageIn = source + image * h * w * cin
                // The slice's hidden pixels: expanded, `sliceWidth` apart, or the input's own.
                let hiddenPixels: UnsafePointer<Float>, hiddenStride: Int
                if let expand {
                    gemmOnCallingThread(m: h * w, a: imageIn, lda: cin, b: expand, panels: first / 16..<(end + 15) / 16,
                                        epilogue: hiddenEpilogue, out: expanded, ldc: sliceWidth)
                    hiddenPixels = UnsafePointer(expanded)
                    hiddenStride = sliceWidth
                } else {
                    hiddenPixels = imageIn + first
                    hiddenStride = cin
                }
                var part = first
                while part < end {
                    let partEnd = min(end, part + partWidth), offset = part - first
                    ring.walk(0..<outH, padTop: padTop, padLeftFloats: padLeft * partWidth, inH: h,
                              scratch: scratch, window: window,
                              fill: { slot, iy in
                                  let row = hiddenPixels + iy * w * hiddenStride + offset
                                  if hiddenStride == partWidth {
                                      slot.update(from: row, count: w * partWidth)
                                  } else {
                                      for x in 0..<w {
                                          (slot + x * partWidth).update(from: row + x * hiddenStride, count: partEnd - part)
                                      }
                                  }
                              },
                              compute: { oy, count in
                                  // The rows kernel indexes its output by absolute channel.
                                  depthwisePaddedRows(out: depthwiseOut + oy * outW * sliceWidth - first,
                                                      outRowStride: outW * sliceWidth, outStride: sliceWidth, outW: outW,
                                                      outRows: count, rows: window, rowStride: stride, pixelStride: partWidth,
                                                      stride: stride, channels: part..<partEnd, weights: dw,
                                                      epilogue: hiddenEpilogue)
                              })
                    part = partEnd
                }
                let pixel = image * outPixels
                let target = partials.map { $0.pointer + (slice * n * outPixels + pixel) * cout } ?? destination + pixel * cout
                gemmOnCallingThread(m: outPixels, a: depthwiseOut, lda: sliceWidth, b: project, depth: first..<end,
                                    addsBias: slice == 0, epilogue: projectEpilogue, out: target, ldc: cout,
                                    residual: partials == nil && residual ? source + pixel * cin : nil, ldr: cin)
            }
        }
    }
    guard let partials else { return }
    let count = n * outPixels * cout, blockCount = (count + 15) / 16
    let sums = UnsafePointer(partials.pointer)
    pool.parallelFor(count: blockCount, work: count * slices) { range in
        for block in range {
            let i = block * 16
            if i + 16 <= count {
                var sum = residual ? load16(source + i) : SIMD16<Float>()
                for slice in 0..<slices { sum += load16(sums + slice * count + i) }
                store16(sum, destination + i)
            } else {
                for j in i..<count {
                    var sum = residual ? source[j] : 0
                    for slice in 0..<slices { sum += sums[slice * count + j] }
                    destination[j] = sum
                }
            }
        }
    }
    withExtendedLifetime(partials) {}
}
