// Shared test helpers: deterministic random data, sentinel-guarded outputs, comparisons
// that name the first index that differs.
import XCTest
@testable import MarqueeNN

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float() * scale } }
}

/// A tensor placed between two runs of sentinel values in a larger storage, and itself
/// prefilled with the sentinel: a kernel that writes out of bounds changes a guard, one
/// that skips an element leaves the sentinel behind.
struct GuardedTensor {
    static let guardCount = 37
    static let sentinel: Float = -1.234_5e30
    let tensor: Tensor
    let storage: TensorStorage

    init(shape: [Int]) {
        let count = shape.reduce(1, *)
        storage = TensorStorage(capacity: count + 2 * GuardedTensor.guardCount)
        storage.pointer.update(repeating: GuardedTensor.sentinel, count: count + 2 * GuardedTensor.guardCount)
        tensor = Tensor(storage: storage, offset: GuardedTensor.guardCount, shape: shape)
    }

    func assertGuardsIntact(_ context: String, file: StaticString = #filePath, line: UInt = #line) {
        let g = GuardedTensor.guardCount, count = tensor.count
        for i in 0..<g where storage.pointer[i].bitPattern != GuardedTensor.sentinel.bitPattern {
            XCTFail("\(context): write before the output at guard \(i - g)", file: file, line: line)
            return
        }
        for i in 0..<g where storage.pointer[g + count + i].bitPattern != GuardedTensor.sentinel.bitPattern {
            XCTFail("\(context): write after the output at element \(count + i)", file: file, line: line)
            return
        }
    }
}

/// Fails at the first index where |actual - expected| > tolerance * max(1, |expected|).
func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-5, _ context: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(context): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        if a.isNaN != e.isNaN || abs(a - e) > tolerance * max(1, abs(e)) {
            XCTFail("\(context): index \(i) is \(a), expected \(e)", file: file, line: line)
            return
        }
    }
}

func randomTensor(_ shape: [Int], _ rng: inout TestRandom, scale: Float = 1) -> Tensor {
    Tensor(shape: shape, values: rng.floats(shape.reduce(1, *), scale: scale))
}

func applyActivation(_ x: Float, _ activation: Activation) -> Float {
    switch activation {
    case .none: return x
    case .relu: return max(x, 0)
    case .relu6: return min(max(x, 0), 6)
    case .gelu: return Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot())))
    }
}
