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

/// Several temporal branches against the direct reference, branch by branch: each reads its
/// channel slice of one input and writes its slice of one output; channels no branch writes
/// keep the sentinel.
func checkTemporalBranches(clips: Int = 1, frames: Int, height: Int, width: Int, inChannels: Int, outChannels: Int,
                           branches spec: [(cin: Int, cout: Int, taps: Int, dilation: Int, inChannel: Int, outChannel: Int)],
                           activation: Activation = .relu, byWinograd: Bool = false, tolerance: Float = 2e-5, seed: UInt64,
                           file: StaticString = #filePath, line: UInt = #line) {
    var rng = TestRandom(seed: seed)
    let x = randomTensor([clips, frames, height, width, inChannels], &rng)
    var branches: [TemporalBranch] = []
    var expected: [(values: [Float], outChannel: Int, cout: Int)] = []
    for b in spec {
        let weight = rng.floats(b.cout * b.cin * b.taps)
        let bias = rng.floats(b.cout)
        let kernel = Size3(b.taps, 1, 1)
        branches.append(TemporalBranch(weights: Conv3DWeights(oidhw: weight, bias: bias, outChannels: b.cout, inChannels: b.cin,
                                                              kernel: kernel),
                                       dilation: b.dilation, inChannel: b.inChannel, outChannel: b.outChannel))
        XCTAssertEqual(branches.last!.transformedTaps.isEmpty, !byWinograd,
                       "a \(b.cin) -> \(b.cout) branch of \(b.taps) taps runs \(byWinograd ? "directly" : "by F(4, 3)")", file: file, line: line)
        let reference = referenceConv3d(x, inChannel: b.inChannel, weight: weight, bias: bias, inChannels: b.cin,
                                        outChannels: b.cout, kernel: kernel, stride: 1, dilation: Size3(b.dilation, 1, 1),
                                        padding: Size3((b.taps - 1) / 2 * b.dilation, 0, 0), activation: activation)
        expected.append((reference.values, b.outChannel, b.cout))
    }
    let out = GuardedTensor(shape: [clips, frames, height, width, outChannels])
    temporalConvolution(out: out.tensor, in: x, branches: branches, activation: activation, pool: ThreadPool(threadCount: 2))
    let all = out.tensor.toArray()
    let voxels = all.count / outChannels
    var written = [Bool](repeating: false, count: outChannels)
    for e in expected {
        var slice: [Float] = []
        for v in 0..<voxels { for c in 0..<e.cout { slice.append(all[v * outChannels + e.outChannel + c]) } }
        assertClose(slice, e.values, tolerance: tolerance, "branch writing \(e.outChannel)..<\(e.outChannel + e.cout)", file: file, line: line)
        for c in 0..<e.cout { written[e.outChannel + c] = true }
    }
    for v in 0..<voxels {
        for c in 0..<outChannels where !written[c] {
            XCTAssertEqual(all[v * outChannels + c].bitPattern, GuardedTensor.sentinel.bitPattern,
                           "channel \(c) belongs to no branch but was written", file: file, line: line)
        }
    }
    out.assertGuardsIntact("temporal branches", file: file, line: line)
}

/// F(4, 3) in time rounds differently from the direct sums: over 3 x 128 random terms, up to
/// 3e-5 relative where the direct pass stays within 2e-5.
private let winogradTolerance: Float = 5e-5

/// A 3-tap branch at dilation 2 with random weights and bias, reading every channel of `x`, and
/// the direct reference's output for it.
private func dilatedBranch(over x: Tensor, outChannels: Int, rng: inout TestRandom) -> (TemporalBranch, [Float]) {
    let inChannels = x.shape[4]
    let weight = rng.floats(outChannels * inChannels * 3), bias = rng.floats(outChannels)
    let weights = Conv3DWeights(oidhw: weight, bias: bias, outChannels: outChannels, inChannels: inChannels, kernel: Size3(3, 1, 1))
    let expected = referenceConv3d(x, weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels,
                                   kernel: Size3(3, 1, 1), stride: 1, dilation: Size3(2, 1, 1), padding: Size3(2, 0, 0)).values
    return (TemporalBranch(weights: weights, dilation: 2, inChannel: 0, outChannel: 0), expected)
}

