import XCTest
@testable import MarqueeNN

/// Direct convolution on NHWC input with PyTorch OIHW weights.
func referenceConv2d(_ x: Tensor, weight: [Float], bias: [Float]?, outChannels cout: Int, kernel: Size2,
                     groups: Int, stride: Size2, dilation: Size2, padding: Padding2D,
                     activation: Activation = .none) -> (shape: [Int], values: [Float]) {
    let (n, h, w, cin) = (x.n, x.h, x.w, x.c)
    let cinG = cin / groups, coutG = cout / groups
    let size = padding.outputSize(input: Size2(h, w), kernel: kernel, stride: stride, dilation: dilation)
    let pad = padding.resolved(input: Size2(h, w), kernel: kernel, stride: stride, dilation: dilation)
    let input = x.toArray()
    var out = [Float](repeating: 0, count: n * size.h * size.w * cout)
    for b in 0..<n {
        for oy in 0..<size.h {
            for ox in 0..<size.w {
                for o in 0..<cout {
                    let g = o / coutG
                    var s = Double(bias?[o] ?? 0)
                    for ky in 0..<kernel.h {
                        for kx in 0..<kernel.w {
                            let iy = oy * stride.h - pad.top + ky * dilation.h
                            let ix = ox * stride.w - pad.left + kx * dilation.w
                            if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                            for i in 0..<cinG {
                                let v = input[((b * h + iy) * w + ix) * cin + g * cinG + i]
                                s += Double(v) * Double(weight[((o * cinG + i) * kernel.h + ky) * kernel.w + kx])
                            }
                        }
                    }
                    out[((b * size.h + oy) * size.w + ox) * cout + o] = applyActivation(Float(s), activation)
                }
            }
        }
    }
    return ([n, size.h, size.w, cout], out)
}

struct ConvCase: CustomStringConvertible {
    var batch = 1
    var h = 7
    var w = 9
    var cin: Int
    var cout: Int
    var kernel: Size2 = 3
    var stride: Size2 = 1
    var dilation: Size2 = 1
    var groups = 1
    var padding: Padding2D = .valid
    var activation: Activation = .none
    var description: String {
        "\(batch)x\(h)x\(w)x\(cin)->\(cout) k\(kernel) s\(stride) d\(dilation) g\(groups) \(padding) \(activation)"
    }
}

func checkConv(_ c: ConvCase, seed: UInt64, pool: ThreadPool = ThreadPool(threadCount: 2),
               file: StaticString = #filePath, line: UInt = #line) {
    var rng = TestRandom(seed: seed)
    let x = randomTensor([c.batch, c.h, c.w, c.cin], &rng)
    let weight = rng.floats(c.cout * (c.cin / c.groups) * c.kernel.h * c.kernel.w)
    let bias = rng.floats(c.cout)
    let weights = Conv2DWeights(oihw: weight, bias: bias, outChannels: c.cout, inChannels: c.cin,
                                kernel: c.kernel, groups: c.groups)
    let expected = referenceConv2d(x, weight: weight, bias: bias, outChannels: c.cout, kernel: c.kernel,
                                   groups: c.groups, stride: c.stride, dilation: c.dilation,
                                   padding: c.padding, activation: c.activation)
    let shape = weights.outputShape(input: x.shape, stride: c.stride, dilation: c.dilation, padding: c.padding)
    XCTAssertEqual(shape, expected.shape, "\(c)", file: file, line: line)
    let out = GuardedTensor(shape: shape)
    conv2d(out: out.tensor, in: x, weights: weights, stride: c.stride, dilation: c.dilation,
           padding: c.padding, activation: c.activation, pool: pool)
    assertClose(out.tensor.toArray(), expected.values, tolerance: 2e-5, "\(c)", file: file, line: line)
    out.assertGuardsIntact("\(c)", file: file, line: line)
}

