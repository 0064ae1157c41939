import XCTest
@testable import MarqueeNN

final class AttentionTests: XCTestCase {
    /// Packed sequences of lengths across the vector tails, head sizes across them too, against
    /// the plain Double loop; the output is guarded by sentinels.
    func testPackedAttentionMatchesTheReferenceAcrossLengthsAndHeadSizes() {
        var rng = TestRandom(seed: 6)
        for headSize in [1, 15, 16, 17, 33, 64] {
            for lengths in [[1], [15], [16, 17], [1, 33, 2], [0, 5, 0], [40]] {
                let heads = 3, d = heads * headSize
                var offsets = [0]
                for l in lengths { offsets.append(offsets.last! + l) }
                let tokens = offsets.last!
                let qkv = Tensor(shape: [tokens, 3 * d], values: rng.floats(tokens * 3 * d, scale: 2))
                let out = GuardedTensor(shape: [tokens, d])
                let expected = Tensor(shape: [tokens, d])
                packedSelfAttention(out: out.tensor, qkv: qkv, offsets: offsets, heads: heads, headSize: headSize, scale: 0.3)
                packedSelfAttentionReference(out: expected, qkv: qkv, offsets: offsets, heads: heads, headSize: headSize, scale: 0.3)
                assertClose(out.tensor.toArray(), expected.toArray(), tolerance: 2e-5, "head \(headSize) lengths \(lengths)")
                out.assertGuardsIntact("head \(headSize) lengths \(lengths)")
            }
        }
    }

    /// A sequence attends only to itself: packing it beside others changes nothing.
    func testSequencesInAPackedBatchDoNotSeeEachOther() {
        var rng = TestRandom(seed: 7)
        let heads = 2, headSize = 8, d = heads * headSize
        let a = rng.floats(5 * 3 * d), b = rng.floats(9 * 3 * d)
        let alone = Tensor(shape: [5, d])
        packedSelfAttention(out: alone, qkv: Tensor(shape: [5, 3 * d], values: a), offsets: [0, 5],
                            heads: heads, headSize: headSize, scale: 0.5)
        let packed = Tensor(shape: [14, d])
        packedSelfAttention(out: packed, qkv: Tensor(shape: [14, 3 * d], values: b + a), offsets: [0, 9, 14],
                            heads: heads, headSize: headSize, scale: 0.5)
        XCTAssertEqual(Array(packed.toArray()[(9 * d)...]), alone.toArray())
    }
}