final class TemporalConvolutionTests: XCTestCase {
    func testFourDilatedBranchesAsInATransNetV2Cell() {
        // f = 16: branch b reads channels 32b..<32b+32 and writes 16b..<16b+16, dilation 2^b.
        let branches = (0..<4).map { b in (cin: 32, cout: 16, taps: 3, dilation: 1 << b, inChannel: 32 * b, outChannel: 16 * b) }
        checkTemporalBranches(frames: 20, height: 3, width: 4, inChannels: 128, outChannels: 64, branches: branches, seed: 2001)
    }

    func testWideBranchesByWinogradInTimeAsInTransNetV2Block2() {
        // f = 64: branch b reads channels 128b..<128b+128, dilation 2^b. 23 frames: sequences
        // of every length from 2 (dilation 8) to 23, none a multiple of the 4-frame tile; 8
        // pixels: a full 6-pixel block and a short one.
        let branches = (0..<4).map { b in (cin: 128, cout: 64, taps: 3, dilation: 1 << b, inChannel: 128 * b, outChannel: 64 * b) }
        checkTemporalBranches(frames: 23, height: 2, width: 4, inChannels: 512, outChannels: 256, branches: branches,
                              byWinograd: true, tolerance: winogradTolerance, seed: 2002)
    }

    func testWinogradInTimeWithChannelTailsAndOnlyPadding() {
        // 130 in-channels end in a partial vector, 65 out-channels in a one-column panel; 1 to 5
        // frames at dilations 1 and 8 leave tiles mostly, or only, over padding.
        var seed: UInt64 = 2600
        for frames in [1, 2, 5] {
            for dilation in [1, 8] {
                seed += 1
                checkTemporalBranches(frames: frames, height: 1, width: 7, inChannels: 131, outChannels: 67,
                                      branches: [(cin: 130, cout: 65, taps: 3, dilation: dilation, inChannel: 1, outChannel: 2)],
                                      activation: seed % 2 == 0 ? .relu : .none, byWinograd: true,
                                      tolerance: winogradTolerance, seed: seed)
            }
        }
    }

    func testNarrowBranchesAndOtherTapCountsRunDirectly() {
        checkTemporalBranches(frames: 6, height: 1, width: 3, inChannels: 200, outChannels: 64,
                              branches: [(cin: 64, cout: 32, taps: 3, dilation: 1, inChannel: 0, outChannel: 0),
                                         (cin: 128, cout: 32, taps: 5, dilation: 1, inChannel: 64, outChannel: 32)],
                              seed: 2701)
    }

    func testFramesFewerThanTheDilationReadOnlyPadding() {
        for frames in [1, 2, 5] {
            checkTemporalBranches(frames: frames, height: 2, width: 3, inChannels: 8, outChannels: 4,
                                  branches: [(cin: 8, cout: 4, taps: 3, dilation: 8, inChannel: 0, outChannel: 0)],
                                  seed: 2100 + UInt64(frames))
        }
    }

    func testChannelAndPixelTails() {
        // Pixel counts 1...13 cross the 6-row tile; channel counts cross the 16-lane panels.
        var seed: UInt64 = 2200
        for pixels in 1...13 {
            for (cin, cout) in [(1, 1), (15, 17), (16, 16), (17, 33)] {
                seed += 1
                checkTemporalBranches(frames: 4, height: 1, width: pixels, inChannels: cin + 2, outChannels: cout + 3,
                                      branches: [(cin: cin, cout: cout, taps: 3, dilation: 1, inChannel: 1, outChannel: 2)],
                                      activation: seed % 2 == 0 ? .relu : .none, seed: seed)
            }
        }
    }

    func testClipsAreConvolvedSeparately() {
        // Two clips of 6 frames: taps never reach from one clip into the other.
        checkTemporalBranches(clips: 2, frames: 6, height: 2, width: 2, inChannels: 5, outChannels: 7,
                              branches: [(cin: 5, cout: 3, taps: 3, dilation: 2, inChannel: 0, outChannel: 0),
                                         (cin: 4, cout: 4, taps: 5, dilation: 1, inChannel: 1, outChannel: 3)],
                              seed: 2301)
    }