final class ConvolutionTests: XCTestCase {
    func testConvMatchesReferenceAcrossChannelTails() {
        var seed: UInt64 = 10
        for cin in [1, 3, 15, 16, 17, 33] {
            for cout in [1, 15, 16, 17, 33, 64] {
                seed += 1
                checkConv(ConvCase(cin: cin, cout: cout, padding: .symmetric(1),
                                   activation: seed % 2 == 0 ? .relu6 : .none), seed: seed)
            }
        }
    }

    func testPointwiseConvMatchesReferenceWithStrideAndBatch() {
        for (i, stride) in [Size2(1, 1), Size2(2, 2)].enumerated() {
            for cin in [1, 16, 17, 40] {
                checkConv(ConvCase(batch: 2, h: 6, w: 5, cin: cin, cout: 24, kernel: 1, stride: stride), seed: UInt64(100 + i * 10 + cin))
            }
        }
    }

    func testConvMatchesReferenceForKernelsStridesDilationsAndPaddings() {
        let paddings: [Padding2D] = [.valid, .same, .symmetric(Size2(1, 2)), .explicit(top: 0, left: 1, bottom: 2, right: 0)]
        var seed: UInt64 = 200
        for kernel in [Size2(1, 1), Size2(3, 3), Size2(5, 5), Size2(2, 3), Size2(7, 1)] {
            for stride in [Size2(1, 1), Size2(2, 2), Size2(1, 2)] {
                for dilation in [Size2(1, 1), Size2(2, 1)] {
                    seed += 1
                    let padding = paddings[Int(seed) % paddings.count]
                    checkConv(ConvCase(h: 10, w: 11, cin: 5, cout: 17, kernel: kernel, stride: stride,
                                       dilation: dilation, padding: padding), seed: seed)
                }
            }
        }
    }

    func testTensorFlowSamePaddingPutsTheOddPixelAtTheEnd() {
        let p = Padding2D.same.resolved(input: Size2(8, 7), kernel: 3, stride: 2, dilation: 1)
        XCTAssertEqual([p.top, p.left, p.bottom, p.right], [0, 1, 1, 1])
        XCTAssertEqual(Padding2D.same.outputSize(input: Size2(8, 7), kernel: 3, stride: 2), Size2(4, 4))
    }

    func testGroupedConvMatchesReference() {
        checkConv(ConvCase(h: 6, w: 6, cin: 8, cout: 12, groups: 2, padding: .same), seed: 301)
        checkConv(ConvCase(h: 5, w: 7, cin: 34, cout: 17, kernel: Size2(1, 3), groups: 17, padding: .symmetric(1)), seed: 302)
        checkConv(ConvCase(h: 5, w: 7, cin: 6, cout: 12, groups: 6, padding: .valid), seed: 303)
    }

    func testNonSquareKernelOnMelSpectrogramShape() {
        // MusiCNN-like: a tall kernel over a 96-mel x 40-frame single-channel input.
        checkConv(ConvCase(h: 40, w: 96, cin: 1, cout: 17, kernel: Size2(7, 38), padding: .same), seed: 401)
        // Enough output channels (5 panels, the last partial) that short taps are gathered into a tile.
        checkConv(ConvCase(h: 12, w: 30, cin: 1, cout: 70, kernel: Size2(7, 20),
                           padding: .explicit(top: 3, left: 0, bottom: 3, right: 0), activation: .relu), seed: 403)
        checkConv(ConvCase(batch: 2, h: 9, w: 8, cin: 3, cout: 65, kernel: 3, stride: 2, padding: .same), seed: 404)
    }

    func testTemporalDilatedConvByReshapingTime() {
        // A 3x1x1 temporal conv with dilation 4 on [N=1, T=9, H*W=6, C=5] as a 3x1 conv2d.
        checkConv(ConvCase(h: 9, w: 6, cin: 5, cout: 16, kernel: Size2(3, 1), dilation: Size2(4, 1),
                           padding: .symmetric(Size2(4, 0))), seed: 402)
    }

