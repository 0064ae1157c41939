// Splits kernel work across the machine's cores.
import Dispatch
import Foundation

/// Runs a loop's items on up to `threadCount` threads, each taking one contiguous range.
///
/// Built on `DispatchQueue.concurrentPerform`, which keeps libdispatch's worker threads warm;
/// a fork/join costs a few microseconds, small next to a convolution layer. Kernels give
/// `parallelFor` an estimate of their work and stay on the calling thread when splitting
/// would cost more than it saves.
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

    /// Calls `body` with disjoint ranges that together cover `0..<count`.
    /// `work` estimates the total floating-point operations, to skip threading small jobs.
    public func parallelFor(count: Int, work: Int = .max, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let tasks = work < ThreadPool.minimumParallelWork ? 1 : min(threadCount, count)
        if tasks == 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: tasks) { t in
                let lo = count * t / tasks
                let hi = count * (t + 1) / tasks
                if lo < hi { body(lo..<hi) }
            }
        }
    }
}