    func testOnlyTheRequestedFramesAreWrittenAndTheirTapsReachTheOthers() {
        // Frames 3..<7 of two 9-frame clips: taps at dilation 2 read frames 1...8 of each clip.
        // A narrow branch (direct) and a wide one (F(4, 3), whose tiles also cover unwritten frames).
        for (inChannels, outChannels, tolerance) in [(4, 5, Float(2e-5)), (128, 64, winogradTolerance)] {
            var rng = TestRandom(seed: 2501)
            let x = randomTensor([2, 9, 2, 3, inChannels], &rng)
            let (branch, expected) = dilatedBranch(over: x, outChannels: outChannels, rng: &rng)
            let out = GuardedTensor(shape: [2, 9, 2, 3, outChannels])
            temporalConvolution(out: out.tensor, in: x, branches: [branch], frames: 3..<7, pool: ThreadPool(threadCount: 2))
            let all = out.tensor.toArray()
            let frameFloats = 2 * 3 * outChannels
            for clip in 0..<2 {
                for t in 0..<9 {
                    let at = (clip * 9 + t) * frameFloats
                    let written = Array(all[at..<(at + frameFloats)])
                    if (3..<7).contains(t) {
                        assertClose(written, Array(expected[at..<(at + frameFloats)]), tolerance: tolerance,
                                    "\(inChannels) channels: clip \(clip) frame \(t)")
                    } else {
                        XCTAssertTrue(written.allSatisfy { $0.bitPattern == GuardedTensor.sentinel.bitPattern },
                                      "\(inChannels) channels: clip \(clip) frame \(t) was written")
                    }
                }
            }
            out.assertGuardsIntact("\(inChannels) channels: frames 3..<7")
        }
    }

    func testABandOfRowsIsWrittenIntoItsRowsOfTheOutput() {
        // Input: rows 3..<5 of a 6-row output, 5 frames; rows 0..<3 and 5 stay untouched. A
        // narrow branch (direct) and a wide one (F(4, 3)).
        for (inChannels, outChannels, tolerance) in [(4, 2, Float(2e-5)), (128, 64, winogradTolerance)] {
            var rng = TestRandom(seed: 2401)
            let band = randomTensor([1, 5, 2, 3, inChannels], &rng)
            let (branch, expected) = dilatedBranch(over: band, outChannels: outChannels, rng: &rng)
            let out = GuardedTensor(shape: [1, 5, 6, 3, outChannels])
            temporalConvolution(out: out.tensor, outRow: 3, in: band, branches: [branch], pool: ThreadPool(threadCount: 2))
            let all = out.tensor.toArray()
            let rowFloats = 3 * outChannels
            var inBand: [Float] = []
            for t in 0..<5 {
                for y in 0..<6 {
                    let row = Array(all[((t * 6 + y) * rowFloats)..<((t * 6 + y + 1) * rowFloats)])
                    if (3..<5).contains(y) {
                        inBand += row
                    } else {
                        XCTAssertTrue(row.allSatisfy { $0.bitPattern == GuardedTensor.sentinel.bitPattern },
                                      "\(inChannels) channels: frame \(t) row \(y) was written")
                    }
                }
            }
            assertClose(inBand, expected, tolerance: tolerance, "\(inChannels) channels: band rows 3..<5")
            out.assertGuardsIntact("\(inChannels) channels: band rows 3..<5")
        }
    }

    func testBatchNormIsFoldedIntoTheBranchWeights() {
        var rng = TestRandom(seed: 1500)
        let cin = 6, cout = 17
        let x = randomTensor([1, 6, 2, 3, cin], &rng)
        let weight = rng.floats(cout * cin * 3)
        let bn = BatchNorm(gamma: rng.floats(cout), beta: rng.floats(cout), mean: rng.floats(cout),
                           variance: rng.floats(cout).map { abs($0) + 0.1 }, epsilon: 1e-3)
        let folded = Conv3DWeights(oidhw: weight, bias: nil, outChannels: cout, inChannels: cin, kernel: Size3(3, 1, 1), batchNorm: bn)
        let out = Tensor(shape: [1, 6, 2, 3, cout])
        temporalConvolution(out: out, in: x, branches: [TemporalBranch(weights: folded, dilation: 2, inChannel: 0, outChannel: 0)],
                            pool: .serial)
        let raw = referenceConv3d(x, weight: weight, bias: nil, inChannels: cin, outChannels: cout, kernel: Size3(3, 1, 1),
                                  stride: 1, dilation: Size3(2, 1, 1), padding: Size3(2, 0, 0)).values
        let expected = raw.enumerated().map { i, v -> Float in
            let c = i % cout
            return (v - bn.mean[c]) / (bn.variance[c] + bn.epsilon).squareRoot() * bn.gamma[c] + bn.beta[c]
        }
        assertClose(out.toArray(), expected, tolerance: 1e-4, "temporal branch + batch norm")
    }
}
