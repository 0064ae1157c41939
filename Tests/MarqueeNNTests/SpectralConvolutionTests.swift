import XCTest
@testable import MarqueeNN

/// FFT-domain single-channel convolutions with a fused max/min, against a direct loop.
final class SpectralConvolutionTests: XCTestCase {
    struct Case {
        var batch = 1
        var a: Int
        var b: Int
        var axis: SpectralAxis
        var kernel: Size2
        var channels: Int
        var padTop = 0
        var padBottom = 0
        var padLeft = 0
        var outputWidth: Int
        var reduction: SpectralReduction
    }

    /// Direct convolution, then the max and min over the reduced axis.
    private func reference(_ c: Case, input: [Float], weight: [Float], bias: [Float]) -> (max: [Float], min: [Float]) {
        let rows = c.axis == .inner ? c.a : c.b, width = c.axis == .inner ? c.b : c.a
        func pixel(_ n: Int, _ row: Int, _ col: Int) -> Float {
            guard row >= 0 && row < rows && col >= 0 && col < width else { return 0 }
            return c.axis == .inner ? input[(n * c.a + row) * c.b + col] : input[(n * c.a + col) * c.b + row]
        }
        let outRows = rows + c.padTop + c.padBottom - c.kernel.h + 1
        let reduced = c.reduction == .overWidth ? outRows : c.outputWidth
        var hi = [Float](repeating: -.infinity, count: c.batch * reduced * c.channels), lo = hi.map { _ in Float.infinity }
        for n in 0..<c.batch {
            for r in 0..<outRows {
                for p in 0..<c.outputWidth {
                    for ch in 0..<c.channels {
                        var sum = Double(bias[ch])
                        for dy in 0..<c.kernel.h {
                            for j in 0..<c.kernel.w {
                                sum += Double(pixel(n, r + dy - c.padTop, p - c.padLeft + j))
                                    * Double(weight[(dy * c.kernel.w + j) * c.channels + ch])
                            }
                        }
                        let o = (n * reduced + (c.reduction == .overWidth ? r : p)) * c.channels + ch
                        hi[o] = max(hi[o], Float(sum))
                        lo[o] = min(lo[o], Float(sum))
                    }
                }
            }
        }
        return (hi, lo)
    }

    private func check(_ c: Case, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = TestRandom(seed: seed)
        let input = Tensor(shape: [c.batch, c.a, c.b], values: rng.floats(c.batch * c.a * c.b))
        let weight = rng.floats(c.kernel.h * c.kernel.w * c.channels), bias = rng.floats(c.channels)
        let width = c.axis == .inner ? c.b : c.a, rows = c.axis == .inner ? c.a : c.b
        let weights = SpectralConvWeights(hwo: weight, bias: bias, outChannels: c.channels, kernel: c.kernel,
                                          inputWidth: width, padLeft: c.padLeft, outputWidth: c.outputWidth)
        let spectra = RowSpectra()
        let pool = ThreadPool(threadCount: 2)
        spectra.compute(input, shape: (c.batch, c.a, c.b), axis: c.axis, fft: weights.fft,
                        padTop: c.padTop, padBottom: c.padBottom, pool: pool)
        let outRows = rows + c.padTop + c.padBottom - c.kernel.h + 1
        let reduced = c.reduction == .overWidth ? outRows : c.outputWidth
        let hi = GuardedTensor(shape: [c.batch, reduced, c.channels]), lo = GuardedTensor(shape: [c.batch, reduced, c.channels])
        spectralConvolution(max: hi.tensor, min: lo.tensor, spectra: spectra, weights: weights,
                            reduction: c.reduction, pool: pool)
        let expected = reference(c, input: input.toArray(), weight: weight, bias: bias)
        let context = "\(c.batch)x\(c.a)x\(c.b) \(c.axis) kernel \(c.kernel) pads \(c.padTop)|\(c.padBottom)|\(c.padLeft) "
            + "\(c.channels) channels, \(c.outputWidth) wide, \(c.reduction), n \(weights.fft.size)"
        assertClose(hi.tensor.toArray(), expected.max, tolerance: 1e-4, "max " + context, file: file, line: line)
        assertClose(lo.tensor.toArray(), expected.min, tolerance: 1e-4, "min " + context, file: file, line: line)
        hi.assertGuardsIntact("max " + context, file: file, line: line)
        lo.assertGuardsIntact("min " + context, file: file, line: line)
    }

    func testValidConvolutionMaxedOverWidthAcrossChannelTails() {
        var seed: UInt64 = 4300
        for channels in [1, 15, 16, 17, 33] {
            seed += 1
            check(Case(a: 9, b: 20, axis: .inner, kernel: Size2(3, 7), channels: channels, padTop: 1, padBottom: 1,
                       outputWidth: 14, reduction: .overWidth), seed: seed)
        }
    }

    func testRowCountsAcrossTheTwoRowPairsAndEightRowTiles() {
        var seed: UInt64 = 4400
        for rows in [1, 2, 3, 7, 8, 9, 16, 17] {
            seed += 1
            check(Case(batch: 2, a: rows, b: 12, axis: .inner, kernel: Size2(2, 5), channels: 17, padTop: 1,
                       outputWidth: 8, reduction: .overWidth), seed: seed)
        }
    }

    func testOddAndEvenOutputWidthsAndFFTSizes() {
        var seed: UInt64 = 4500
        for (width, kw) in [(3, 1), (4, 2), (5, 5), (8, 3), (31, 10), (33, 32), (96, 38), (96, 67)] {
            seed += 1
            check(Case(a: 3, b: width, axis: .inner, kernel: Size2(1, kw), channels: 9,
                       outputWidth: width - kw + 1, reduction: .overWidth), seed: seed)
        }
    }

    func testSamePaddedConvolutionAlongTheOuterAxisMaxedOverRows() {
        var seed: UInt64 = 4600
        for (length, kw, rows) in [(5, 4, 1), (12, 3, 16), (17, 8, 17), (40, 16, 33), (187, 128, 6)] {
            seed += 1
            check(Case(batch: 2, a: length, b: rows, axis: .outer, kernel: Size2(1, kw), channels: 19,
                       padLeft: (kw - 1) / 2, outputWidth: length, reduction: .overRows), seed: seed)
        }
    }

    func testTallKernelMaxedOverRowsAndWideKernelMaxedOverWidth() {
        check(Case(a: 10, b: 6, axis: .outer, kernel: Size2(3, 4), channels: 16, padTop: 2, padBottom: 1,
                   padLeft: 1, outputWidth: 10, reduction: .overRows), seed: 4701)
        check(Case(batch: 3, a: 23, b: 96, axis: .inner, kernel: Size2(7, 38), channels: 20, padTop: 3, padBottom: 3,
                   outputWidth: 59, reduction: .overWidth), seed: 4702)
    }

    func testFFTSizeLeavesNoWrappedRead() {
        // Valid outputs only need n >= the row; 'same' padding needs room for the padding too.
        XCTAssertEqual(SpectralConvWeights.fftSize(inputWidth: 96, kernelWidth: 38, padLeft: 0, outputWidth: 59), 128)
        XCTAssertEqual(SpectralConvWeights.fftSize(inputWidth: 187, kernelWidth: 128, padLeft: 63, outputWidth: 187), 256)
        XCTAssertEqual(SpectralConvWeights.fftSize(inputWidth: 128, kernelWidth: 1, padLeft: 0, outputWidth: 128), 128)
        XCTAssertEqual(SpectralConvWeights.fftSize(inputWidth: 128, kernelWidth: 3, padLeft: 1, outputWidth: 128), 256)
    }
}
