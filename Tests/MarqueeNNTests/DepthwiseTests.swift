import XCTest
@testable import MarqueeNN

final class DepthwiseTests: XCTestCase {
    func testDepthwiseMatchesReferenceAcrossChannelTails() {
        var seed: UInt64 = 700
        for c in [1, 8, 15, 16, 17, 24, 33, 40] {
            for (kernel, stride) in [(Size2(3, 3), Size2(1, 1)), (Size2(3, 3), Size2(2, 2)), (Size2(5, 5), Size2(2, 2))] {
                seed += 1
                checkConv(ConvCase(h: 9, w: 8, cin: c, cout: c, kernel: kernel, stride: stride, groups: c,
                                   padding: seed % 2 == 0 ? .same : .symmetric(Size2(kernel.h / 2, kernel.w / 2)),
                                   activation: seed % 3 == 0 ? .relu6 : .relu), seed: seed)
            }
        }
    }

    func testDepthwiseWithDilationNonSquareKernelAndBatch() {
        checkConv(ConvCase(batch: 2, h: 11, w: 7, cin: 20, cout: 20, kernel: 3, dilation: Size2(2, 2), groups: 20, padding: .symmetric(2)), seed: 801)
        checkConv(ConvCase(h: 6, w: 9, cin: 17, cout: 17, kernel: Size2(1, 4), stride: Size2(1, 3), groups: 17, padding: .valid), seed: 802)
        checkConv(ConvCase(h: 3, w: 3, cin: 16, cout: 16, kernel: 5, groups: 16, padding: .symmetric(2)), seed: 803)
    }

    func testDepthwiseFourPixelInteriorPathMatchesReferenceForStridesAndDilations() {
        // Wide rows, so that runs of four interior pixels exist for every stride and dilation.
        var seed: UInt64 = 850
        for (kernel, stride, dilation) in [(Size2(3, 3), Size2(1, 1), Size2(1, 1)), (Size2(3, 3), Size2(2, 2), Size2(1, 1)),
                                           (Size2(5, 5), Size2(1, 2), Size2(1, 1)), (Size2(3, 3), Size2(1, 1), Size2(1, 3)),
                                           (Size2(5, 5), Size2(2, 2), Size2(1, 1))] {
            for c in [16, 33] {
                seed += 1
                checkConv(ConvCase(h: 5, w: 29, cin: c, cout: c, kernel: kernel, stride: stride, dilation: dilation,
                                   groups: c, padding: seed % 2 == 0 ? .same : .valid, activation: .relu6), seed: seed)
            }
        }
    }

    func testDepthwiseMatchesReferenceWhenRunOnOneThread() {
        checkConv(ConvCase(h: 12, w: 12, cin: 33, cout: 33, kernel: 3, groups: 33, padding: .same), seed: 901, pool: .serial)
    }
}

final class DepthwisePaddedRowTests: XCTestCase {
    func testUndilatedDepthwiseMatchesReferenceAcrossWidthsChannelsAndPaddings() {
        // Widths around the eight- and four-pixel groups (the last group overlaps the one before it).
        let paddings: [Padding2D] = [.same, .valid, .symmetric(Size2(2, 2)), .explicit(top: 0, left: 3, bottom: 1, right: 0)]
        var seed: UInt64 = 6000
        for w in [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 17] {
            for (kernel, stride) in [(Size2(3, 3), Size2(1, 1)), (Size2(3, 3), Size2(2, 2)), (Size2(5, 5), Size2(1, 1)),
                                     (Size2(5, 5), Size2(2, 2)), (Size2(3, 5), Size2(2, 1))] {
                for c in [1, 15, 16, 17, 33] {
                    seed += 1
                    let padding = paddings[Int(seed) % paddings.count]
                    let size = padding.outputSize(input: Size2(6, w), kernel: kernel, stride: stride)
                    guard size.h > 0 && size.w > 0 else { continue }
                    checkConv(ConvCase(batch: seed % 4 == 0 ? 2 : 1, h: 6, w: w, cin: c, cout: c, kernel: kernel, stride: stride,
                                       groups: c, padding: padding, activation: [.relu6, .none, .relu][Int(seed % 3)]), seed: seed)
                }
            }
        }
    }

    func testUndilatedDepthwiseMatchesReferenceWithManyBandsAndOnOneThread() {
        // 60 rows on four threads: several bands per image, each with its own halo rows.
        checkConv(ConvCase(h: 60, w: 10, cin: 17, cout: 17, kernel: 5, groups: 17, padding: .same, activation: .relu6),
                  seed: 6501, pool: ThreadPool(threadCount: 4))
        checkConv(ConvCase(h: 61, w: 9, cin: 32, cout: 32, kernel: 3, stride: 2, groups: 32, padding: .same),
                  seed: 6502, pool: ThreadPool(threadCount: 2))
        checkConv(ConvCase(batch: 3, h: 7, w: 7, cin: 48, cout: 48, kernel: 5, groups: 48, padding: .same), seed: 6503, pool: .serial)
    }

