import XCTest
@testable import MarqueeNN

/// The block as three reference convolutions: expand 1x1 + activation, depthwise +
/// activation, project 1x1, then the input added when `residual`.
struct BottleneckCase: CustomStringConvertible {
    var batch = 1
    var h = 9
    var w = 11
    var cin: Int
    /// Equal to cin when there is no expansion.
    var hidden: Int
    var cout: Int
    var expands = true
    var kernel = 3
    var stride = 1
    var padding: Padding2D = .same
    var activation: Activation = .relu6
    var residual: Bool { stride == 1 && cin == cout }
    var description: String {
        "\(batch)x\(h)x\(w)x\(cin) -> \(expands ? "\(hidden)" : "no expansion") -> \(cout) k\(kernel) s\(stride) \(padding) \(activation)"
    }
}

func checkBottleneck(_ c: BottleneckCase, seed: UInt64, pool: ThreadPool = ThreadPool(threadCount: 2),
                     split: BottleneckSplit = .rows, file: StaticString = #filePath, line: UInt = #line) {
    var rng = TestRandom(seed: seed)
    let x = randomTensor([c.batch, c.h, c.w, c.cin], &rng)
    let expandWeight = rng.floats(c.hidden * c.cin), expandBias = rng.floats(c.hidden)
    let depthwiseWeight = rng.floats(c.hidden * c.kernel * c.kernel), depthwiseBias = rng.floats(c.hidden)
    let projectWeight = rng.floats(c.cout * c.hidden, scale: 0.5), projectBias = rng.floats(c.cout)

    var hidden = x
    if c.expands {
        let e = referenceConv2d(x, weight: expandWeight, bias: expandBias, outChannels: c.hidden, kernel: 1, groups: 1,
                                stride: 1, dilation: 1, padding: .valid, activation: c.activation)
        hidden = Tensor(shape: e.shape, values: e.values)
    }
    let d = referenceConv2d(hidden, weight: depthwiseWeight, bias: depthwiseBias, outChannels: c.hidden,
                            kernel: Size2(c.kernel, c.kernel), groups: c.hidden, stride: Size2(c.stride, c.stride),
                            dilation: 1, padding: c.padding, activation: c.activation)
    var expected = referenceConv2d(Tensor(shape: d.shape, values: d.values), weight: projectWeight, bias: projectBias,
                                   outChannels: c.cout, kernel: 1, groups: 1, stride: 1, dilation: 1, padding: .valid)
    if c.residual {
        let input = x.toArray()
        for i in 0..<expected.values.count { expected.values[i] += input[i] }
    }

    let expand = c.expands ? Conv2DWeights(oihw: expandWeight, bias: expandBias, outChannels: c.hidden,
                                           inChannels: c.cin, kernel: 1) : nil
    let depthwise = Conv2DWeights(oihw: depthwiseWeight, bias: depthwiseBias, outChannels: c.hidden, inChannels: c.hidden,
                                  kernel: Size2(c.kernel, c.kernel), groups: c.hidden)
    let project = Conv2DWeights(oihw: projectWeight, bias: projectBias, outChannels: c.cout, inChannels: c.hidden, kernel: 1)
    let out = GuardedTensor(shape: expected.shape)
    invertedBottleneck(out: out.tensor, in: x, expand: expand, depthwise: depthwise, project: project,
                       stride: c.stride, padding: c.padding, activation: c.activation, residual: c.residual,
                       split: split, pool: pool)
    let context = "\(c) split by \(split) on \(pool.threadCount) threads"
    assertClose(out.tensor.toArray(), expected.values, tolerance: 1e-4, context, file: file, line: line)
    out.assertGuardsIntact(context, file: file, line: line)
}

final class InvertedBottleneckTests: XCTestCase {
    func testBlockMatchesReferenceAcrossChannelTails() {
        var seed: UInt64 = 5000
        // One hidden channel is not a depthwise convolution to Conv2DWeights (groups 1), so the sweep starts at 2.
        for cin in [1, 15, 16, 17] {
            for hidden in [2, 15, 16, 17, 33] {
                for cout in [1, 16, 17, cin] {
                    seed += 1
                    checkBottleneck(BottleneckCase(cin: cin, hidden: hidden, cout: cout,
                                                   stride: seed % 2 == 0 ? 1 : 2), seed: seed)
                }
            }
        }
    }

