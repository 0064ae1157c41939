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

    /// A loop inside a loop's body finds the helpers taken and runs on its caller's thread.
    func testNestedLoopsCoverEveryPairExactlyOnce() {
        let pool = ThreadPool(threadCount: 2)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 64 * 64)
        hits.initialize(repeating: 0, count: 64 * 64)
        defer { hits.deallocate() }
        pool.parallelFor(count: 64) { outer in
            for i in outer {
                pool.parallelFor(count: 64) { inner in
                    for j in inner { hits[i * 64 + j] += 1 }
                }
            }
        }
        XCTAssertTrue((0..<64 * 64).allSatisfy { hits[$0] == 1 })
    }

    /// Two threads running loops on one pool at the same time both get every index once.
    func testConcurrentCallersEachCoverTheirLoop() {
        let pool = ThreadPool(threadCount: 2)
        let count = 1000, rounds = 2000
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 2 * count)
        hits.initialize(repeating: 0, count: 2 * count)
        defer { hits.deallocate() }
        nonisolated(unsafe) let shared = hits
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<rounds {
                pool.parallelFor(count: count) { range in
                    for i in range { shared[caller * count + i] += 1 }
                }
            }
        }
        XCTAssertTrue((0..<2 * count).allSatisfy { hits[$0] == rounds })
    }

    /// A pool's helper threads end with the pool: pools made and dropped leave no threads behind.
    func testDroppedPoolsLeaveNoThreads() throws {
        func threadCount() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count }
        let before = try threadCount()
        for _ in 0..<20 {
            let pool = ThreadPool(threadCount: 4)
            pool.parallelFor(count: 8) { _ in }
        }
        var after = try threadCount()
        let deadline = Date().addingTimeInterval(5)
        while after > before + 3 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
            after = try threadCount()
        }
        // 60 helpers were started; a few threads may come and go on their own (libdispatch).
        XCTAssertLessThanOrEqual(after, before + 3)
    }
}