    /// 300 channels on 9-pixel rows: two channel slices (144 and 156 channels, the second
    /// ending in a 12-channel tail), each with its own ring; alone and with bands.
    func testUndilatedDepthwiseMatchesReferenceAcrossChannelSlices() {
        checkConv(ConvCase(h: 9, w: 9, cin: 300, cout: 300, kernel: 5, groups: 300, padding: .same, activation: .relu6),
                  seed: 6504, pool: .serial)
        checkConv(ConvCase(batch: 2, h: 11, w: 9, cin: 300, cout: 300, kernel: 3, stride: 2, groups: 300, padding: .same),
                  seed: 6505, pool: ThreadPool(threadCount: 2))
        checkConv(ConvCase(h: 7, w: 7, cin: 1152, cout: 1152, kernel: 5, groups: 1152, padding: .same), seed: 6506,
                  pool: ThreadPool(threadCount: 2))
    }

    /// The rows kernel runs in SIMD8 or SIMD16 depending on the machine; both widths are
    /// checked here, whichever this machine's convolutions use: every output row group of an
    /// image (rows padded by hand, a shared zero row above and below) against the direct
    /// convolution, on widths around the seven-, eight- and four-pixel groups and channel
    /// tails, with the kernel widths compiled as constants (3, 5) and another (7).
    func testRowsKernelMatchesReferenceInBothVectorWidths() {
        var seed: UInt64 = 6600
        for (kernel, stride) in [(Size2(3, 3), 1), (Size2(5, 5), 1), (Size2(3, 7), 1), (Size2(3, 3), 2), (Size2(5, 5), 2)] {
            for w in [1, 4, 7, 8, 9, 12, 15, 17] {
                for c in [1, 8, 15, 16, 17, 33] {
                    seed += 1
                    checkRows(h: 5, w: w, channels: c, kernel: kernel, stride: stride, outRows: 1 + Int(seed % 3),
                              vector: SIMD8<Float>.self, seed: seed)
                    checkRows(h: 5, w: w, channels: c, kernel: kernel, stride: stride, outRows: 1 + Int(seed % 3),
                              vector: SIMD16<Float>.self, seed: seed)
                }
            }
        }
    }

    private func checkRows<V: FloatVector>(h: Int, w: Int, channels c: Int, kernel: Size2, stride: Int, outRows: Int,
                                           vector: V.Type, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = TestRandom(seed: seed)
        let x = randomTensor([1, h, w, c], &rng)
        let weight = rng.floats(c * kernel.h * kernel.w), bias = rng.floats(c)
        let padding = Padding2D.symmetric(Size2(kernel.h / 2, kernel.w / 2))
        let context = "\(V.self) \(h)x\(w)x\(c) k\(kernel) s\(stride) \(outRows) rows"
        let expected = referenceConv2d(x, weight: weight, bias: bias, outChannels: c, kernel: kernel, groups: c,
                                       stride: Size2(stride, stride), dilation: 1, padding: padding, activation: .relu6)
        let outH = expected.shape[1], outW = expected.shape[2]
        // Padded rows: pad columns each side, 16 floats to spare at the end, zero rows outside.
        let padW = kernel.w / 2, padH = kernel.h / 2
        let rowFloats = (w + 2 * padW) * c + 16
        let padded = TensorStorage(capacity: (h + 2 * padH) * rowFloats)
        padded.pointer.initialize(repeating: 0, count: (h + 2 * padH) * rowFloats)
        let input = x.toArray()
        for y in 0..<h {
            for i in 0..<(w * c) { padded.pointer[(y + padH) * rowFloats + padW * c + i] = input[y * w * c + i] }
        }
        let weights = DepthwiseWeights(oihw: weight, bias: bias, channels: c, kernel: kernel)
        let out = GuardedTensor(shape: [1, outH, outW, c])
        var oy = 0
        while oy < outH {
            let count = min(outRows, outH - oy)
            let rows = (0..<((count - 1) * stride + kernel.h)).map {
                UnsafePointer(padded.pointer + (oy * stride + $0) * rowFloats)
            }
            rows.withUnsafeBufferPointer { rows in
                depthwisePaddedRows(out: out.tensor.data + oy * outW * c, outRowStride: outW * c, outStride: c, outW: outW,
                                    outRows: count, rows: rows.baseAddress!, rowStride: stride, pixelStride: c, stride: stride,
                                    channels: 0..<c, weights: weights, epilogue: Epilogue(.relu6), vector: V.self)
            }
            oy += count
        }
        assertClose(out.tensor.toArray(), expected.values, tolerance: 2e-5, context, file: file, line: line)
        out.assertGuardsIntact(context, file: file, line: line)
    }
}
