// Splits kernel work across the machine's cores.
import Dispatch
import Foundation
import Synchronization

/// Runs a loop's items on up to `threadCount` threads.
///
/// Built on `DispatchQueue.concurrentPerform`, which keeps libdispatch's worker threads warm;
/// a fork/join costs a few microseconds, small next to a convolution layer. Kernels give
/// `parallelFor` an estimate of their work and stay on the calling thread when splitting
/// would cost more than it saves. The items are cut into a few contiguous ranges per thread
/// and each thread takes the next free range: when another process or Marquee's own decoder
/// holds a core, the other thread does the rest instead of waiting for it.
public final class ThreadPool: Sendable {
    public let threadCount: Int

    /// One thread per active processor.
    public static let shared = ThreadPool(threadCount: ProcessInfo.processInfo.activeProcessorCount)
    /// Runs everything on the calling thread.
    public static let serial = ThreadPool(threadCount: 1)

    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
    }

    /// Below this many floating-point operations a kernel runs on the calling thread.
    public static let minimumParallelWork = 200_000

    /// Ranges per thread: enough to even out a stalled thread, few enough that per-range
    /// setup (scratch buffers, a GEMM's row pointers) stays negligible.
    static let rangesPerThread = 4

    /// Calls `body` with disjoint ranges that together cover `0..<count`.
    /// `work` estimates the total floating-point operations, to skip threading small jobs.
    public func parallelFor(count: Int, work: Int = .max, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let tasks = work < ThreadPool.minimumParallelWork ? 1 : min(threadCount, count)
        if tasks == 1 {
            body(0..<count)
            return
        }
        let ranges = min(count, tasks * Self.rangesPerThread)
        let nextRange = Atomic<Int>(0)
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: tasks) { _ in
                while true {
                    let r = nextRange.wrappingAdd(1, ordering: .relaxed).oldValue
                    if r >= ranges { break }
                    body((count * r / ranges)..<(count * (r + 1) / ranges))
                }
            }
        }
    }
}