    func testConvWritesIntoAChannelSliceAndLeavesTheRestUntouched() {
        var rng = TestRandom(seed: 450)
        for (cin, cout, groups, kernel) in [(5, 17, 1, Size2(3, 3)), (33, 33, 33, Size2(3, 3)), (16, 16, 16, Size2(5, 5)), (3, 8, 1, Size2(1, 1))] {
            let x = randomTensor([2, 6, 13, cin], &rng)
            let weight = rng.floats(cout * (cin / groups) * kernel.h * kernel.w), bias = rng.floats(cout)
            let weights = Conv2DWeights(oihw: weight, bias: bias, outChannels: cout, inChannels: cin, kernel: kernel, groups: groups)
            let expected = referenceConv2d(x, weight: weight, bias: bias, outChannels: cout, kernel: kernel, groups: groups,
                                           stride: 1, dilation: 1, padding: .same, activation: .relu)
            let before = 7, after = 4, total = before + cout + after
            let out = GuardedTensor(shape: [2, 6, 13, total])
            conv2d(out: out.tensor, in: x, weights: weights, padding: .same, activation: .relu, outputChannelOffset: before)
            let values = out.tensor.toArray()
            let context = "slice \(cin)->\(cout) groups \(groups) k\(kernel)"
            var slice: [Float] = []
            for p in 0..<(2 * 6 * 13) {
                slice += values[(p * total + before)..<(p * total + before + cout)]
                let others = values[(p * total)..<(p * total + before)] + values[(p * total + before + cout)..<((p + 1) * total)]
                if !others.allSatisfy({ $0 == GuardedTensor.sentinel }) {
                    XCTFail("\(context): pixel \(p) has writes outside its channel slice")
                    break
                }
            }
            assertClose(slice, expected.values, tolerance: 2e-5, context)
            out.assertGuardsIntact(context)
        }
    }

    func testBatchNormIsFoldedIntoTheConvolution() {
        var rng = TestRandom(seed: 500)
        let cin = 3, cout = 17, kernel: Size2 = 3
        let x = randomTensor([1, 5, 6, cin], &rng)
        let weight = rng.floats(cout * cin * 9), bias = rng.floats(cout)
        let bn = BatchNorm(gamma: rng.floats(cout), beta: rng.floats(cout), mean: rng.floats(cout),
                           variance: rng.floats(cout).map { abs($0) + 0.1 }, epsilon: 1e-3)
        let folded = Conv2DWeights(oihw: weight, bias: bias, outChannels: cout, inChannels: cin, kernel: kernel, batchNorm: bn)
        let out = Tensor(shape: folded.outputShape(input: x.shape, padding: .same))
        conv2d(out: out, in: x, weights: folded, padding: .same, pool: .serial)
        let raw = referenceConv2d(x, weight: weight, bias: bias, outChannels: cout, kernel: kernel, groups: 1,
                                  stride: 1, dilation: 1, padding: .same).values
        let expected = raw.enumerated().map { i, v -> Float in
            let c = i % cout
            return (v - bn.mean[c]) / (bn.variance[c] + bn.epsilon).squareRoot() * bn.gamma[c] + bn.beta[c]
        }
        assertClose(out.toArray(), expected, tolerance: 1e-4, "conv + batch norm")
    }