    func testBlockMatchesReferenceAcrossWidthsKernelsAndStrides() {
        // Widths around the depthwise kernel's four-pixel groups and the GEMM's six-row tiles.
        var seed: UInt64 = 5200
        for w in [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17, 33] {
            for (kernel, stride) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
                seed += 1
                checkBottleneck(BottleneckCase(h: 6, w: w, cin: 8, hidden: 48, cout: seed % 2 == 0 ? 8 : 12,
                                               kernel: kernel, stride: stride), seed: seed)
            }
        }
    }

    func testBlockWithoutExpansionMatchesReference() {
        var seed: UInt64 = 5400
        for channels in [2, 15, 16, 17, 32, 33] {
            for stride in [1, 2] {
                seed += 1
                checkBottleneck(BottleneckCase(cin: channels, hidden: channels, cout: 16, expands: false, stride: stride), seed: seed)
            }
        }
    }

    func testBlockMatchesReferenceForBatchesPaddingsAndActivations() {
        checkBottleneck(BottleneckCase(batch: 3, h: 7, w: 10, cin: 16, hidden: 96, cout: 16, kernel: 5), seed: 5501)
        checkBottleneck(BottleneckCase(batch: 2, h: 14, w: 14, cin: 24, hidden: 144, cout: 40, kernel: 5, stride: 2), seed: 5502)
        checkBottleneck(BottleneckCase(h: 8, w: 9, cin: 16, hidden: 32, cout: 16, padding: .symmetric(1), activation: .relu), seed: 5503)
        checkBottleneck(BottleneckCase(h: 8, w: 9, cin: 16, hidden: 32, cout: 24, kernel: 5, stride: 2,
                                       padding: .valid, activation: .none), seed: 5504)
        checkBottleneck(BottleneckCase(h: 5, w: 6, cin: 16, hidden: 17, cout: 16, activation: .gelu), seed: 5505)
    }

    func testBlockMatchesReferenceOnOneThreadAndWithMoreBandsThanRows() {
        checkBottleneck(BottleneckCase(h: 12, w: 12, cin: 16, hidden: 33, cout: 16), seed: 5601, pool: .serial)
        checkBottleneck(BottleneckCase(h: 2, w: 5, cin: 16, hidden: 32, cout: 16, kernel: 5), seed: 5602, pool: ThreadPool(threadCount: 4))
        checkBottleneck(BottleneckCase(h: 1, w: 1, cin: 3, hidden: 6, cout: 3, kernel: 3, stride: 2), seed: 5603)
    }

    /// 700 hidden channels on 9-pixel rows: the L2 budget of ring and buffer allows three
    /// output rows per group, so rows come in groups of three and a shorter last group.
    func testBlockMatchesReferenceWhenTheRingBudgetShortensTheRowGroups() {
        let ring = PaddedRowRing(paddedWidth: 13, pixelStride: 700, kernelH: 5, stride: 1, extraBytesPerOutRow: 9 * 700 * 4)
        XCTAssertEqual(ring.outRows, 3)
        checkBottleneck(BottleneckCase(h: 10, w: 9, cin: 16, hidden: 700, cout: 16, kernel: 5), seed: 5604, pool: .serial)
    }

    /// Split by hidden channels: slices of whole 16-channel blocks (two of 48 channels, or
    /// of 32 and 33 with a 1-channel tail; more threads than blocks), with and without
    /// expansion and residual, strides 1 and 2, and each image whole when the batch fills
    /// the threads.
    func testBlockSplitByChannelsMatchesReference() {
        var seed: UInt64 = 5700
        for (h, w) in [(7, 7), (14, 14), (5, 9), (1, 1)] {
            for (kernel, stride) in [(3, 1), (5, 1), (3, 2), (5, 2)] {
                for hidden in [96, 65, 16] {
                    seed += 1
                    checkBottleneck(BottleneckCase(h: h, w: w, cin: 24, hidden: hidden, cout: seed % 2 == 0 ? 24 : 40,
                                                   kernel: kernel, stride: stride), seed: seed, split: .channels)
                }
            }
        }
        checkBottleneck(BottleneckCase(h: 7, w: 7, cin: 33, hidden: 33, cout: 16, expands: false), seed: 5790, split: .channels)
        checkBottleneck(BottleneckCase(h: 7, w: 7, cin: 32, hidden: 32, cout: 32, expands: false, kernel: 5), seed: 5791,
                        pool: ThreadPool(threadCount: 3), split: .channels)
        checkBottleneck(BottleneckCase(batch: 3, h: 7, w: 7, cin: 16, hidden: 96, cout: 16, kernel: 5), seed: 5792, split: .channels)
        checkBottleneck(BottleneckCase(h: 14, w: 14, cin: 16, hidden: 96, cout: 16), seed: 5793, pool: .serial, split: .channels)
        // 700 channels on 7-pixel rows with a 5x5 kernel: a slice's depthwise pass walks it in
        // parts of 320 channels (two parts per slice of 352, three on one thread), and on one
        // thread the projection's 700 x 40 weights come in two chunks of panels.
        for (pool, channels) in [(ThreadPool(threadCount: 2), 24), (.serial, 40)] {
            checkBottleneck(BottleneckCase(h: 7, w: 7, cin: channels, hidden: 700, cout: channels, kernel: 5), seed: 5794,
                            pool: pool, split: .channels)
        }
    }
}
