import XCTest
@testable import MarqueeNN

final class TensorTests: XCTestCase {
    func testStorageIs64ByteAligned() {
        for n in [1, 3, 17, 1000] {
            XCTAssertEqual(Int(bitPattern: Tensor(shape: [n]).data) % 64, 0)
        }
    }

    func testNewTensorIsZeroAndHoldsItsShape() {
        let t = Tensor(shape: [2, 3, 4, 5])
        XCTAssertEqual(t.count, 120)
        XCTAssertEqual([t.n, t.h, t.w, t.c], [2, 3, 4, 5])
        XCTAssertTrue(t.toArray().allSatisfy { $0 == 0 })
    }

    func testReshapeAndSliceShareStorage() {
        let t = Tensor(shape: [2, 3], values: [0, 1, 2, 3, 4, 5])
        let second = t.slice(1..<2)
        XCTAssertEqual(second.toArray(), [3, 4, 5])
        second[flat: 0] = 30
        XCTAssertEqual(t.reshaped([6]).toArray(), [0, 1, 2, 30, 4, 5])
    }
}

final class ThreadPoolTests: XCTestCase {
    func testParallelForCoversEveryIndexExactlyOnce() {
        for threads in [1, 2, 3, 8] {
            let pool = ThreadPool(threadCount: threads)
            for count in [1, 2, 5, 100] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
                hits.initialize(repeating: 0, count: count)
                pool.parallelFor(count: count) { range in
                    for i in range { hits[i] += 1 }
                }
                XCTAssertTrue((0..<count).allSatisfy { hits[$0] == 1 }, "threads \(threads) count \(count)")
                hits.deallocate()
            }
        }
    }
}