    func testKerasLayoutsMatchThePyTorchLayout() {
        var rng = TestRandom(seed: 600)
        let cin = 4, cout = 6, kernel = Size2(3, 2)
        let x = randomTensor([1, 5, 5, cin], &rng)
        let oihw = rng.floats(cout * cin * 6)
        var hwio = [Float](repeating: 0, count: oihw.count)
        for o in 0..<cout { for i in 0..<cin { for ky in 0..<3 { for kx in 0..<2 {
            hwio[((ky * 2 + kx) * cin + i) * cout + o] = oihw[((o * cin + i) * 3 + ky) * 2 + kx]
        } } } }
        let a = Tensor(shape: [1, 3, 4, cout]), b = Tensor(shape: [1, 3, 4, cout])
        conv2d(out: a, in: x, weights: Conv2DWeights(oihw: oihw, bias: nil, outChannels: cout, inChannels: cin, kernel: kernel))
        conv2d(out: b, in: x, weights: Conv2DWeights(hwio: hwio, bias: nil, outChannels: cout, inChannels: cin, kernel: kernel))
        assertClose(b.toArray(), a.toArray(), "HWIO vs OIHW")

        // Depthwise [kh, kw, C, multiplier=2]: output channel c*2+m reads input channel c.
        let dw = rng.floats(3 * 2 * cin * 2)
        var dwOIHW = [Float](repeating: 0, count: dw.count)
        for ky in 0..<3 { for kx in 0..<2 { for o in 0..<(cin * 2) {
            dwOIHW[(o * 3 + ky) * 2 + kx] = dw[(ky * 2 + kx) * cin * 2 + o]
        } } }
        let c = Tensor(shape: [1, 3, 4, cin * 2]), d = Tensor(shape: [1, 3, 4, cin * 2])
        conv2d(out: c, in: x, weights: Conv2DWeights(kerasDepthwise: dw, bias: nil, channels: cin, depthMultiplier: 2, kernel: kernel))
        conv2d(out: d, in: x, weights: Conv2DWeights(oihw: dwOIHW, bias: nil, outChannels: cin * 2, inChannels: cin, kernel: kernel, groups: cin))
        assertClose(c.toArray(), d.toArray(), "Keras depthwise vs grouped OIHW")
    }
}

final class PointwiseConvolutionTests: XCTestCase {
    func testStrideOnePointwiseConvMatchesReferenceAcrossPixelAndChannelTails() {
        // Stride 1 without padding reads output pixel p's row at input pixel p.
        var seed: UInt64 = 3000
        for (h, w) in [(1, 1), (1, 5), (3, 5), (4, 4), (5, 7)] {
            for cin in [1, 15, 16, 17, 33] {
                for cout in [1, 15, 16, 17, 33] {
                    seed += 1
                    checkConv(ConvCase(batch: seed % 3 == 0 ? 2 : 1, h: h, w: w, cin: cin, cout: cout, kernel: 1,
                                       activation: seed % 2 == 0 ? .relu6 : .none), seed: seed)
                }
            }
        }
    }
}

final class RowTapConvolutionTests: XCTestCase {
    func testFewChannelConvMatchesReferenceForKernelsStridesPaddingsAndTails() {
        // Few input channels: each kernel row is one tap of kernel.w * cin consecutive floats,
        // and windows that leave the image sideways are copied with zeros.
        let paddings: [Padding2D] = [.same, .valid, .symmetric(Size2(1, 2)), .explicit(top: 2, left: 0, bottom: 0, right: 3)]
        var seed: UInt64 = 4000
        for cin in [1, 2, 3, 5, 10] {
            for (kernel, stride) in [(Size2(3, 3), Size2(2, 2)), (Size2(3, 3), Size2(1, 1)), (Size2(5, 5), Size2(1, 2)),
                                     (Size2(2, 3), Size2(2, 1)), (Size2(1, 7), Size2(1, 1))] where kernel.w * cin <= 32 {
                for cout in [1, 16, 17, 33] {
                    seed += 1
                    checkConv(ConvCase(batch: seed % 2 == 0 ? 2 : 1, h: 7 + Int(seed % 3), w: 9 + Int(seed % 5), cin: cin,
                                       cout: cout, kernel: kernel, stride: stride, padding: paddings[Int(seed) % paddings.count],
                                       activation: seed % 3 == 0 ? .relu6 : .none), seed: seed)
                }
            }
        }
    }

    func testFewChannelConvWithVerticalDilationAndAnImageNarrowerThanTheKernel() {
        checkConv(ConvCase(h: 9, w: 8, cin: 3, cout: 17, kernel: 3, dilation: Size2(2, 1), padding: .symmetric(Size2(2, 1))), seed: 4101)
        checkConv(ConvCase(h: 5, w: 2, cin: 3, cout: 8, kernel: 3, padding: .same), seed: 4102)
        checkConv(ConvCase(h: 1, w: 1, cin: 2, cout: 5, kernel: 5, stride: 2, padding: .same), seed: 4103)
    }
}
