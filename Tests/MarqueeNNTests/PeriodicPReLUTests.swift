import MarqueeNN
import XCTest

final class PeriodicPReLUTests: XCTestCase {
    /// Against `prelu` for channel counts below, at and above the vector width, and tensors
    /// that end inside a period.
    func testMatchesPReLUForEveryChannelCountAndTail() {
        for channels in [1, 3, 10, 15, 16, 17, 28, 32, 33, 48] {
            for pixels in [1, 5, 7, 64, 101] {
                let values = (0..<(pixels * channels)).map { Float(($0 * 7919) % 201 - 100) / 10 }
                let slopes = (0..<channels).map { Float($0 + 1) / 8 }
                let input = Tensor(shape: [1, 1, pixels, channels], values: values)
                let ours = Tensor(shape: input.shape, repeating: 12345)
                let reference = Tensor(shape: input.shape)
                preluPeriodic(out: ours, in: input, slopes: slopes)
                prelu(out: reference, in: input, slopes: slopes)
                XCTAssertEqual(ours.toArray(), reference.toArray(), "\(channels) channels, \(pixels) pixels")
            }
        }
    }

    func testWorksInPlace() {
        let t = Tensor(shape: [1, 1, 3, 10], values: (0..<30).map { Float($0) - 15 })
        preluPeriodic(out: t, in: t, slopes: [Float](repeating: 0.5, count: 10))
        XCTAssertEqual(t.toArray(), (0..<30).map { v in let x = Float(v) - 15; return x < 0 ? x * 0.5 : x })
    }
}
