import XCTest
@testable import MarqueeNN

/// Direct 3D convolution on [N, T, H, W, C] input with PyTorch OIDHW weights, reading
/// channels inChannel..<inChannel+cin; returns the [N, OT, OH, OW, cout] result.
func referenceConv3d(_ x: Tensor, inChannel: Int = 0, weight: [Float], bias: [Float]?, inChannels cin: Int,
                     outChannels cout: Int, kernel: Size3, stride: Size3, dilation: Size3, padding: Size3,
                     activation: Activation = .none) -> (shape: [Int], values: [Float]) {
    let (n, t, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
    func size(_ len: Int, _ k: Int, _ s: Int, _ d: Int, _ p: Int) -> Int { max(0, (len + 2 * p - ((k - 1) * d + 1)) / s + 1) }
    let ot = size(t, kernel.t, stride.t, dilation.t, padding.t)
    let oh = size(h, kernel.h, stride.h, dilation.h, padding.h)
    let ow = size(w, kernel.w, stride.w, dilation.w, padding.w)
    let input = x.toArray()
    var out = [Float](repeating: 0, count: n * ot * oh * ow * cout)
    for b in 0..<n { for z in 0..<ot { for y in 0..<oh { for xx in 0..<ow { for o in 0..<cout {
        var s = Double(bias?[o] ?? 0)
        for kt in 0..<kernel.t { for ky in 0..<kernel.h { for kx in 0..<kernel.w {
            let it = z * stride.t - padding.t + kt * dilation.t
            let iy = y * stride.h - padding.h + ky * dilation.h
            let ix = xx * stride.w - padding.w + kx * dilation.w
            if it < 0 || it >= t || iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
            for i in 0..<cin {
                let v = input[(((b * t + it) * h + iy) * w + ix) * c + inChannel + i]
                s += Double(v) * Double(weight[(((o * cin + i) * kernel.t + kt) * kernel.h + ky) * kernel.w + kx])
            }
        } } }
        out[(((b * ot + z) * oh + y) * ow + xx) * cout + o] = applyActivation(Float(s), activation)
    } } } } }
    return ([n, ot, oh, ow, cout], out)
}

struct Conv3DCase: CustomStringConvertible {
    var batch = 1
    var t = 5
    var h = 4
    var w = 6
    var cin: Int
    var cout: Int
    var kernel: Size3 = Size3(3, 3, 3)
    var stride: Size3 = 1
    var dilation: Size3 = 1
    var padding: Size3 = 0
    var activation: Activation = .none
    /// Extra channels around the input slice and the output slice.
    var inChannel = 0
    var inExtra = 0
    var outChannel = 0
    var outExtra = 0
    var description: String {
        "\(batch)x\(t)x\(h)x\(w)x\(cin)[\(inChannel)+\(inExtra)]->\(cout)[\(outChannel)+\(outExtra)] k\(kernel) s\(stride) d\(dilation) p\(padding) \(activation)"
    }
}

func checkConv3d(_ c: Conv3DCase, seed: UInt64, pool: ThreadPool = ThreadPool(threadCount: 2),
                 file: StaticString = #filePath, line: UInt = #line) {
    var rng = TestRandom(seed: seed)
    let channels = c.inChannel + c.cin + c.inExtra
    let x = randomTensor([c.batch, c.t, c.h, c.w, channels], &rng)
    let weight = rng.floats(c.cout * c.cin * c.kernel.t * c.kernel.h * c.kernel.w)
    let bias = rng.floats(c.cout)
    let weights = Conv3DWeights(oidhw: weight, bias: bias, outChannels: c.cout, inChannels: c.cin, kernel: c.kernel)
    let expected = referenceConv3d(x, inChannel: c.inChannel, weight: weight, bias: bias, inChannels: c.cin,
                                   outChannels: c.cout, kernel: c.kernel, stride: c.stride, dilation: c.dilation,
                                   padding: c.padding, activation: c.activation)
    let shape = weights.outputShape(input: x.shape, stride: c.stride, dilation: c.dilation, padding: c.padding)
    XCTAssertEqual(shape, expected.shape, "\(c)", file: file, line: line)
    let outChannels = c.outChannel + c.cout + c.outExtra
    let out = GuardedTensor(shape: Array(shape.prefix(4)) + [outChannels])
    conv3d(out: out.tensor, outChannel: c.outChannel, in: x, inChannel: c.inChannel, weights: weights,
           stride: c.stride, dilation: c.dilation, padding: c.padding, activation: c.activation, pool: pool)
    let all = out.tensor.toArray()
    var slice: [Float] = []
    var untouched = true
    for voxel in 0..<(all.count / outChannels) {
        for ch in 0..<outChannels {
            let v = all[voxel * outChannels + ch]
            if ch >= c.outChannel && ch < c.outChannel + c.cout {
                slice.append(v)
            } else if v.bitPattern != GuardedTensor.sentinel.bitPattern {
                untouched = false
            }
        }
    }
    XCTAssertTrue(untouched, "\(c): wrote outside its output channels", file: file, line: line)
    assertClose(slice, expected.values, tolerance: 2e-5, "\(c)", file: file, line: line)
    out.assertGuardsIntact("\(c)", file: file, line: line)
}

final class Convolution3DTests: XCTestCase {
    func testConv3dMatchesReferenceAcrossChannelTails() {
        var seed: UInt64 = 1000
        for cin in [1, 3, 15, 16, 17, 33] {
            for cout in [1, 15, 16, 17, 33] {
                seed += 1
                checkConv3d(Conv3DCase(cin: cin, cout: cout, padding: 1, activation: seed % 2 == 0 ? .relu : .none), seed: seed)
            }
        }
    }

    func testSpatialOneByThreeByThreeOverManyFramesAndRowTails() {
        // Output voxel counts 1...13 cross the 6-row tile in every way.
        var seed: UInt64 = 1100
        for t in 1...13 {
            seed += 1
            checkConv3d(Conv3DCase(batch: 1, t: t, h: 1, w: 1, cin: 5, cout: 17, kernel: Size3(1, 3, 3), padding: Size3(0, 1, 1)), seed: seed)
        }
        checkConv3d(Conv3DCase(batch: 2, t: 7, h: 5, w: 9, cin: 3, cout: 64, kernel: Size3(1, 3, 3), padding: Size3(0, 1, 1)), seed: 1120)
    }

    func testTemporalDilatedConvolutionsPadWithZerosPastTheEnds() {
        var seed: UInt64 = 1200
        for dilation in [1, 2, 4, 8] {
            for t in [1, 3, 9, 20] {
                seed += 1
                checkConv3d(Conv3DCase(t: t, h: 2, w: 3, cin: 32, cout: 16, kernel: Size3(3, 1, 1),
                                       dilation: Size3(dilation, 1, 1), padding: Size3(dilation, 0, 0)), seed: seed)
            }
        }
    }

    func testChannelSlicesOfInputAndOutput() {
        // Branch 3 of four: reads channels 64..<96 of a 128-channel tensor, writes 48..<64 of 64.
        checkConv3d(Conv3DCase(t: 9, h: 2, w: 3, cin: 32, cout: 16, kernel: Size3(3, 1, 1), dilation: Size3(4, 1, 1),
                               padding: Size3(4, 0, 0), activation: .relu, inChannel: 64, inExtra: 32, outChannel: 48, outExtra: 0),
                    seed: 1301)
        checkConv3d(Conv3DCase(t: 4, h: 3, w: 5, cin: 17, cout: 15, kernel: Size3(1, 3, 3), padding: Size3(0, 1, 1),
                               inChannel: 3, inExtra: 1, outChannel: 1, outExtra: 17), seed: 1302)
    }

    func testABandOfOutputRowsMatchesThoseRowsOfTheWholeOutput() {
        var rng = TestRandom(seed: 1601)
        let x = randomTensor([2, 3, 9, 5, 3], &rng)
        let weight = rng.floats(17 * 3 * 9), bias = rng.floats(17)
        let weights = Conv3DWeights(oidhw: weight, bias: bias, outChannels: 17, inChannels: 3, kernel: Size3(1, 3, 3))
        let whole = referenceConv3d(x, weight: weight, bias: bias, inChannels: 3, outChannels: 17, kernel: Size3(1, 3, 3),
                                    stride: 1, dilation: 1, padding: Size3(0, 1, 1), activation: .relu).values
        for rows in [0..<4, 4..<8, 8..<9] {
            let out = GuardedTensor(shape: [2, 3, rows.count, 5, 17])
            conv3d(out: out.tensor, in: x, weights: weights, padding: Size3(0, 1, 1), rows: rows, activation: .relu,
                   pool: ThreadPool(threadCount: 2))
            var expected: [Float] = []
            for frame in 0..<6 {
                let first = (frame * 9 + rows.lowerBound) * 5 * 17
                expected += whole[first..<(first + rows.count * 5 * 17)]
            }
            assertClose(out.tensor.toArray(), expected, tolerance: 2e-5, "rows \(rows)")
            out.assertGuardsIntact("rows \(rows)")
        }
    }

    func testStridesAndUnpaddedKernels() {
        checkConv3d(Conv3DCase(t: 7, h: 8, w: 9, cin: 4, cout: 18, stride: Size3(2, 2, 1)), seed: 1401)
        checkConv3d(Conv3DCase(t: 6, h: 7, w: 5, cin: 3, cout: 16, kernel: Size3(2, 3, 1), stride: Size3(1, 2, 2),
                               dilation: Size3(2, 1, 1), padding: Size3(1, 0, 2)), seed: 1402)
    }

    func testBatchNormIsFoldedIntoTheConvolution() {
        var rng = TestRandom(seed: 1500)
        let cin = 6, cout = 17, kernel = Size3(3, 1, 1)
        let x = randomTensor([1, 6, 2, 3, cin], &rng)
        let weight = rng.floats(cout * cin * 3)
        let bn = BatchNorm(gamma: rng.floats(cout), beta: rng.floats(cout), mean: rng.floats(cout),
                           variance: rng.floats(cout).map { abs($0) + 0.1 }, epsilon: 1e-3)
        let folded = Conv3DWeights(oidhw: weight, bias: nil, outChannels: cout, inChannels: cin, kernel: kernel, batchNorm: bn)
        let out = Tensor(shape: folded.outputShape(input: x.shape, dilation: Size3(2, 1, 1), padding: Size3(2, 0, 0)))
        conv3d(out: out, in: x, weights: folded, dilation: Size3(2, 1, 1), padding: Size3(2, 0, 0), pool: .serial)
        let raw = referenceConv3d(x, weight: weight, bias: nil, inChannels: cin, outChannels: cout, kernel: kernel,
                                  stride: 1, dilation: Size3(2, 1, 1), padding: Size3(2, 0, 0)).values
        let expected = raw.enumerated().map { i, v -> Float in
            let c = i % cout
            return (v - bn.mean[c]) / (bn.variance[c] + bn.epsilon).squareRoot() * bn.gamma[c] + bn.beta[c]
        }
        assertClose(out.toArray(), expected, tolerance: 1e-4, "conv3d + batch norm")
    }
}
