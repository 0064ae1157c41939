import MarqueeNN
import XCTest

/// The direct 8-output convolution against the GEMM convolution, across widths that leave
/// every tail of its four-pixel blocks.
final class NarrowConvolutionTests: XCTestCase {
    private func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float((($0 &* 2654435761 &+ seed) >> 7) % 2001) / 1000 - 1 }
    }

    func testMatchesTheGEMMConvolutionAcrossWidthTails() {
        for inChannels in [1, 3, 8] {
            for width in [3, 4, 5, 6, 7, 8, 9, 13] {
                let kernel = 3
                let weight = values(kernel * kernel * inChannels * 8, seed: inChannels)
                let bias = values(8, seed: 99)
                let input = Tensor(shape: [2, 5, width, inChannels], values: values(2 * 5 * width * inChannels, seed: width))
                let narrow = NarrowConv2DWeights(hwio: weight, bias: bias, inChannels: inChannels, kernel: 3)
                let reference = Conv2DWeights(hwio: weight, bias: bias, outChannels: 8, inChannels: inChannels, kernel: 3)
                let sentinel: Float = 12345
                let ours = Tensor(shape: narrow.outputShape(input: input.shape), repeating: sentinel)
                let theirs = Tensor(shape: reference.outputShape(input: input.shape))
                narrowConv2d(out: ours, in: input, weights: narrow, activation: .relu)
                conv2d(out: theirs, in: input, weights: reference, activation: .relu)
                let diff = zip(ours.toArray(), theirs.toArray()).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(diff, 1e-5, "in \(inChannels), width \(width)")
            }
        }
    }
}
